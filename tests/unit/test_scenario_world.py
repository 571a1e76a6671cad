"""Drill world internals without servers: patches, selectors, printers, series, and the cluster
simulation stepped on a fake clock (deterministic: no sleeping, no wall time)."""

from __future__ import annotations

import textwrap

import pytest

from warroom.drill.clock import Scheduler, WorldClock
from warroom.drill.cluster import Cluster
from warroom.drill.engine import Engine
from warroom.drill.kubelet import go_duration
from warroom.drill.logs import run_lines
from warroom.drill.metrics import MetricSeries, fingerprint, format_value
from warroom.drill.patch import PatchError, json_patch, merge_patch, strategic_merge_patch
from warroom.drill.scenario import LogProfile, MetricSpec, parse_scenario
from warroom.drill.selectors import SelectorError, field_matcher, label_matcher
from warroom.drill.tables import human_duration, pod_status

# --- pure functions ----------------------------------------------------------------------------


def test_merge_and_strategic_patch():
    target = {
        "spec": {
            "paused": True,
            "template": {
                "spec": {
                    "containers": [{"name": "a", "image": "a:1"}, {"name": "b", "image": "b:1"}]
                }
            },
        }
    }
    assert merge_patch(target, {"spec": {"paused": None}})["spec"].keys() == {"template"}
    p = {"spec": {"template": {"spec": {"containers": [{"name": "b", "image": "b:2"}]}}}}
    merged = strategic_merge_patch(target, p)
    assert [c["image"] for c in merged["spec"]["template"]["spec"]["containers"]] == ["a:1", "b:2"]
    replaced = merge_patch(target, p)  # merge patch replaces lists
    assert replaced["spec"]["template"]["spec"]["containers"] == [{"name": "b", "image": "b:2"}]
    deleted = strategic_merge_patch(
        target,
        {"spec": {"template": {"spec": {"containers": [{"name": "a", "$patch": "delete"}]}}}},
    )
    assert [c["name"] for c in deleted["spec"]["template"]["spec"]["containers"]] == ["b"]
    ann = strategic_merge_patch(
        {}, {"spec": {"template": {"metadata": {"annotations": {"k": "v"}}}}}
    )
    assert ann["spec"]["template"]["metadata"]["annotations"] == {"k": "v"}


def test_json_patch():
    doc = {"a": {"b": [1, 2]}}
    out = json_patch(
        doc,
        [
            {"op": "add", "path": "/a/b/-", "value": 3},
            {"op": "replace", "path": "/a/b/0", "value": 0},
            {"op": "add", "path": "/a/c~1d", "value": True},
            {"op": "test", "path": "/a/b/1", "value": 2},
            {"op": "remove", "path": "/a/b/1"},
        ],
    )
    assert out == {"a": {"b": [0, 3], "c/d": True}} and doc == {"a": {"b": [1, 2]}}
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "test", "path": "/a/b/0", "value": 9}])
    with pytest.raises(PatchError):
        json_patch(doc, [{"op": "replace", "path": "/missing", "value": 1}])


def test_selectors():
    m = label_matcher("app=web,tier!=db,env in (prod, staging),!legacy,team")
    assert m({"app": "web", "env": "prod", "team": "x"})
    assert not m({"app": "web", "env": "dev", "team": "x"})
    assert not m({"app": "web", "env": "prod", "team": "x", "legacy": "1"})
    f = field_matcher("metadata.name=a,spec.nodeName!=n1", {"metadata.name", "spec.nodeName"})
    assert f({"metadata.name": "a", "spec.nodeName": "n2"})
    assert not f({"metadata.name": "a", "spec.nodeName": "n1"})
    with pytest.raises(SelectorError, match="field label not supported"):
        field_matcher("status.bogus=1", {"metadata.name"})


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5s"),
        (119, "119s"),
        (150, "2m30s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (10 * 3600, "10h"),
        (3 * 86400 + 3600, "3d1h"),
        (30 * 86400, "30d"),
        (800 * 86400, "2y70d"),
    ],
)
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text


