"""Drain through the Eviction API against the drill API server (budgets, progress, stop, RBAC),
and the SelfSubjectAccessReviews that grey out what a responder may not do, each answer
compared with `kubectl auth can-i` (kubectl 1.32)."""

from __future__ import annotations

import asyncio
import json

import pytest

from warroom.actions import access, drain
from warroom.sources.kube import KubeSource

pytestmark = pytest.mark.integration
RO = "warroom-drill-readonly"
BUDGET = "The disruption budget redis-cart needs 1 healthy pods and has 1 currently"


@pytest.fixture
async def world(drill_factory, quiet_scenario, kubectl_132):
    h = drill_factory(scenario=quiet_scenario, speed=20.0)
    src = KubeSource.from_kubeconfig(str(h.kubeconfig_path))
    ro = KubeSource.from_kubeconfig(str(h.kubeconfig_path), RO)
    yield h, src, ro, kubectl_132(h)
    await src.aclose()
    await ro.aclose()


def node_of(k, pod: str) -> str:
    return json.loads(k("get", "pod", pod, "-o", "json").stdout)["spec"]["nodeName"]


def on_node(k, node: str) -> list[str]:
    pods = json.loads(k("get", "pods", "-A", "-o", "json").stdout)["items"]
    return sorted(
        f"{p['metadata']['namespace']}/{p['metadata']['name']}"
        for p in pods
        if p["spec"].get("nodeName") == node
    )


async def test_a_budget_that_blocks_is_reported_at_once_and_the_drain_stops_at_its_timeout(
    world,
) -> None:
    """The node of redis-cart-0 (budget minAvailable 1, one replica): every other pod is
    evicted and gone; redis-cart-0's refusal is on the progress line from the first round,
    retried every 5s like kubectl, and the drain ends when its timeout passes."""
    _, src, _, k = world
    node = node_of(k, "redis-cart-0")
    before = on_node(k, node)
    lines: list[tuple[str, dict[str, str]]] = []
    res = await drain.drain(
        src.api, node, timeout=8, progress=lambda p: lines.append((p.message, dict(p.blocked)))
    )
    assert res.ok
    assert res.text.startswith(f"drain of node/{node} incomplete after 8s: ")
    assert f"blocked by a disruption budget: shop/redis-cart-0: {BUDGET}" in res.text
    assert res.seen["blocked"] == {"shop/redis-cart-0": BUDGET}
    assert res.revert_hint == f"kubectl uncordon {node}"
    # Told in the first round of evictions, not at the end: the line after the list has it.
    listed = next(i for i, (m, _) in enumerate(lines) if m != "cordoning")
    assert lines[listed + 1][1] == {"shop/redis-cart-0": BUDGET}
    assert f"shop/redis-cart-0 blocked (1 try): {BUDGET}" in lines[listed + 1][0]
    # Retried every 5 s, as kubectl does, until the timeout: a few tries, not a loop.
    assert 2 <= res.seen["tries"]["shop/redis-cart-0"] <= 1 + 8 // drain.RETRY + 1
    evicted = [p for p in before if p != "shop/redis-cart-0" and not p.startswith("kube-system/")]
    assert set(evicted) <= set(res.seen["evicted"])
    assert "shop/redis-cart-0" in on_node(k, node)
    assert "Ready,SchedulingDisabled" in k("get", "node", node).stdout
    outcome = await drain.verify_drain(src.api, node, res.seen, wait=2, poll=0.5)
    assert outcome.kind == "pending" and "shop/redis-cart-0" in outcome.text


async def test_a_drain_stops_when_asked(world) -> None:
    _, src, _, k = world
    node = node_of(k, "redis-cart-0")
    stop = asyncio.Event()

    def progress(p: drain.DrainProgress) -> None:
        if p.blocked:
            stop.set()  # as `D` then "Stop" in the console

    res = await drain.drain(src.api, node, timeout=600, stop=stop, progress=progress)
    assert res.ok and res.text.startswith(f"drain of node/{node} stopped: ")
    assert "shop/redis-cart-0" in res.text


async def test_a_node_without_blocking_budgets_is_drained(world) -> None:
    _, src, _, k = world
    busy = node_of(k, "redis-cart-0")
    nodes = json.loads(k("get", "nodes", "-o", "json").stdout)["items"]
    node = next(n["metadata"]["name"] for n in nodes if n["metadata"]["name"] != busy)
    res = await drain.drain(src.api, node, timeout=60)
    assert res.ok and res.text.startswith(f"drained node/{node}: "), res.text
    outcome = await drain.verify_drain(src.api, node, res.seen, wait=5, poll=0.5)
    assert outcome.kind == "took_effect"
    assert [p for p in on_node(k, node) if p.startswith("shop/")] == []
    # kubectl agrees there is nothing left to drain
    out = k("drain", node, "--ignore-daemonsets", "--timeout=10s")
    assert f"node/{node} drained" in out.stdout + out.stderr


async def test_drain_is_refused_with_the_call_rbac_refused(world) -> None:
    _, _, ro, k = world
    node = node_of(k, "redis-cart-0")
    res = await drain.drain(ro.api, node, timeout=5)
    assert not res.ok and res.forbidden
    assert res.text == "not allowed: patch nodes at the cluster scope"


# ----- SelfSubjectAccessReview --------------------------------------------------------------


async def test_access_reviews_agree_with_kubectl_auth_can_i(world) -> None:
    _, src, ro, k = world
    kinds = ("Deployment", "StatefulSet", "DaemonSet")
    needs = access.everything(kinds, ["shop"])
    admin, readonly = access.Access(), access.Access()
    await admin.review(src.api, needs)
    await readonly.review(ro.api, needs)
    assert set(admin.known) == set(readonly.known) == set(needs)
    assert all(admin.known.values())
    for action in access.ACTIONS:
        assert admin.denial(action, "Deployment", "shop") is None
    assert readonly.denial("scale", "Deployment", "shop") == (
        "not allowed: patch deployments/scale in ns/shop"
    )
    assert readonly.denial("force_delete", "", "shop") == "not allowed: delete pods in ns/shop"
    assert readonly.denial("drain") == "not allowed: patch nodes at the cluster scope"
    assert readonly.denial("rollback", "StatefulSet", "shop") == (
        "not allowed: patch statefulsets in ns/shop"  # it may list the history, not patch
    )
    for need in sorted(set(needs), key=lambda n: n.text()):
        resource = need.resource + (f"/{need.subresource}" if need.subresource else "")
        if need.group:
            resource = f"{need.resource}.{need.group}" + (
                f"/{need.subresource}" if need.subresource else ""
            )
        ns = ["-n", need.namespace] if need.namespace else ["-A"]
        said = k("--context", RO, "auth", "can-i", need.verb, resource, *ns, check=False)
        assert said.stdout.strip() == ("yes" if readonly.known[need] else "no"), need
