"""Drill scoring on hand-built timelines: every objective's pass and miss, the measured times
(wall clock, with the scenario clock beside them), pod-to-workload matching, the report."""

from datetime import UTC, datetime, timedelta

import pytest

from warroom.drill.objectives import ActionRule, Objectives
from warroom.drill.report import score_drill, to_markdown
from warroom.drill.scenario import ScenarioError, load_scenario, parse_scenario
from warroom.drill.scoring import score, workload_of
from warroom.model import Event, Kind, Severity, format_ts
from warroom.settings import load_settings

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
WORKLOADS = ["deployment/checkout-api", "deployment/inventory", "statefulset/redis-cart"]
CRASHLOOP = Objectives(
    severity=(Severity.P1, Severity.P0),
    right=(ActionRule("restart", "deployment/checkout-api"),),
    wrong=(ActionRule("delete", "deployment/checkout-api", why="the new pod panics too"),),
)


@pytest.fixture
def policy():
    return load_settings(env={"USER": "ann"}).policy


class Timeline:
    """Events as the store would hold them, `at` in wall seconds after T0."""

    def __init__(self, speed: float = 1.0) -> None:
        self.events: list[Event] = []
        self.add(
            0,
            Kind.DECLARED,
            "[DRILL] P3 declared",
            actor="ann",
            data={
                "incident_id": "DRILL-1",
                "title": "t",
                "severity": "P3",
                "drill": True,
                "scenario": "crashloop-after-deploy",
            },
        )
        self.add(
            0,
            Kind.CHECKLIST,
            "Checklist",
            data={
                "op": "add",
                "items": [
                    {
                        "id": "a",
                        "phase": "detect",
                        "phase_title": "Detect",
                        "text": "Owner assigned",
                    },
                    {
                        "id": "b",
                        "phase": "recover",
                        "phase_title": "Recover",
                        "text": "Health verified",
                    },
                    {"id": "c", "phase": "post", "phase_title": "Post", "text": "Post-mortem"},
                ],
            },
        )
        self.add(
            0,
            Kind.SYSTEM,
            "Drill started",
            actor="drill",
            data={
                "drill": "start",
                "speed": speed,
                "t0": format_ts(T0),
            },
        )

    def add(self, at: float, kind: str, text: str = "", actor: str = "ann", data=None) -> Event:
        ev = Event(
            len(self.events) + 1,
            format_ts(T0 + timedelta(seconds=at)),
            actor,
            kind,
            text,
            data or {},
        )
        self.events.append(ev)
        return ev

    def restart(self, at: float, name: str = "checkout-api") -> None:
        self.add(
            at,
            Kind.ACTION,
            f"rollout restart deployment/{name}",
            data={"verb": "rollout-restart", "target": f"deployments/shop/{name}", "ok": True},
        )

    def delete(self, at: float, pod: str, **extra) -> None:
        self.add(
            at,
            Kind.ACTION,
            f"deleted pod {pod}",
            data={"verb": "delete-pod", "target": f"pods/shop/{pod}", "ok": True, **extra},
        )

    def perfect(self) -> "Timeline":
        self.add(72, Kind.ACK, "Acknowledged")
        self.add(90, Kind.SEVERITY, "P3 -> P1", data={"from": "P3", "to": "P1"})
        self.add(120, Kind.UPDATE, "INCIDENT NOTIFICATION")
        self.add(200, Kind.EVIDENCE, "Evidence bundle", data={"bundle": "b.tar.gz"})
        self.restart(210)
        for item in ("a", "b"):
            self.add(300, Kind.CHECKLIST, "[x]", data={"op": "done", "item": item})
        self.add(400, Kind.RESOLVED, "Resolved", data={"summary": "restart"})
        return self