def test_pod_status_column():
    def pod(state, last=None, deleting=False, reason=None, ready=False):
        cs = {
            "name": "c",
            "state": state,
            "lastState": last or {},
            "ready": ready,
            "restartCount": 2,
        }
        st = {"phase": "Running", "containerStatuses": [cs]}
        if reason:
            st["reason"] = reason
        meta = {"name": "p"} | ({"deletionTimestamp": "2024-01-01T00:00:00Z"} if deleting else {})
        return {"metadata": meta, "spec": {"containers": [{"name": "c"}]}, "status": st}

    crash = pod(
        {"waiting": {"reason": "CrashLoopBackOff"}},
        {"terminated": {"reason": "Error", "finishedAt": "2024-01-01T00:00:00Z"}},
    )
    assert pod_status(crash)[:4] == ("CrashLoopBackOff", 0, 1, 2)
    assert pod_status(pod({"terminated": {"reason": "OOMKilled"}}))[0] == "OOMKilled"
    assert pod_status(pod({"running": {}}, ready=True))[:2] == ("Running", 1)
    assert pod_status(pod({"running": {}}, deleting=True))[0] == "Terminating"
    assert pod_status(pod({"running": {}}, deleting=True, reason="NodeLost"))[0] == "Unknown"
    assert pod_status(pod({"waiting": {"reason": "ContainerCreating"}}))[0] == "ContainerCreating"


def test_series_ramps_noise_and_format():
    s = MetricSeries(MetricSpec("m", "x", {}, value=1.0))
    s.ramp(10, 5.0, 10)
    assert (s.value(0), s.value(15), s.value(20), s.value(100)) == (1.0, 3.0, 5.0, 5.0)
    s.ramp(30, 1.0, 0)
    assert s.value(29) == 5.0 and s.value(30) == 1.0
    noisy = MetricSeries(MetricSpec("n", "x", {}, value=10.0, noise=0.1))
    vals = {noisy.value(t) for t in range(0, 300, 15)}
    assert len(vals) > 1 and all(9.0 <= v <= 11.0 for v in vals)
    assert noisy.value(31) == noisy.value(44)  # one value per scrape interval
    assert format_value(0.00001) == "0.00001" and format_value(5.0) == "5"
    assert format_value(float("nan")) == "NaN" and format_value(float("inf")) == "+Inf"


def test_fingerprint_is_alertmanagers():
    # Alertmanager's fingerprint of {} is FNV-1a's offset basis; labels change it.
    assert fingerprint({}) == "cbf29ce484222325"
    fp = fingerprint({"alertname": "A", "severity": "critical"})
    assert len(fp) == 16 and fp == fingerprint({"severity": "critical", "alertname": "A"})


def test_clock_timestamp_modes():
    from datetime import UTC, datetime, timedelta

    start = datetime(2024, 1, 1, tzinfo=UTC)
    world = WorldClock(10.0, start)
    wall = WorldClock(10.0, start, wall_timestamps=True)
    assert world.at(100) == start + timedelta(seconds=100)
    assert wall.at(100) == start + timedelta(seconds=10)
    assert wall.at(-3600) == start - timedelta(hours=1)  # history is not compressed
    for clock in (world, wall):
        for t in (-500.0, 0.0, 42.0):
            assert clock.scenario_time(clock.epoch(t)) == pytest.approx(t)


def test_go_duration():
    assert [go_duration(s) for s in (10, 80, 300)] == ["10s", "1m20s", "5m0s"]


