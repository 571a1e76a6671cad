import json
from datetime import timedelta

from warroom.model import Severity
from warroom.report import md_inline, metrics, to_json, to_markdown


def run_incident(declare, clock):
    room = declare(
        title="Checkout | errors <b>", severity="P2", started_at=clock.now - timedelta(minutes=5)
    )
    clock.advance(minutes=2)
    room.mark_detected(clock.now - timedelta(minutes=5), "error ratio > 5%")  # alert, 3m before
    clock.advance(minutes=3)
    room.acknowledge()
    room.change_severity("P1", "spreading")
    room.assign_role("commander", "Ann")
    room.add_note("Impact: 30% of checkouts failed")
    room.add_note("Root cause: release 1.42 dropped the DB pool size")
    room.add_note("TODO: alert on pool exhaustion")
    room.add_note("Lesson: canary would have caught it")
    room.add_note("Prevention: pool size in config tests")
    n = room.add_note("rollback | started\nsecond line")
    room.pin(n.seq)
    room.record_action(
        "Rollout restart deployment shop/checkout-api",
        verb="rollout-restart",
        target="deployment/shop/checkout-api",
        ok=True,
        revert="kubectl rollout undo deployment/checkout-api -n shop",
    )
    clock.advance(minutes=25)
    room.resolve("rolled back")
    return room


def test_metrics_from_the_timeline(declare, clock) -> None:
    room = run_incident(declare, clock)
    m = metrics(room.state, clock.now)
    # impact at T0-5m; alert (detection) at T0-3m; declared T0; acked T0+5m; resolved T0+30m
    assert m.mttd == timedelta(minutes=2)
    assert m.detected_at == room.state.declared_at - timedelta(minutes=3)
    assert m.mtta == timedelta(minutes=8)
    assert m.mttr == timedelta(minutes=33)
    assert m.time_in_severity[Severity.P2] == timedelta(minutes=5)
    assert m.time_in_severity[Severity.P1] == timedelta(minutes=25)


def test_markdown_has_every_section_and_escapes(declare, clock) -> None:
    room = run_incident(declare, clock)
    md = to_markdown(room.store.events(), clock.now)
    for heading in (
        "## Overview",
        "## Metrics",
        "## Timeline",
        "## Impact",
        "## Root Cause",
        "## Resolution",
        "## Prevention Measures",
        "## Lessons Learned",
        "## Action Items",
    ):
        assert heading in md, heading
    assert "Checkout \\| errors &lt;b&gt;" in md
    assert "- [ ] A1: alert on pool exhaustion (no owner, no due date): open" in md
    assert "release 1.42 dropped the DB pool size" in md
    assert "kubectl rollout undo deployment/checkout-api -n shop" in md
    assert "| MTTA (time to acknowledge) | 8m00s |" in md
    assert "| P1 | 25m |" in md
    # Every timeline row has exactly 5 unescaped pipes: hostile text cannot add columns.
    rows = [ln for ln in md.splitlines() if ln.startswith("| ") and ":" in ln[:12]]
    assert rows
    for ln in rows:
        assert ln.replace("\\|", "").count("|") == 5, ln
    assert "**(pinned)**" in md
    assert "second line" in md and "started\nsecond" not in md


def test_json_export_round_trips(declare, clock) -> None:
    room = run_incident(declare, clock)
    doc = json.loads(to_json(room.store.events(), clock.now))
    assert doc["incident"]["id"] == room.incident_id
    assert doc["metrics"]["mttd_s"] == 120
    assert doc["metrics"]["mtta_s"] == 480
    assert doc["metrics"]["mttr_s"] == 33 * 60
    assert len(doc["events"]) == len(room.store.events())
    assert doc["events"][0]["hash"] == room.store.events()[0].hash


def test_drill_is_marked(declare, clock) -> None:
    room = declare(drill=True, scenario="crashloop-after-deploy")
    assert room.incident_id.startswith("DRILL-")
    md = to_markdown(room.store.events(), clock.now)
    assert md.startswith("# [DRILL] Incident report")
    assert json.loads(to_json(room.store.events()))["incident"]["drill"] is True


def test_md_inline_neutralises_escapes_and_markup() -> None:
    assert md_inline("\x1b[31mred\x1b[0m | [x](http://e) # h") == "red \\| \\[x\\](http://e) \\# h"


def test_an_impact_learnt_afterwards_moves_detection_to_the_first_signal(declare, clock) -> None:
    """A drill is declared before its failure starts; the drill records when the failure
    began once it ends. Detection is then the first signal from that moment on (a check
    turning crit, an alert firing), not the declaration, and MTTD/MTTA/MTTR follow."""
    from warroom.model import Kind, format_ts

    room = declare(title="Drill: checkout", severity="P3")
    t0 = clock.now
    clock.advance(seconds=5)
    room.acknowledge()  # the drill's page: acknowledged before anything broke
    clock.advance(seconds=5)
    room.record(Kind.CHECK, "Checkout p99 warn", {"check": "p99", "to": "warn"}, source="prom")
    clock.advance(seconds=40)  # t0+50s: the failure starts (not yet known to the timeline)
    clock.advance(seconds=20)
    room.record(Kind.CHECK, "Checkout errors crit", {"check": "err", "to": "crit"}, source="prom")
    clock.advance(seconds=15)
    room.record(Kind.ALERT, "alert fired", {"transition": "fired"}, source="alertmanager")
    clock.advance(minutes=4)
    room.resolve("rolled back")
    before = metrics(room.state, clock.now)
    assert before.mttd == timedelta(0) and before.detected_at == t0  # the declaration
    room.record(
        Kind.SYSTEM,
        "Drill ended",
        {"drill": "end", "impact_started": format_ts(t0 + timedelta(seconds=50))},
        source="drill",
    )
    m = metrics(room.state, clock.now)
    assert m.started_at == t0 + timedelta(seconds=50)
    assert m.detected_at == t0 + timedelta(seconds=70)  # the crit, not the earlier noise
    assert m.mttd == timedelta(seconds=20)
    assert m.mtta == timedelta(0)  # acknowledged before the failure: nothing to wait for
    assert m.mttr == timedelta(minutes=4, seconds=15)
    assert "| MTTD (time to detect) | 20s |" in to_markdown(room.store.events(), clock.now)


def test_due_times_follow_a_severity_change_in_the_export(declare, clock, settings) -> None:
    """Declared P3 (respond within 24h), raised to P1 (1h): the export, the console's state and
    a projection of the events alone give one due time, P1's."""
    from warroom.projection import project

    room = declare(title="Slow checkout", severity="P3")
    declared = clock.now
    clock.advance(minutes=4)
    room.change_severity("P1", "errors spreading")
    p1 = settings.policy("P1").respond_within
    checklist = json.loads(to_json(room.events))["incident"]["checklist"]
    exported = {i["id"]: i["due_at"] for i in checklist}
    expected = (declared + p1).isoformat(timespec="milliseconds")
    assert exported["ic-assigned"] == expected
    assert project(room.events).checklist["ic-assigned"].due_at == declared + p1
    assert room.state.checklist["ic-assigned"].due_at == declared + p1
