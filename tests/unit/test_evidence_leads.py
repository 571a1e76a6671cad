"""Leads: what failing checks and firing alerts point at, turned into pods."""

from warroom.actions.evidence.leads import (
    Lead,
    leads_from_labels,
    leads_from_query,
    pods_behind,
    unique,
)
from warroom.model import Kind


def pod(name: str, labels: dict[str, str], containers: tuple[str, ...] = ("app",)) -> dict:
    return {
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [{"name": c} for c in containers]},
    }


PODS = [
    pod("checkout-api-7d9f8c6b5-abcde", {"app": "checkout-api"}),
    pod("inventory-5c7d9-x2k4q", {"app": "inventory"}, ("inventory",)),
    pod("redis-cart-0", {"app": "redis-cart"}),
    pod("frontend-69844bcc95-9bj6f", {"app.kubernetes.io/name": "frontend"}),
]
SERVICES = [{"metadata": {"name": "checkout-api"}, "spec": {"selector": {"app": "checkout-api"}}}]


def test_equality_matchers_of_a_query_are_leads() -> None:
    expr = (
        'sum(rate(http_requests_total{namespace="shop", service="checkout-api", code=~"5.."}[5m]))'
        ' / sum(rate(x{job!="probe", container="inventory"}[5m]))'
    )
    got = leads_from_query(expr, "check errors crit")
    assert [(lead.kind, lead.value) for lead in got] == [
        ("service", "checkout-api"),
        ("container", "inventory"),
    ]


def test_leads_become_pods_through_services_labels_names_and_containers() -> None:
    leads = unique(
        [
            *leads_from_labels({"service": "checkout-api", "team": "x"}, "alert A firing"),
            *leads_from_labels({"container": "inventory"}, "check B crit"),
            Lead("deployment", "checkout-api", "check C warn"),
            Lead("workload", "redis-cart", "alert D firing"),
            Lead("app", "frontend", "alert E firing"),
            Lead("selector", "app=nothing", "check F crit"),
        ]
    )
    behind = pods_behind(leads, PODS, SERVICES)
    assert behind == {
        "checkout-api-7d9f8c6b5-abcde": ["alert A firing", "check C warn"],
        "inventory-5c7d9-x2k4q": ["check B crit"],
        "redis-cart-0": ["alert D firing"],
        "frontend-69844bcc95-9bj6f": ["alert E firing"],
    }


def test_a_bundle_without_pod_data_ticks_nothing(declare) -> None:
    room = declare(severity="P1")
    room.record(Kind.EVIDENCE, "Evidence bundle shop (0 pods)", {"pods": 0}, source="ann")
    assert not room.state.checklist["evidence-preserved"].done
    room.record(Kind.EVIDENCE, "Evidence bundle shop (2 pods)", {"pods": 2}, source="ann")
    assert room.state.checklist["evidence-preserved"].done
