"""Rollout restart and delete through KubeSource against the drill API server (in its own
thread, so kubectl can run beside it), compared with what kubectl does and says."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from tests.support import until
from warroom.actions import restart
from warroom.actions.restart import RESTARTED_AT, ActionResult
from warroom.drill.world import DrillHandle
from warroom.pods import PodRow, PodsSnapshot
from warroom.sources.kube import KubeSource

pytestmark = pytest.mark.integration


class Pods:
    """The latest snapshot of a running watch_pods."""

    def __init__(self, src: KubeSource) -> None:
        self.last: PodsSnapshot | None = None
        self.task = asyncio.create_task(src.watch_pods(self._on, interval=0.1))

    def _on(self, snap: PodsSnapshot) -> None:
        self.last = snap

    def rows(self, prefix: str) -> list[PodRow]:
        rows = self.last.rows_by_uid.values() if self.last else ()
        return sorted((r for r in rows if r.name.startswith(prefix)), key=lambda r: r.name)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
async def admin(drill_factory, quiet_scenario):
    h = drill_factory(scenario=quiet_scenario, speed=20.0)
    src = KubeSource.from_kubeconfig(str(h.kubeconfig_path))
    yield h, src
    await src.aclose()


async def test_rollout_restart_heals_the_crashlooping_deployment(drill_factory):
    h: DrillHandle = drill_factory(speed=20.0)
    src = KubeSource.from_kubeconfig(str(h.kubeconfig_path))
    pods = Pods(src)
    crashing = await until(
        lambda: [r for r in pods.rows("checkout-api-") if r.status == "CrashLoopBackOff"],
        "checkout-api crash-looping",
    )
    res = await restart.rollout_restart(src.api, "shop", crashing[0])
    assert res.ok and not res.forbidden
    assert (res.verb, res.resource, res.namespace, res.name) == (
        "patch",
        "deployments",
        "shop",
        "checkout-api",
    )
    assert res.text.startswith("rollout restart deployment/checkout-api in shop (restartedAt ")
    assert res.revert_hint == "kubectl rollout undo deployment/checkout-api -n shop"
    assert res.duration_s >= 0
    dep = h.call(h.world.cluster.store.get, "deployments", "shop", "checkout-api")
    stamp = dep["spec"]["template"]["metadata"]["annotations"][RESTARTED_AT]
    assert stamp in res.text and stamp.endswith("Z")

    old = {r.uid for r in pods.rows("checkout-api-")}

    def healed() -> bool:
        rows = pods.rows("checkout-api-")
        return len(rows) == 3 and all(r.uid not in old and r.healthy for r in rows)

    await until(healed, "three new, healthy checkout-api pods")
    await asyncio.sleep(1.0)  # 20 scenario seconds: the old pods crashed 6 s after start
    rows = pods.rows("checkout-api-")
    assert all(r.status == "Running" and r.restarts == 0 for r in rows), rows
    await pods.stop()
    await src.aclose()


async def test_restart_targets_and_refusals(admin):
    _, src = admin
    ok = await restart.rollout_restart(src.api, "shop", "statefulset/redis-cart")
    assert ok.ok and ok.resource == "statefulsets"
    assert ok.revert_hint == "kubectl rollout undo statefulset/redis-cart -n shop"
    ok = await restart.rollout_restart(src.api, "shop", ("Deployment", "cart"))
    assert ok.ok and ok.name == "cart"

    missing = await restart.rollout_restart(src.api, "shop", "daemonset/node-exporter")
    assert not missing.ok and not missing.forbidden
    assert missing.text == 'not found: daemonsets.apps "node-exporter" not found'
    assert (missing.verb, missing.resource) == ("get", "daemonsets")

    snap = await src.list_once()
    pod = next(r for r in snap.rows_by_uid.values() if r.name.startswith("frontend-"))
    bare = dataclasses.replace(pod, owner_kind="", owner_name="")
    res = await restart.rollout_restart(src.api, "shop", bare)
    assert not res.ok and res.text.startswith(f"refused: pod {pod.name} has no owner (a bare pod)")
    job = dataclasses.replace(pod, owner_kind="Job", owner_name="nightly-1")
    res = await restart.rollout_restart(src.api, "shop", job)
    assert res.text == (
        f"refused: pod {pod.name} is owned by Job nightly-1; rollout restart applies to "
        "Deployments, StatefulSets and DaemonSets"
    )
    orphan = dataclasses.replace(pod, owner_name="frontend-gone")
    res = await restart.rollout_restart(src.api, "shop", orphan)
    assert res.text == 'not found: replicasets.apps "frontend-gone" not found'
    res = await restart.rollout_restart(src.api, "shop", "job/nightly")
    assert not res.ok and res.text.startswith("refused: 'job/nightly' is not a Deployment")


async def test_paused_deployment_is_refused_with_kubectls_words(admin, kubectl):
    h, src = admin
    k = kubectl(h)
    k("rollout", "pause", "deployment/cart")
    theirs = k("rollout", "restart", "deployment/cart", check=False)
    assert theirs.returncode == 1
    res = await restart.rollout_restart(src.api, "shop", "deployment/cart")
    assert not res.ok and not res.forbidden
    assert theirs.stderr.strip() == f"error: {res.text}"
    assert res.text == (
        'deployments.apps "cart" can\'t restart paused deployment (run rollout resume first)'
    )
    k("rollout", "resume", "deployment/cart")
    assert (await restart.rollout_restart(src.api, "shop", "deployment/cart")).ok


async def test_delete_pod_and_the_owner_recreates_it(admin):
    _, src = admin
    pods = Pods(src)
    before = await until(lambda: pods.rows("frontend-"), "frontend pods")
    victim = before[0]
    stale = await restart.delete_pod(src.api, "shop", victim.name, uid="not-its-uid")
    assert not stale.ok and stale.text.startswith("failed: delete pods: 409 Conflict")
    res = await restart.delete_pod(src.api, "shop", victim.name, uid=victim.uid)
    assert res.ok and (res.verb, res.resource, res.name) == ("delete", "pods", victim.name)
    assert res.text == f"delete of pod {victim.name} in shop requested"
    assert res.revert_hint == f"the owner recreates it (ReplicaSet {victim.owner_name})"

    def replaced() -> bool:
        rows = pods.rows("frontend-")
        uids = {r.uid for r in rows}
        return victim.uid not in uids and len(rows) == 3 and all(r.healthy for r in rows)

    await until(replaced, "the pod gone and a healthy replacement")
    missing = await restart.delete_pod(src.api, "shop", victim.name)
    assert not missing.ok and missing.text == f'not found: pods "{victim.name}" not found'
    await pods.stop()


async def test_read_only_user_gets_not_allowed(admin):
    h, _ = admin
    ro = KubeSource.from_kubeconfig(str(h.kubeconfig_path), context="warroom-drill-readonly")
    snap = await ro.list_once()  # reading is allowed
    assert snap.ok and len(snap.rows_by_uid) == 11
    res: ActionResult = await restart.rollout_restart(ro.api, "shop", "deployment/frontend")
    assert (res.ok, res.forbidden) == (False, True)
    assert res.text == "not allowed: patch deployments in ns/shop"
    pod = next(r for r in snap.rows_by_uid.values() if r.name.startswith("frontend-"))
    # through the ReplicaSet: get is allowed
    res = await restart.rollout_restart(ro.api, "shop", pod)
    assert res.text == "not allowed: patch deployments in ns/shop" and res.name == "frontend"
    res = await restart.delete_pod(ro.api, "shop", pod.name)
    assert (res.ok, res.forbidden, res.text) == (False, True, "not allowed: delete pods in ns/shop")
    await ro.aclose()


async def test_actions_never_raise_when_the_server_is_gone(admin):
    h, src = admin
    await src.api()  # the kubeconfig is read; it goes away with the drill
    h.stop()
    res = await restart.rollout_restart(src.api, "shop", "deployment/cart")
    assert not res.ok and not res.forbidden and res.text.startswith("failed: get deployments: ")
    res = await restart.delete_pod(src.api, "shop", "x")
    assert not res.ok and res.text.startswith("failed: get pods: ")
    unconfigured = KubeSource(dataclasses.replace(src.target, config_file="/nonexistent"))
    res = await restart.rollout_restart(unconfigured.api, "shop", "deployment/cart")
    assert not res.ok and res.text.startswith("failed: patch deployments: ")
