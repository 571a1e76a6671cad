"""Which pods the trouble points at, when none of them looks unhealthy.

In a dependency saturating, every pod stays Running and Ready: "the unhealthy pods" is an empty
list, and a bundle of them preserves nothing. The failing checks and the firing alerts name the
workloads, though: their PromQL matchers and labels say `service="checkout-api"`,
`container="inventory"`, `pod=...`, `deployment=...`; a check may also name a `pods` label
selector itself. Those are the leads; `pods_behind` turns them into pods through the namespace's
Services (their selectors) and the pods' own labels, names and containers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# Label names that point at workloads, as Prometheus and kube-state-metrics spell them.
LEAD_LABELS = {
    "service": "service",
    "job": "service",  # Prometheus' job is often the Service's name
    "pod": "pod",
    "container": "container",
    "deployment": "deployment",
    "statefulset": "workload",
    "daemonset": "workload",
    "app": "app",
    "app_kubernetes_io_name": "app",
}
_OWNED_SUFFIX = re.compile(r"-[a-z0-9]{1,10}-[a-z0-9]{5}|-\d+|-[a-z0-9]{5}")
_MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')  # equality only


@dataclass(frozen=True)
class Lead:
    kind: str  # service | pod | container | deployment | workload | app | selector
    value: str
    why: str  # "check Checkout error ratio crit", "alert CheckoutHighErrorRate firing"


def leads_from_query(expr: str, why: str) -> list[Lead]:
    """Equality matchers of a PromQL expression that name a workload (`=~` and `!=` do not:
    they name many things, or what it is not)."""
    out = []
    for m in _MATCHER.finditer(expr):
        start = m.start()
        if start and expr[start - 1] in "!=~":
            continue
        kind = LEAD_LABELS.get(m.group(1))
        if kind and m.group(2):
            out.append(Lead(kind, m.group(2), why))
    return out


def leads_from_labels(labels: dict[str, str], why: str) -> list[Lead]:
    return [
        Lead(LEAD_LABELS[k], v, why) for k, v in sorted(labels.items()) if k in LEAD_LABELS and v
    ]


def unique(leads: Iterable[Lead]) -> tuple[Lead, ...]:
    seen: dict[tuple[str, str], Lead] = {}
    for lead in leads:
        seen.setdefault((lead.kind, lead.value), lead)
    return tuple(seen.values())


def pods_behind(
    leads: Iterable[Lead], pods: list[dict[str, Any]], services: list[dict[str, Any]]
) -> dict[str, list[str]]:
    """Pod name -> why it is suspect, for every pod a lead points at."""
    by_service = {
        (s.get("metadata") or {}).get("name"): (s.get("spec") or {}).get("selector") or {}
        for s in services
    }
    out: dict[str, list[str]] = {}
    for lead in leads:
        for p in pods:
            if _points_at(lead, p, by_service):
                name = str((p.get("metadata") or {}).get("name"))
                reasons = out.setdefault(name, [])
                if lead.why not in reasons:
                    reasons.append(lead.why)
    return out


def _points_at(lead: Lead, pod: dict[str, Any], services: dict[Any, dict[str, str]]) -> bool:
    meta = pod.get("metadata") or {}
    labels: dict[str, str] = meta.get("labels") or {}
    name = str(meta.get("name") or "")
    if lead.kind == "pod":
        return name == lead.value
    if lead.kind == "service":
        selector = services.get(lead.value)
        return bool(selector) and all(labels.get(k) == v for k, v in selector.items())
    if lead.kind == "container":
        containers = (pod.get("spec") or {}).get("containers") or []
        return any(c.get("name") == lead.value for c in containers)
    if lead.kind == "app":
        return lead.value in (labels.get("app"), labels.get("app.kubernetes.io/name"))
    if lead.kind == "selector":
        return selector_matches(lead.value, labels)
    # deployment / workload: the pods its controller named after it (ReplicaSet hash and pod
    # suffix, a StatefulSet ordinal, a DaemonSet suffix)
    if not name.startswith(lead.value):
        return False
    return _OWNED_SUFFIX.fullmatch(name[len(lead.value) :]) is not None


def selector_matches(selector: str, labels: dict[str, str]) -> bool:
    """A kubectl-style equality selector: `app=checkout,tier!=canary,track`."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            k, v = term.split("!=", 1)
            if labels.get(k.strip()) == v.strip():
                return False
        elif "=" in term:
            k, v = term.split("=", 1)
            if labels.get(k.strip().rstrip("=")) != v.strip().lstrip("="):
                return False
        elif term not in labels:
            return False
    return True