def test_a_perfect_run_wins_with_measured_times(policy) -> None:
    result = score(Timeline().perfect().events, CRASHLOOP, policy, workloads=WORKLOADS)
    assert result.won and result.points == result.max_points == 100
    ack = result.by_id("ack")
    assert ack.passed and ack.measured == "acknowledged after 1m12s (scenario t+1m12s)"
    assert ack.limit == "1h00m (P1 respond_within)"  # the expected severity's policy
    assert result.by_id("severity").measured.startswith("set to P1 after 1m30s")
    assert result.by_id("first_update").limit == "1h00m (P1 update_every)"
    assert "after 3m30s" in result.by_id("mitigation").measured
    # post-incident items are not expected during a drill
    assert result.by_id("phases").measured == "Detect 1/1, Recover 1/1"


def test_scenario_time_is_wall_time_times_speed(policy) -> None:
    result = score(Timeline(speed=5).perfect().events, CRASHLOOP, policy, workloads=WORKLOADS)
    assert result.clock.speed == 5
    assert result.by_id("ack").measured == "acknowledged after 1m12s (scenario t+6m00s)"


def test_a_scenario_limit_overrides_the_policy_and_a_late_ack_misses(policy) -> None:
    tl = Timeline()
    tl.add(400, Kind.ACK, "Acknowledged")
    obj = Objectives(ack_within=timedelta(minutes=5))
    ack = score(tl.events, obj, policy).by_id("ack")
    assert not ack.passed and ack.points == 0 and ack.max_points == 15
    assert ack.limit == "5m00s (scenario objective)"
    assert ack.missed == "Acknowledged 1m40s past the limit."


def test_nothing_done_loses_every_objective(policy) -> None:
    result = score(Timeline().events, CRASHLOOP, policy, workloads=WORKLOADS)
    assert not result.won and result.points == 0
    assert result.by_id("ack").measured == "never acknowledged"
    assert result.by_id("severity").measured == "ended at P3"
    assert "P1/P0" in result.by_id("severity").limit
    assert result.by_id("mitigation").measured == "no mitigating action"
    assert result.by_id("phases").missed == "Still open: Owner assigned; Health verified."
    assert result.by_id("resolved").measured == "not resolved"


def test_a_wrong_move_before_the_fix_costs_the_mitigation_and_the_win(policy) -> None:
    tl = Timeline()
    tl.add(60, Kind.ACK)
    tl.add(61, Kind.SEVERITY, data={"from": "P3", "to": "P0"})  # P0 is accepted too
    tl.add(62, Kind.UPDATE)
    tl.add(100, Kind.EVIDENCE)
    tl.delete(110, "checkout-api-5d8f9c7b6-abcde")
    tl.restart(150)
    tl.add(200, Kind.RESOLVED)
    result = score(tl.events, CRASHLOOP, policy, workloads=WORKLOADS)
    assert result.by_id("severity").passed
    m = result.by_id("mitigation")
    assert not m.passed and "wrong move" in m.measured
    assert "delete a pod of deployment/checkout-api (the new pod panics too)" in m.missed
    assert result.wrong_moves == [
        "delete a pod of deployment/checkout-api at 1m50s (scenario t+1m50s): "
        "the new pod panics too"
    ]
    assert result.by_id("resolved").passed  # resolved after the real fix
    assert not result.won  # mitigation is required


def test_evidence_must_come_before_the_first_change(policy) -> None:
    tl = Timeline()
    tl.restart(100)
    tl.add(120, Kind.EVIDENCE)
    ev = score(tl.events, CRASHLOOP, policy, workloads=WORKLOADS).by_id("evidence")
    assert not ev.passed
    assert (
        ev.measured
        == "evidence at 2m00s (scenario t+2m00s), first change at 1m40s (scenario t+1m40s)"
    )
    tl = Timeline()
    tl.add(90, Kind.EVIDENCE)
    tl.restart(100)
    assert score(tl.events, CRASHLOOP, policy, workloads=WORKLOADS).by_id("evidence").passed


def test_resolving_before_any_fix_is_not_a_resolution(policy) -> None:
    tl = Timeline()
    tl.add(100, Kind.RESOLVED)
    tl.restart(120)
    r = score(tl.events, CRASHLOOP, policy, workloads=WORKLOADS).by_id("resolved")
    assert not r.passed and r.measured.endswith("with no fix in place")


