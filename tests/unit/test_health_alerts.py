"""Alertmanager: parsing API v2 alerts and diffing snapshots into fired/resolved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from warroom.alerts import AlertSnapshot, parse_alert
from warroom.signals.alerts import AlertTracker

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def raw(fp: str, name: str = "HighErrors", state: str = "active", **annotations: str) -> dict:
    return {
        "fingerprint": fp,
        "labels": {"alertname": name, "severity": "critical", "service": "shop"},
        "annotations": annotations or {"summary": f"{name} on shop"},
        "startsAt": "2026-11-22T09:58:01.123456789Z",
        "endsAt": "2026-11-22T10:02:01.000Z",
        "status": {"state": state, "silencedBy": [], "inhibitedBy": []},
    }


def snap(seconds: float, *alerts: dict[str, Any], ok: bool = True) -> AlertSnapshot:
    parsed = [a for a in map(parse_alert, alerts) if a]
    return AlertSnapshot(
        ok=ok,
        fetched_at=T0 + timedelta(seconds=seconds),
        alerts=[a for a in parsed if a.state != "suppressed"],
        suppressed=[a for a in parsed if a.state == "suppressed"],
        error=None if ok else "cannot reach",
    )


def test_parse_alert_keeps_raw_strings() -> None:
    evil = "\x1b[31m[bold]red[/bold]\x07"
    a = parse_alert(raw("abc", summary=evil))
    assert a is not None
    assert (a.fingerprint, a.name, a.severity) == ("abc", "HighErrors", "critical")
    assert a.state == "active"
    assert a.starts_at == datetime(2026, 11, 22, 9, 58, 1, 123456, tzinfo=UTC)
    assert a.summary == evil  # untouched: the UI sanitises
    assert a.labels["service"] == "shop"


def test_parse_alert_tolerates_odd_input() -> None:
    assert parse_alert({"labels": {}}) is None
    assert parse_alert("nope") is None
    a = parse_alert({"fingerprint": "x", "labels": {"n": 1}, "startsAt": "garbage", "status": 3})
    assert a is not None
    assert (a.name, a.labels, a.starts_at) == ("", {"n": "1"}, None)
    assert (a.state, a.summary) == ("active", "")
    b = parse_alert({**raw("y"), "annotations": {"description": "desc only"}})
    assert b is not None and b.summary == "desc only"


def kinds(transitions: list) -> list[tuple[str, str, bool]]:
    return [(t.kind, t.alert.fingerprint, t.initial) for t in transitions]


def test_tracker_reports_initial_fired_resolved() -> None:
    tr = AlertTracker()
    assert kinds(tr.update(snap(0, raw("a")))) == [("fired", "a", True)]
    assert tr.update(snap(10, raw("a"))) == []
    assert kinds(tr.update(snap(20, raw("a"), raw("b", "Latency")))) == [("fired", "b", False)]
    out = tr.update(snap(30, raw("b", "Latency")))
    assert kinds(out) == [("resolved", "a", False)]
    assert out[0].at == T0 + timedelta(seconds=30)
    assert out[0].text == (
        "alert HighErrors [critical] resolved: HighErrors on shop (gone from Alertmanager)"
    )
    assert out[0].inferred  # nothing but its absence says it resolved
    assert [a.fingerprint for a in tr.active] == ["b"]


def test_tracker_ignores_failed_snapshots() -> None:
    tr = AlertTracker()
    assert tr.update(snap(0, ok=False)) == []
    tr.update(snap(10, raw("a")))
    assert tr.update(snap(20, ok=False)) == []  # an outage is not a resolution
    assert tr.update(snap(30, raw("a"))) == []


def test_tracker_tells_silenced_from_resolved() -> None:
    tr = AlertTracker()
    tr.update(snap(0, raw("a")))
    assert kinds(tr.update(snap(10, raw("a", state="suppressed")))) == [("suppressed", "a", False)]
    assert kinds(tr.update(snap(20, raw("a")))) == [("fired", "a", False)]


def test_empty_first_snapshot_then_fired_is_not_initial() -> None:
    tr = AlertTracker()
    assert tr.update(snap(0)) == []
    assert kinds(tr.update(snap(10, raw("a")))) == [("fired", "a", False)]
