"""Quarantine and release against the drill API server: the pod stays running, leaves its
ReplicaSet and the endpoints, a replacement takes the traffic, a deny-all NetworkPolicy
selects it; release undoes every step. The read-only user gets 403s, NetworkPolicy included;
kubectl sees what we did."""

from __future__ import annotations

import json

import pytest

from tests.support import until
from warroom.actions import quarantine as q
from warroom.drill.world import DrillHandle
from warroom.sources.kube import KubeSource

pytestmark = pytest.mark.integration


@pytest.fixture
async def world(drill_factory, quiet_scenario):
    h: DrillHandle = drill_factory(scenario=quiet_scenario, speed=20.0)
    src = KubeSource.from_kubeconfig(str(h.kubeconfig_path))
    yield h, src
    await src.aclose()


async def frontend_pods(src: KubeSource) -> list:
    snap = await src.list_once()
    return sorted(
        (r for r in snap.rows_by_uid.values() if r.name.startswith("frontend-")),
        key=lambda r: r.name,
    )


async def test_quarantine_steps_then_release(world, kubectl) -> None:
    h, src = world
    pods = await frontend_pods(src)
    victim = pods[0]
    plan = await q.plan(src.api, "shop", victim.name)
    assert plan.uid == victim.uid and not plan.quarantined
    assert plan.owner == f"ReplicaSet {victim.owner_name}"
    assert plan.services == ("service/frontend",)
    assert sorted(plan.remove) == ["app", "pod-template-hash"]

    for step in q.STEPS:
        res = await q.run_step(src.api, plan, step)
        assert res.ok, res.text
        assert res.revert_hint == plan.revert(step)
        outcome = await q.verify_step(src.api, plan, step, wait=30, poll=0.2)
        assert outcome.kind == "took_effect", (step, outcome.text)
    assert outcome.text == (
        f"pod {victim.name} is out of ReplicaSet {victim.owner_name} and service/frontend and "
        "out of every endpoint; still Running for forensics"
    )
    assert plan.revert("detach").endswith(
        f"app=frontend pod-template-hash={victim.labels['pod-template-hash']}"
    )

    # A replacement takes the traffic; the quarantined pod is still there, running.
    async def replaced() -> bool:
        rows = await frontend_pods(src)
        ready = [r for r in rows if r.healthy and r.uid != victim.uid]
        return len(ready) == 3 and any(r.uid == victim.uid for r in rows)

    await until(replaced, "three serving pods besides the quarantined one")
    k = kubectl(h)
    policy = json.loads(k("get", "networkpolicy", plan.policy, "-n", "shop", "-o", "json").stdout)
    assert policy["spec"] == {
        "podSelector": {"matchLabels": {q.LABEL: victim.name}},
        "policyTypes": ["Ingress", "Egress"],
    }
    listing = k("get", "netpol", "-n", "shop").stdout
    assert plan.policy in listing and f"{q.LABEL}={victim.name}" in listing
    slices = json.loads(k("get", "endpointslices", "-n", "shop", "-o", "json").stdout)
    names = {ep["targetRef"]["name"] for s in slices["items"] for ep in s.get("endpoints") or []}
    assert victim.name not in names

    # Again on a quarantined pod: the plan says so (the console offers release).
    assert (await q.plan(src.api, "shop", victim.name)).quarantined

    results, removed = await q.release(src.api, "shop", victim.name)
    assert [r.ok for r in results] == [True, True]
    assert removed == plan.remove
    back = q.Plan(plan.namespace, plan.pod, plan.uid, plan.owner, plan.services, removed, True)
    for step in ("reattach", "unisolate"):
        outcome = await q.verify_step(src.api, back, step, wait=30, poll=0.2)
        assert outcome.kind == "took_effect", (step, outcome.text)
    assert "No resources found" in k("get", "netpol", "-n", "shop").stderr

    async def three_again() -> bool:  # adopted back, and the ReplicaSet is at its count again
        return len([r for r in await frontend_pods(src) if r.status != "Terminating"]) == 3

    await until(three_again, "the ReplicaSet back at three pods")


async def test_read_only_user_gets_403_on_every_step(world) -> None:
    h, src = world
    victim = (await frontend_pods(src))[0]
    ro = KubeSource.from_kubeconfig(str(h.kubeconfig_path), context="warroom-drill-readonly")
    plan = await q.plan(ro.api, "shop", victim.name)  # reading is allowed
    texts = {}
    for step in q.STEPS:
        res = await q.run_step(ro.api, plan, step)
        assert (res.ok, res.forbidden) == (False, True)
        texts[step] = res.text
    assert texts == {
        "label": "not allowed: patch pods in ns/shop",
        "isolate": "not allowed: create networkpolicies in ns/shop",
        "detach": "not allowed: patch pods in ns/shop",
    }
    results, _ = await q.release(ro.api, "shop", victim.name)
    assert [(r.ok, r.text) for r in results] == [(False, "not allowed: patch pods in ns/shop")]
    await ro.aclose()


async def test_kubectl_create_networkpolicy_as_the_read_only_user_is_refused(
    world, kubectl, tmp_path
):
    h, _ = world
    k = kubectl(h)
    doc = tmp_path / "np.json"
    doc.write_text(
        json.dumps(
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": "deny-all", "namespace": "shop"},
                "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
            }
        )
    )
    ro = k("--context", "warroom-drill-readonly", "create", "-f", str(doc), check=False)
    assert ro.returncode == 1
    assert (
        'networkpolicies.networking.k8s.io is forbidden: User "ro" cannot create resource '
        '"networkpolicies" in API group "networking.k8s.io" in the namespace "shop"'
    ) in ro.stderr
    assert k("create", "-f", str(doc)).stdout.strip() == (
        "networkpolicy.networking.k8s.io/deny-all created"
    )
    again = k("create", "-f", str(doc), check=False)
    assert 'networkpolicies.networking.k8s.io "deny-all" already exists' in again.stderr
    assert k("auth", "can-i", "create", "networkpolicies", "-n", "shop").stdout.strip() == "yes"
    assert k("delete", "netpol", "deny-all", "-n", "shop").stdout.strip() == (
        'networkpolicy.networking.k8s.io "deny-all" deleted'
    )
