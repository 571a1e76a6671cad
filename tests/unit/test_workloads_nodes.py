"""Workloads and nodes as the views show them (pure): READY/UP-TO-DATE/AVAILABLE, revision and
rollout status as kubectl says them, node STATUS and pressures as `kubectl get nodes` prints
them, requests summed per node from pod deltas, and what counts as a change made elsewhere."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta

import pytest

from warroom.actions import drain
from warroom.actions.kube_call import Refused
from warroom.nodes import (
    NodeLoads,
    byte_count,
    incident_nodes,
    millicores,
    node_info,
    pod_load,
)
from warroom.signals.changes import WorkloadChangeTracker
from warroom.workloads import parse_ref, spec_change, workload_row

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def deployment(**over) -> dict:
    d = {
        "metadata": {
            "name": "checkout-api",
            "namespace": "shop",
            "uid": "d1",
            "generation": 4,
            "annotations": {"deployment.kubernetes.io/revision": "7"},
            "creationTimestamp": "2026-11-01T00:00:00Z",
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "checkout-api"}},
            "template": {
                "metadata": {"labels": {"app": "checkout-api"}},
                "spec": {"containers": [{"name": "api", "image": "reg/checkout-api:2.9.0"}]},
            },
        },
        "status": {
            "observedGeneration": 4,
            "replicas": 3,
            "updatedReplicas": 3,
            "readyReplicas": 3,
            "availableReplicas": 3,
        },
    }
    for path, value in over.items():
        *keys, last = path.split("__")
        node = d
        for k in keys:
            node = node[k]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return d


def test_a_deployment_as_kubectl_shows_it() -> None:
    r = workload_row(deployment(), "Deployment")
    assert (r.ref, r.resource, r.ready, r.desired, r.updated, r.available) == (
        "deployment/checkout-api",
        "deployments",
        3,
        3,
        3,
        3,
    )
    assert r.images == ("reg/checkout-api:2.9.0",) and r.revision == "7"
    assert r.rollout == "complete" and r.healthy and r.selector == (("app", "checkout-api"),)


@pytest.mark.parametrize(
    ("over", "rollout", "healthy"),
    [
        ({"spec__paused": True}, "paused", True),
        (
            {"status__observedGeneration": 3},
            "pending: the controller has not seen the change yet",
            True,
        ),
        ({"status__updatedReplicas": 1}, "progressing: 1 of 3 updated, 3 available", False),
        (
            {
                "status__conditions": [
                    {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
                ]
            },
            "failed: progress deadline exceeded",
            False,
        ),
        ({"status__readyReplicas": 1}, "complete", False),  # not ready: unhealthy, rolled out
    ],
)
def test_rollout_status_in_kubectls_words(over, rollout: str, healthy: bool) -> None:
    r = workload_row(deployment(**over), "Deployment")
    assert r.rollout == rollout and r.healthy is healthy


def test_statefulset_and_daemonset_rows() -> None:
    sts = {
        "metadata": {"name": "redis-cart", "namespace": "shop", "uid": "s1", "generation": 2},
        "spec": {"replicas": 1, "template": {"spec": {"containers": [{"image": "redis:7"}]}}},
        "status": {
            "observedGeneration": 2,
            "replicas": 1,
            "readyReplicas": 1,
            "updatedReplicas": 1,
            "availableReplicas": 1,
            "currentRevision": "redis-cart-5d8f9c7b6",
            "updateRevision": "redis-cart-5d8f9c7b6",
        },
    }
    r = workload_row(sts, "StatefulSet")
    assert (r.ref, r.revision, r.rollout, r.scalable) == (
        "statefulset/redis-cart",
        "5d8f9c7b6",
        "complete",
        True,
    )
    ds = {
        "metadata": {"name": "agent", "namespace": "ops", "uid": "x", "generation": 1},
        "spec": {"template": {"spec": {"containers": [{"image": "agent:1"}]}}},
        "status": {
            "observedGeneration": 1,
            "desiredNumberScheduled": 3,
            "numberReady": 2,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    r = workload_row(ds, "DaemonSet")
    assert (r.ready, r.desired, r.scalable, r.healthy) == (2, 3, False, False)
    assert parse_ref("sts/redis-cart") == ("StatefulSet", "redis-cart")
    assert parse_ref("redis-cart") is None and parse_ref("pod/x") is None


def test_what_counts_as_a_spec_change() -> None:
    before = workload_row(deployment(), "Deployment")
    status_only = workload_row(deployment(status__readyReplicas=2), "Deployment")
    assert spec_change(before, status_only) is None
    scaled = workload_row(deployment(spec__replicas=5, metadata__generation=5), "Deployment")
    c = spec_change(before, scaled)
    assert c is not None and c.verb == "scale"
    assert c.fields == {"replicas": ("3", "5"), "generation": ("4", "5")}
    image = deployment(metadata__generation=5)
    image["spec"]["template"]["spec"]["containers"][0]["image"] = "reg/checkout-api:2.8.3"
    c = spec_change(before, workload_row(image, "Deployment"))
    assert c is not None and c.verb == "set-image"
    assert c.fields["image"] == ("reg/checkout-api:2.9.0", "reg/checkout-api:2.8.3")


def test_seen_changes_are_held_folded_and_ours_are_dropped() -> None:
    t = WorkloadChangeTracker(hold=timedelta(seconds=3))
    base = workload_row(deployment(), "Deployment")
    assert t.feed({"d1": base}, T0) == []  # the baseline is not news
    image = deployment(metadata__generation=5)
    image["spec"]["template"]["spec"]["containers"][0]["image"] = "reg/checkout-api:3.0.0"
    moved = workload_row(image, "Deployment")
    assert t.feed({"d1": moved}, T0 + timedelta(seconds=1), changed={"d1"}) == []  # held
    # the controller's new revision a moment later folds into the same change
    image["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "8"
    revised = workload_row(image, "Deployment")
    assert t.feed({"d1": revised}, T0 + timedelta(seconds=2), changed={"d1"}) == []
    [seen] = t.due(T0 + timedelta(seconds=5))
    assert seen.verb == "set-image" and seen.target == "deployments/shop/checkout-api"
    assert seen.fields["revision"] == ("7", "8") and seen.generation == 5
    assert seen.text.startswith(
        "Seen change to deployment/checkout-api in shop, not made here: image "
    )
    # ours: this console scaled it to generation 6, before or after the watch saw it
    scaled = workload_row(
        deployment(
            spec__replicas=6,
            metadata__generation=6,
            **{"metadata__annotations": {"deployment.kubernetes.io/revision": "8"}},
        ),
        "Deployment",
    )
    t.feed({"d1": scaled}, T0 + timedelta(seconds=6), changed={"d1"})
    t.ours("deployments/shop/checkout-api", 6)
    assert t.due(T0 + timedelta(seconds=20)) == []


def test_quantities() -> None:
    assert millicores("3920m") == 3920 and millicores("4") == 4000 and millicores("0.5") == 500
    assert millicores("1e3") == 1_000_000 and millicores("bad") == 0 and millicores(None) == 0
    assert byte_count("14967004Ki") == 14967004 * 1024 and byte_count("512Mi") == 512 * 2**20
    assert byte_count("1G") == 10**9 and byte_count("100") == 100


def node(name: str, ready: str = "True", **spec) -> dict:
    conds = [
        {"type": t, "status": "False"} for t in ("MemoryPressure", "DiskPressure", "PIDPressure")
    ] + [{"type": "Ready", "status": ready, "message": "Kubelet stopped posting node status."}]
    if ready == "Unknown":
        conds = [{**c, "status": "Unknown"} for c in conds]
    return {
        "metadata": {"name": name, "uid": f"u-{name}"},
        "spec": spec,
        "status": {"conditions": conds, "allocatable": {"cpu": "3920m", "memory": "16Gi"}},
    }


def test_node_status_as_kubectl_prints_it() -> None:
    assert node_info(node("a")).status == "Ready"
    cordoned = node_info(node("a", unschedulable=True))
    assert (
        cordoned.status == "Ready,SchedulingDisabled" and cordoned.ready and cordoned.unschedulable
    )
    lost = node_info(node("b", "Unknown"))
    assert lost.status == "NotReady" and lost.pressures == ()  # Unknown is not pressure
    assert lost.reason == "Kubelet stopped posting node status."
    squeezed = node("c")
    squeezed["status"]["conditions"][0]["status"] = "True"
    assert node_info(squeezed).pressures == ("MemoryPressure",)
    bare = node("d")
    bare["status"]["conditions"] = []
    assert node_info(bare).status == "Unknown"


def pod(uid: str, ns: str, node_name: str, cpu: str, mem: str, **extra) -> dict:
    return {
        "metadata": {"uid": uid, "namespace": ns, "name": uid},
        "spec": {
            "nodeName": node_name,
            "containers": [{"resources": {"requests": {"cpu": cpu, "memory": mem}}}],
            **extra,
        },
        "status": {"phase": "Running"},
    }


def test_pod_requests_as_the_scheduler_counts_them() -> None:
    p = pod("p", "shop", "a", "100m", "128Mi")
    p["spec"]["initContainers"] = [{"resources": {"requests": {"cpu": "500m"}}}]
    p["spec"]["overhead"] = {"cpu": "10m"}
    load = pod_load(p)
    assert load is not None and (load.cpu_m, load.memory) == (510, 128 * 2**20)
    done = pod("q", "shop", "a", "1", "1Gi")
    done["status"]["phase"] = "Succeeded"
    assert pod_load(done) is None


def test_node_loads_follow_deltas_as_a_recount_would() -> None:
    rng = random.Random(7)
    pods = {}
    for i in range(300):
        p = pod_load(pod(f"p{i}", rng.choice(["shop", "ops"]), rng.choice("abc"), "100m", "64Mi"))
        pods[p.uid] = p
    loads = NodeLoads(["shop"])
    loads.apply(pods, None)
    for step in range(50):
        changed, removed = set(), set()
        for _ in range(10):
            uid = f"p{rng.randrange(300)}"
            if rng.random() < 0.3 and uid in pods:
                del pods[uid]
                removed.add(uid)
                changed.discard(uid)
            else:
                pods[uid] = pod_load(pod(uid, "shop", rng.choice("abcd"), "200m", "1Mi"))
                changed.add(uid)
                removed.discard(uid)
        loads.apply(pods, changed, removed)
        fresh = NodeLoads(["shop"])
        fresh.apply(copy.copy(pods), None)
        assert {n: loads.of(n) for n in "abcd"} == {n: fresh.of(n) for n in "abcd"}, step


def test_the_nodes_of_the_incident() -> None:
    loads = NodeLoads(["shop"])
    loads.apply({"p": pod_load(pod("p", "shop", "a", "1", "1Gi"))}, None)
    infos = [
        node_info(node("a")),
        node_info(node("b")),
        node_info(node("c", "Unknown")),
        node_info(node("d", unschedulable=True)),
    ]
    rows = incident_nodes(infos, loads)
    assert sorted(r.name for r in rows.values()) == ["a", "c", "d"]  # b: healthy, none of ours
    a = rows["u-a"]
    assert (a.pods, a.ours, a.cpu_used_m, a.cpu_percent) == (1, 1, 1000, 26)
    unknown = NodeLoads(["shop"])  # the pods' requests not listed (yet, or not allowed)
    assert incident_nodes(infos, unknown, known={"b"})["u-b"].cpu_used_m == -1


def test_drain_leaves_daemonset_and_mirror_pods_and_refuses_bare_ones() -> None:
    def owned(name: str, kind: str | None, **ann) -> dict:
        meta = {"name": name, "namespace": "shop", "annotations": ann}
        if kind:
            meta["ownerReferences"] = [{"kind": kind, "name": "o", "controller": True}]
        return {"metadata": meta}

    p = drain.DrainProgress("n1")
    pods = [
        owned("web-1", "ReplicaSet"),
        owned("agent-x", "DaemonSet"),
        owned("static", "Node", **{"kubernetes.io/config.mirror": "abc"}),
    ]
    assert [x["metadata"]["name"] for x in drain._evictable(pods, p)] == ["web-1"]
    assert p.skipped == ["shop/agent-x", "shop/static"]
    with pytest.raises(Refused) as e:
        drain._evictable([*pods, owned("debug", None)], drain.DrainProgress("n1"))
    assert "cannot delete Pods that declare no controller" in str(e.value)
    assert "shop/debug" in str(e.value) and "node/n1 stays cordoned" in str(e.value)


def test_a_change_an_action_explains_is_written_once(declare) -> None:
    from warroom.drill.scoring import responder_actions
    from warroom.model import Kind
    from warroom.signals import Fact, record_changes

    room = declare(title="x", severity="P2")

    def fact(target: str) -> Fact:
        data = {"target": target, "seen_at": room.clock().isoformat(), "generation": 3}
        return Fact(Kind.CHANGE, f"Seen change to {target}", data, "kubernetes", once=target)

    room.record_action("rolled back", verb="rollout-undo", target="deployments/shop/a", ok=True,
                       image="reg/a:1")  # fmt: skip
    written = record_changes(room, [fact("deployments/shop/a"), fact("deployments/shop/b")])
    assert [e.data["target"] for e in written] == ["deployments/shop/b"]
    assert record_changes(room, [fact("deployments/shop/b")]) == []  # two consoles: once
    [undo] = responder_actions(room.events, ["deployment/a"])
    assert (undo.kind, undo.image) == ("image", "reg/a:1")  # a rollback is scored as its image


def test_cordons_made_elsewhere_are_held_then_told_for_the_incidents_nodes() -> None:
    from warroom.signals import Signals

    s = Signals()
    a, b = node_info(node("a")), node_info(node("b"))
    shown = {a.uid}  # the incident's pods run on a only
    assert s.cordon_facts({a.uid: a, b.uid: b}, T0, shown) == []  # the baseline
    a2, b2 = node_info(node("a", unschedulable=True)), node_info(node("b", unschedulable=True))
    assert s.cordon_facts({a.uid: a2, b.uid: b2}, T0 + timedelta(seconds=1), shown) == []  # held
    [fact] = s.cordon_facts(None, T0 + timedelta(seconds=4), shown)  # b's is not told
    assert fact.text == "Seen change to node/a, not made here: unschedulable false -> true"
    assert fact.data["target"] == "nodes/a" and fact.data["node"] == "node/a"
    assert fact.data["verb"] == "cordon"
    assert fact.data["changes"] == {"unschedulable": {"before": "false", "after": "true"}}
    # Uncordoned and cordoned again within the hold: nothing happened, as far as anyone knows.
    s.cordon_facts({a.uid: node_info(node("a"))}, T0 + timedelta(seconds=5), shown)
    s.cordon_facts({a.uid: a2}, T0 + timedelta(seconds=6), shown)
    assert s.cordon_facts(None, T0 + timedelta(seconds=20), shown) == []
    # Uncordoned for good.
    s.cordon_facts({a.uid: a}, T0 + timedelta(seconds=30), shown)
    [back] = s.cordon_facts(None, T0 + timedelta(seconds=34), shown)
    assert back.data["verb"] == "uncordon" and back.text.endswith("unschedulable true -> false")


def test_a_cordon_two_consoles_saw_is_written_once(declare) -> None:
    """A node has no generation: each console keys its copy by when it saw it, and the
    writer drops a copy whose change the object's latest one already says."""
    from warroom.model import Kind
    from warroom.signals import Signals, record_changes

    room = declare(title="x", severity="P2")
    copies = []
    now = room.clock()
    for seen_at in (now, now + timedelta(seconds=1)):  # two consoles, a second apart
        s = Signals()
        a = node_info(node("a"))
        s.cordon_facts({a.uid: a}, seen_at, {a.uid})
        s.cordon_facts({a.uid: node_info(node("a", unschedulable=True))}, seen_at, {a.uid})
        copies += s.cordon_facts(None, seen_at + timedelta(seconds=3), {a.uid})
    assert copies[0].once != copies[1].once
    assert len(record_changes(room, copies[:1])) == 1
    assert record_changes(room, copies[1:]) == []
    assert len([e for e in room.events if e.kind == Kind.CHANGE]) == 1