def test_pods_map_to_their_workloads() -> None:
    assert (
        workload_of("pods/shop/checkout-api-5d8f9c7b6-abcde", WORKLOADS)
        == "deployment/checkout-api"
    )
    assert workload_of("pods/shop/redis-cart-0", WORKLOADS) == "statefulset/redis-cart"
    assert workload_of("pods/shop/checkout-api-canary", WORKLOADS) == ""
    assert workload_of("deployments/shop/inventory", WORKLOADS) == "deployment/inventory"


def test_scale_and_force_rules_need_their_conditions(policy) -> None:
    obj = Objectives(
        right=(
            ActionRule("scale", "deployment/inventory", min_replicas=4),
            ActionRule("delete", "statefulset/redis-cart", force=True),
        )
    )
    tl = Timeline()
    tl.add(
        10,
        Kind.ACTION,
        "scaled to 3",
        data={
            "verb": "scale",
            "target": "deployments/shop/inventory",
            "ok": True,
            "replicas": 3,
            "workload": "deployment/inventory",
        },
    )
    tl.delete(20, "redis-cart-0")  # a graceful delete: the pod stays Terminating
    tl.add(
        30,
        Kind.ACTION,
        "failed",
        data={"verb": "scale", "target": "deployments/shop/inventory", "ok": False, "replicas": 9},
    )
    assert not score(tl.events, obj, policy, workloads=WORKLOADS).by_id("mitigation").passed
    tl.delete(40, "redis-cart-0", grace=0)
    m = score(tl.events, obj, policy, workloads=WORKLOADS).by_id("mitigation")
    assert m.passed and m.measured.startswith("deleted pod redis-cart-0 after 40s")


def test_shipped_scenarios_name_right_and_wrong_moves() -> None:
    for name in ("crashloop-after-deploy", "error-spike-dependency", "node-loss"):
        obj = load_scenario(name).objectives
        assert obj.expected_severity is not None and obj.right and obj.wrong, name
    assert load_scenario("node-loss").objectives.right[0].force


def test_objective_errors_name_the_key() -> None:
    base = "name: x\nnodes: [n1]\nworkloads: [{name: web, image: web:1}]\n"
    with pytest.raises(ScenarioError, match=r"objectives.right\[0\].restart: unknown workload"):
        parse_scenario(base + "objectives: {right: [{restart: deployment/nope}]}", "x.yaml")
    with pytest.raises(ScenarioError, match=r"objectives\.speed: unknown key"):
        parse_scenario(base + "objectives: {speed: 3}", "x.yaml")
    with pytest.raises(ScenarioError, match=r"objectives\.severity: unknown severity"):
        parse_scenario(base + "objectives: {severity: P9}", "x.yaml")
    sc = parse_scenario(base + "objectives: {ack_within: 5m, points: {ack: 40}}", "x.yaml")
    assert sc.objectives.ack_within == timedelta(minutes=5) and sc.objectives.points["ack"] == 40


def test_the_report_keeps_outside_text_inert(policy) -> None:
    tl = Timeline().perfect()
    tl.add(401, Kind.NOTE, "| x | <script>alert(1)</script> [click](http://evil) # head")
    scenario = load_scenario("crashloop-after-deploy")
    result = score_drill(tl.events, scenario, policy)
    md = to_markdown(tl.events, scenario, result)
    assert "**Result: WON, 100/100 points (100%).**" in md
    assert "<script>" not in md and "[click](" not in md  # no tag, no link
    assert "\\| x \\| &lt;script&gt;" in md and "\\[click\\]" in md
    assert "| Acknowledged within the response time | pass | 15/15 | acknowledged after 1m12s" in md
    assert "_Nothing: every objective was met._" in md


def test_a_delete_trigger_can_require_force() -> None:
    base = "name: x\nnodes: [n1]\nworkloads: [{name: web, image: web:1}]\n"
    sc = parse_scenario(
        base + "reactions: [{when: {delete: deployment/web, force: true}, do: [{set: ok}]}]"
    )
    assert sc.reactions[0].when.force
    with pytest.raises(ScenarioError, match=r"reactions\[0\]\.when\.force: must be true or false"):
        parse_scenario(base + "reactions: [{when: {delete: deployment/web, force: 1}}]", "x.yaml")