def test_logs_are_deterministic_and_crash_last():
    prof = LogProfile(
        "p", startup=("start $pod",), lines=("req $rid ${ms}ms",), every=1, crash=("boom",)
    )
    from datetime import UTC, datetime, timedelta

    at = lambda t: datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=t)  # noqa: E731
    kw = dict(seed="s", start=0.0, end=10.0, crashed=True, base={"pod": "p1"}, at=at)
    a, b = run_lines(prof, **kw), run_lines(prof, **kw)
    assert a == b and a[0][1] == "start p1" and a[-1][1] == "boom"
    assert len([x for x in a if x[1].startswith("req ")]) == 10


# --- simulation on a fake clock ----------------------------------------------------------------


class FakeClock(WorldClock):
    def __init__(self) -> None:
        super().__init__(speed=1.0)
        self.t = 0.0

    def elapsed(self) -> float:
        return self.t


def sim(text: str) -> tuple[FakeClock, Scheduler, Cluster, Engine]:
    sc = parse_scenario(textwrap.dedent(text), "test.yaml")
    clock = FakeClock()
    sched = Scheduler(clock)
    cluster = Cluster(sc, clock, sched)
    cluster.populate()
    engine = Engine(sc, cluster, clock, sched)
    engine.start()
    return clock, sched, cluster, engine


def advance(clock: FakeClock, sched: Scheduler, until: float, step: float = 0.25) -> None:
    while clock.t < until:
        clock.t = min(until, clock.t + step)
        sched.run_due()


def statuses(cluster: Cluster, app: str) -> list[str]:
    pods = cluster.store.objects("pods", cluster.namespace)
    return sorted(pod_status(p)[0] for p in pods if p["metadata"]["labels"].get("app") == app)


NODE_LOSS = """
name: node-loss
namespace: shop
nodes: [n1, n2, n3]
workloads:
  - {name: web, replicas: 3, image: "web:1"}
  - {kind: DaemonSet, name: agent, image: "agent:1", port: null}
  - {kind: StatefulSet, name: db, replicas: 2, image: "db:1"}
timeline:
  - at: 10
    do: [{node: {name: n1, ready: false}}]
  - at: 200
    do: [{node: {name: n1, ready: true}}]
timings: {eviction: 30}
"""


def test_node_loss_evicts_and_reschedules():
    clock, sched, cluster, _ = sim(NODE_LOSS)
    assert statuses(cluster, "web") == ["Running"] * 3
    assert len(statuses(cluster, "agent")) == 3
    advance(clock, sched, 20)
    node = cluster.store.get("nodes", "", "n1")
    assert {c["type"]: c["status"] for c in node["status"]["conditions"]}["Ready"] == "Unknown"
    advance(clock, sched, 45)  # evicted: Unknown (NodeLost), replacements on other nodes
    web = cluster.store.objects("pods", "shop")
    lost = [
        p
        for p in web
        if p["spec"].get("nodeName") == "n1" and p["metadata"]["labels"]["app"] == "web"
    ]
    assert lost and all(pod_status(p)[0] == "Unknown" for p in lost)
    advance(clock, sched, 80)
    running_web = [
        p
        for p in cluster.store.objects("pods", "shop")
        if p["metadata"]["labels"]["app"] == "web" and pod_status(p)[0] == "Running"
    ]
    assert len(running_web) == 3 and all(p["spec"]["nodeName"] != "n1" for p in running_web)
    advance(clock, sched, 260)  # the node returns: stuck pods go away, DaemonSet pod back
    assert statuses(cluster, "web") == ["Running"] * 3
    assert statuses(cluster, "agent") == ["Running"] * 3
    assert statuses(cluster, "db") == ["Running"] * 2


RECREATE = """
name: recreate
namespace: shop
nodes: [n1]
behaviors:
  oom: {crash: {reason: OOMKilled, exit_code: 137, after: 5}}
workloads:
  - {name: api, replicas: 2, image: "api:1", strategy: Recreate}
metrics: [{id: m, expr: up, value: 1}]
timeline:
  - at: 5
    do: [{rollout: {workload: deployment/api, image: "api:2", behavior: oom}}, {set: broken}]
reactions:
  - when: {scale: deployment/api, min_replicas: 4}
    if: broken
    do: [{behavior: {workload: deployment/api, set: healthy, running: true}}, {clear: broken}]
"""


