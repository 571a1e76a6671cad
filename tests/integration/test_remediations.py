"""The remediations against the drill API server through the official client (kubernetes.aio),
each compared with what kubectl 1.32 does and says: scale, rollout undo (Deployment through
ReplicaSets, StatefulSet through ControllerRevisions), pause and resume, force delete, cordon
and uncordon; their refusals in kubectl's words, their 403s in one line, their revert hints and
verified outcomes. Drain and RBAC reviews are in test_drain_access.py."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.support import until
from warroom.actions import restart, rollout, scale, verify
from warroom.actions.drain import cordon, verify_cordon
from warroom.sources.kube import KubeSource

pytestmark = pytest.mark.integration
RO = "warroom-drill-readonly"


@pytest.fixture
async def world(drill_factory, quiet_scenario, kubectl_132):
    h = drill_factory(scenario=quiet_scenario, speed=20.0)
    src = KubeSource.from_kubeconfig(str(h.kubeconfig_path))
    ro = KubeSource.from_kubeconfig(str(h.kubeconfig_path), RO)
    yield h, src, ro, kubectl_132(h)
    await src.aclose()
    await ro.aclose()


def get(k, *args: str) -> dict:
    return json.loads(k("get", *args, "-o", "json").stdout)


async def settled(k, ref: str) -> None:
    await asyncio.to_thread(k, "rollout", "status", ref, "--timeout=60s")


# ----- scale --------------------------------------------------------------------------------


async def test_scale_is_kubectls_patch_and_is_verified(world) -> None:
    _, src, _, k = world
    res = await scale.scale(src.api, "shop", "Deployment", "cart", 4)
    assert res.ok and (res.verb, res.resource) == ("patch", "deployments/scale")
    assert res.text == "scaled deployment/cart in shop from 2 to 4 replicas"
    assert res.revert_hint == "kubectl scale deployment/cart --replicas=2 -n shop"
    assert res.record == {"replicas": 4, "from_replicas": 2}
    outcome = await verify.verify_scale(src.api, "shop", "cart", res.seen, wait=60, poll=0.2)
    assert (
        outcome.kind == "took_effect" and outcome.text == "deployment/cart runs 4 replicas, 4 ready"
    )
    ours = get(k, "deployment", "cart")
    # kubectl's own scale of another Deployment leaves the same spec and generation step
    k("scale", "deployment/frontend", "--replicas=4")
    theirs = get(k, "deployment", "frontend")
    assert ours["spec"]["replicas"] == theirs["spec"]["replicas"] == 4
    assert ours["metadata"]["generation"] == theirs["metadata"]["generation"] == 2
    # a StatefulSet too, through its scale subresource
    sts = await scale.scale(src.api, "shop", "StatefulSet", "redis-cart", 2)
    assert sts.ok and sts.text == "scaled statefulset/redis-cart in shop from 1 to 2 replicas"
    await until(lambda: "redis-cart-1" in k("get", "pods").stdout, "redis-cart-1")


async def test_scale_refusals_and_403(world) -> None:
    _, src, ro, _ = world
    ds = await scale.scale(src.api, "kube-system", "DaemonSet", "kube-proxy", 2)
    assert (
        not ds.ok and ds.text == "refused: a DaemonSet has no replicas to scale (one pod per node)"
    )
    neg = await scale.scale(src.api, "shop", "Deployment", "cart", -1)
    assert not neg.ok and neg.text.startswith("refused: -1 replicas")
    gone = await scale.scale(src.api, "shop", "Deployment", "nope", 2)
    assert not gone.ok and gone.text.startswith("not found: ")
    denied = await scale.scale(ro.api, "shop", "Deployment", "cart", 3)
    assert not denied.ok and denied.forbidden
    assert denied.text == "not allowed: patch deployments/scale in ns/shop"


# ----- rollout undo ---------------------------------------------------------------------------


async def test_undo_of_a_deployment_patches_what_kubectl_patches(world) -> None:
    """Ours and kubectl 1.32's undo of the same change leave the same template and
    annotations; history, the diff and the revert hint name the revisions."""
    _, src, _, k = world
    old, new = "registry.example.com/shop/cart:1.31.0", "registry.example.com/shop/cart:1.32.0"
    k("set", "image", "deployment/cart", f"cart={new}")
    await settled(k, "deployment/cart")
    h = await rollout.history(src.api, "shop", "Deployment", "cart")
    assert [r.images for r in h.revisions] == [(old,), (new,)]
    assert h.current is h.revisions[-1] and h.target() is h.revisions[0]
    top, prev = h.revisions[-1].number, h.revisions[0].number

    res = await rollout.undo(src.api, "shop", "Deployment", "cart")
    assert res.ok, res.text
    assert res.text == (
        f"rolled back deployment/cart in shop from revision {top} ({new}) "
        f"to revision {prev} ({old})"
    )
    assert res.revert_hint == f"kubectl rollout undo deployment/cart --to-revision={top} -n shop"
    assert res.record["image"] == old and res.record["to_revision"] == prev
    outcome = await verify.verify_rollout(src.api, "shop", "cart", res.seen, wait=60, poll=0.2)
    assert outcome.kind == "took_effect"
    ours = get(k, "deployment", "cart")

    k("set", "image", "deployment/cart", f"cart={new}")
    await settled(k, "deployment/cart")
    assert "rolled back" in k("rollout", "undo", "deployment/cart").stdout
    await settled(k, "deployment/cart")
    theirs = get(k, "deployment", "cart")
    assert ours["spec"]["template"] == theirs["spec"]["template"]
    assert set(ours["metadata"]["annotations"]) == set(theirs["metadata"]["annotations"])


async def test_undo_refusals_are_kubectls(world) -> None:
    _, src, ro, k = world
    # one revision only: kubectl says the same
    res = await rollout.undo(src.api, "shop", "Deployment", "frontend")
    r = k("rollout", "undo", "deployment/frontend", check=False)
    assert not res.ok and res.text == 'no rollout history found for deployment "frontend"'
    assert r.stderr.strip() == f"error: {res.text}"
    # a revision not in the history
    k("set", "image", "deployment/cart", "cart=registry.example.com/shop/cart:1.32.0")
    await settled(k, "deployment/cart")
    res = await rollout.undo(src.api, "shop", "Deployment", "cart", 99)
    r = k("rollout", "undo", "deployment/cart", "--to-revision=99", check=False)
    assert res.text == "unable to find specified revision 99 in history"
    assert r.stderr.strip() == f"error: {res.text}"
    # to the revision it already runs
    current = (await rollout.history(src.api, "shop", "Deployment", "cart")).current
    assert current is not None
    res = await rollout.undo(src.api, "shop", "Deployment", "cart", current.number)
    r = k("rollout", "undo", "deployment/cart", f"--to-revision={current.number}")
    assert res.text == r.stdout.strip().replace("deployment.apps/cart", "deployment/cart")
    assert "skipped rollback (current template already matches revision" in res.text
    # paused
    k("rollout", "pause", "deployment/cart")
    res = await rollout.undo(src.api, "shop", "Deployment", "cart")
    r = k("rollout", "undo", "deployment/cart", check=False)
    assert not res.ok and r.stderr.strip() == f"error: {res.text}"
    k("rollout", "resume", "deployment/cart")
    # RBAC
    denied = await rollout.undo(ro.api, "shop", "Deployment", "cart")
    assert denied.forbidden and denied.text == "not allowed: patch deployments in ns/shop"


async def test_undo_of_a_statefulset_goes_back_through_its_controller_revisions(world) -> None:
    _, src, _, k = world
    k("set", "image", "statefulset/redis-cart", "redis-cart=redis:7.2.5-alpine")
    await settled(k, "statefulset/redis-cart")
    h = await rollout.history(src.api, "shop", "StatefulSet", "redis-cart")
    assert [(r.number, r.images, r.current) for r in h.revisions] == [
        (1, ("redis:7.2.4-alpine",), False),
        (2, ("redis:7.2.5-alpine",), True),
    ]
    res = await rollout.undo(src.api, "shop", "StatefulSet", "redis-cart")
    assert res.ok and "to revision 1 (redis:7.2.4-alpine)" in res.text
    assert res.revert_hint == "kubectl rollout undo statefulset/redis-cart --to-revision=2 -n shop"
    outcome = await verify.verify_rollout(src.api, "shop", "redis-cart", res.seen, wait=60)
    assert outcome.kind == "took_effect"
    # kubectl sees revision 1 become 3, as after its own undo
    history = k("rollout", "history", "statefulset/redis-cart").stdout
    assert [line.split()[0] for line in history.splitlines() if line[:1].isdigit()] == ["2", "3"]


# ----- pause and resume ---------------------------------------------------------------------


async def test_pause_and_resume_say_what_kubectl_says(world) -> None:
    _, src, ro, k = world
    res = await rollout.set_paused(src.api, "shop", "Deployment", "cart", True)
    assert res.ok and res.text == "rollout of deployment/cart in shop paused"
    assert res.revert_hint == "kubectl rollout resume deployment/cart -n shop"
    outcome = await verify.verify_paused(src.api, "shop", "cart", res.seen, wait=20, poll=0.2)
    assert outcome.kind == "took_effect" and "paused" in outcome.text
    assert get(k, "deployment", "cart")["spec"]["paused"] is True
    again = await rollout.set_paused(src.api, "shop", "Deployment", "cart", True)
    r = k("rollout", "pause", "deployment/cart", check=False)
    assert not again.ok and r.stderr.strip() == f"error: {again.text}"
    res = await rollout.set_paused(src.api, "shop", "Deployment", "cart", False)
    assert res.ok and res.text == "rollout of deployment/cart in shop resumed"
    assert "paused" not in get(k, "deployment", "cart")["spec"]
    sts = await rollout.set_paused(src.api, "shop", "StatefulSet", "redis-cart", True)
    r = k("rollout", "pause", "statefulset/redis-cart", check=False)
    assert not sts.ok and r.stderr.strip() == f"error: {sts.text}"
    denied = await rollout.set_paused(ro.api, "shop", "Deployment", "cart", True)
    assert denied.forbidden and denied.text == "not allowed: patch deployments in ns/shop"


# ----- force delete -------------------------------------------------------------------------


async def test_force_delete_forgets_the_pod_at_once(world) -> None:
    _, src, ro, k = world
    pod = get(k, "pod", "redis-cart-0")
    res = await restart.delete_pod(src.api, "shop", "redis-cart-0", force=True)
    assert (
        res.ok and res.text == "force delete (grace period 0) of pod redis-cart-0 in shop requested"
    )
    assert res.record == {"grace": 0} and res.seen["force"]
    assert res.revert_hint == "the StatefulSet redis-cart recreates it under the same name"
    outcome = await verify.verify_delete(src.api, "shop", "redis-cart-0", res.seen, wait=20)
    assert outcome.kind == "took_effect"
    now = get(k, "pod", "redis-cart-0")  # recreated under its name, a new pod
    assert now["metadata"]["uid"] != pod["metadata"]["uid"]
    denied = await restart.delete_pod(ro.api, "shop", "redis-cart-0", force=True)
    assert denied.forbidden and denied.text == "not allowed: delete pods in ns/shop"


# ----- cordon -------------------------------------------------------------------------------


async def test_cordon_and_uncordon_as_kubectl_sees_them(world) -> None:
    h, src, ro, k = world
    node = next(iter(h.call(lambda: list(h.world.cluster.nodes))))
    res = await cordon(src.api, node, True)
    assert res.ok and res.text == f"node/{node} cordoned"
    assert res.revert_hint == f"kubectl uncordon {node}" and res.namespace == ""
    outcome = await verify_cordon(src.api, node, res.seen, wait=10, poll=0.2)
    assert outcome.kind == "took_effect"
    row = next(line for line in k("get", "nodes").stdout.splitlines() if line.startswith(node))
    assert row.split()[1] == "Ready,SchedulingDisabled"
    again = await cordon(src.api, node, True)
    assert again.ok and again.text == k("cordon", node).stdout.strip()  # "already cordoned"
    res = await cordon(src.api, node, False)
    assert res.ok and res.text == f"node/{node} uncordoned"
    outcome = await verify_cordon(src.api, node, res.seen, wait=10, poll=0.2)
    assert outcome.kind == "took_effect" and "schedulable again" in outcome.text
    row = next(line for line in k("get", "nodes").stdout.splitlines() if line.startswith(node))
    assert row.split()[1] == "Ready"
    denied = await cordon(ro.api, node, True)
    assert denied.forbidden and denied.text == "not allowed: patch nodes at the cluster scope"