def test_recreate_rollout_oom_and_scale_reaction():
    clock, sched, cluster, engine = sim(RECREATE)
    advance(clock, sched, 40)
    pods = [p for p in cluster.store.objects("pods", "shop")]
    assert len(pods) == 2 and all(p["spec"]["containers"][0]["image"] == "api:2" for p in pods)
    last = [p["status"]["containerStatuses"][0]["lastState"] for p in pods]
    assert all(x["terminated"]["reason"] == "OOMKilled" for x in last)
    assert all(x["terminated"]["exitCode"] == 137 for x in last)
    cluster.scale("deployment/api", 4)  # a scenario scale does not trigger reactions
    assert "broken" in engine.flags
    old = cluster.store.get("deployments", "shop", "api")
    import copy

    new = copy.deepcopy(old)
    new["spec"]["replicas"] = 5
    cluster.update_workload("deployments", copy.deepcopy(old), new)  # as the API server does
    assert "broken" not in engine.flags
    advance(clock, sched, 400)
    assert statuses(cluster, "api") == ["Running"] * 5


def shipped() -> tuple[FakeClock, Scheduler, Cluster, Engine]:
    from warroom.drill.scenario import load_scenario

    sc = load_scenario("crashloop-after-deploy")
    clock = FakeClock()
    sched = Scheduler(clock)
    cluster = Cluster(sc, clock, sched)
    cluster.populate()
    engine = Engine(sc, cluster, clock, sched)
    engine.start()
    return clock, sched, cluster, engine


def patch_template(cluster: Cluster, change) -> None:
    import copy

    old = cluster.store.get("deployments", "shop", "checkout-api")
    new = copy.deepcopy(old)
    change(new["spec"]["template"])
    cluster.update_workload("deployments", copy.deepcopy(old), new)


def test_shipped_scenario_breaks_and_restart_heals():
    clock, sched, cluster, engine = shipped()
    advance(clock, sched, 48)
    assert statuses(cluster, "checkout-api") == ["Running"] * 3  # 2.9.0 rolled out fine
    assert engine.impact_at is None
    advance(clock, sched, 90)
    assert engine.impact_at == 50  # the entry marked `impact: true` ran
    assert set(statuses(cluster, "checkout-api")) <= {"CrashLoopBackOff", "Error", "Running"}
    assert engine.alerts["CheckoutHighErrorRate"].state == "firing"
    errors = engine.series["checkout_errors"]
    assert errors.value(90) > 0.05
    patch_template(
        cluster,
        lambda t: (
            t["metadata"]
            .setdefault("annotations", {})
            .update({"kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"})
        ),
    )
    advance(clock, sched, 150)
    pods = [
        p
        for p in cluster.store.objects("pods", "shop")
        if p["metadata"]["labels"]["app"] == "checkout-api"
    ]
    assert len(pods) == 3 and all(pod_status(p)[:2] == ("Running", 1) for p in pods)
    assert errors.value(150) < 0.01
    assert engine.alerts["CheckoutHighErrorRate"].state == "inactive"


def test_shipped_scenario_rollback_before_the_break_prevents_it():
    clock, sched, cluster, engine = shipped()
    advance(clock, sched, 45)
    patch_template(
        cluster,
        lambda t: t["spec"]["containers"][0].update(
            image="registry.example.com/shop/checkout-api:2.8.3"
        ),
    )
    advance(clock, sched, 200)
    assert "rolled-back" in engine.flags and "broken" not in engine.flags
    assert statuses(cluster, "checkout-api") == ["Running"] * 3
    assert engine.alerts["CheckoutHighErrorRate"].state == "inactive"
    assert any(h.kind == "skipped" for h in engine.log)
    assert engine.impact_at is None  # prevented: no impact, so no impact start in the report
