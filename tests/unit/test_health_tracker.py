"""CheckTracker: `for_` gating, flap coalescing, rate limit; HealthTracker over snapshots."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warroom.checks import CheckSpec, CheckState
from warroom.health import CheckResult, CheckTracker, HealthSnapshot, HealthTracker

T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
OK, WARN, CRIT = CheckState.OK, CheckState.WARN, CheckState.CRIT
NODATA, ERROR = CheckState.NODATA, CheckState.ERROR
SPEC = CheckSpec("errors", "x", warn=1, crit=5, unit="ratio")


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def run(tracker: CheckTracker, states: list[tuple[float, CheckState]]) -> list[tuple]:
    """Feed (second, state) pairs; return (second, previous, state) of each report."""
    out = []
    for s, state in states:
        t = tracker.feed(state, at(s))
        if t is not None:
            out.append((s, t.previous, t.state))
    return out


def test_healthy_start_is_quiet_and_first_bad_state_is_reported() -> None:
    tr = CheckTracker(SPEC, min_interval=timedelta(0))
    assert run(tr, [(0, OK), (15, OK), (30, CRIT)]) == [(30, OK, CRIT)]


def test_bad_first_observation_is_reported() -> None:
    tr = CheckTracker(SPEC)
    assert run(tr, [(0, NODATA)]) == [(0, None, NODATA)]


def test_for_delays_escalation_until_held() -> None:
    spec = CheckSpec("errors", "x", warn=1, crit=5, for_=timedelta(minutes=2))
    tr = CheckTracker(spec, min_interval=timedelta(0))
    reports = run(tr, [(0, OK), (10, CRIT), (60, CRIT), (129, CRIT), (130, CRIT)])
    assert reports == [(130, OK, CRIT)]
    assert tr.effective is CRIT
    assert tr.effective_since == at(130)


def test_for_resets_when_the_condition_breaks() -> None:
    spec = CheckSpec("errors", "x", crit=5, for_=timedelta(seconds=60))
    tr = CheckTracker(spec, min_interval=timedelta(0))
    assert run(tr, [(0, OK), (10, CRIT), (50, OK), (60, CRIT), (100, CRIT)]) == []
    assert run(tr, [(120, CRIT)]) == [(120, OK, CRIT)]


def test_for_counts_time_at_least_a_level() -> None:
    # warn for 60s then crit: warn is reached at 60s, crit needs its own 60s
    spec = CheckSpec("errors", "x", warn=1, crit=5, for_=timedelta(seconds=60))
    tr = CheckTracker(spec, min_interval=timedelta(0))
    reports = run(tr, [(0, WARN), (30, CRIT), (60, CRIT), (90, CRIT)])
    assert reports == [(60, OK, WARN), (90, WARN, CRIT)]


def test_recovery_and_unknown_states_apply_at_once() -> None:
    spec = CheckSpec("errors", "x", crit=5, for_=timedelta(seconds=60))
    tr = CheckTracker(spec, min_interval=timedelta(0))
    assert run(tr, [(0, CRIT), (60, CRIT), (61, OK), (62, ERROR)]) == [
        (60, OK, CRIT),
        (61, CRIT, OK),
        (62, OK, ERROR),
    ]


def test_deescalation_keeps_level_still_held() -> None:
    spec = CheckSpec("errors", "x", warn=1, crit=5, for_=timedelta(seconds=30))
    tr = CheckTracker(spec, min_interval=timedelta(0))
    assert run(tr, [(0, CRIT), (30, CRIT), (40, WARN)]) == [(30, OK, CRIT), (40, CRIT, WARN)]


def test_rate_limit_coalesces_flapping() -> None:
    tr = CheckTracker(SPEC, min_interval=timedelta(seconds=60))
    flaps = [(0, OK), (10, CRIT), (20, OK), (30, CRIT), (40, OK), (50, CRIT), (60, OK)]
    assert run(tr, flaps) == [(10, OK, CRIT)]  # then nothing for 60s
    assert run(tr, [(70, OK)]) == [(70, CRIT, OK)]  # the state standing when allowed


def test_flap_back_to_reported_state_is_never_reported() -> None:
    tr = CheckTracker(SPEC, min_interval=timedelta(seconds=60))
    assert run(tr, [(0, OK), (10, CRIT), (20, OK), (30, CRIT), (80, CRIT), (200, CRIT)]) == [
        (10, OK, CRIT)
    ]


def test_settle_requires_stability() -> None:
    tr = CheckTracker(SPEC, settle=timedelta(seconds=30), min_interval=timedelta(0))
    assert run(tr, [(0, OK), (10, CRIT), (20, OK), (30, CRIT), (50, CRIT)]) == []
    assert run(tr, [(60, CRIT)]) == [(60, OK, CRIT)]


def test_transition_carries_since_value_and_text() -> None:
    spec = CheckSpec("error_ratio", "x", warn=0.01, crit=0.05, unit="ratio")
    tr = CheckTracker(spec, settle=timedelta(seconds=10))
    tr.feed(OK, at(0), 0.001)
    assert tr.feed(CRIT, at(5), 0.07) is None
    t = tr.feed(CRIT, at(15), 0.073)
    assert t is not None
    assert (t.check, t.since, t.at, t.value) == ("error_ratio", at(5), at(15), 0.073)
    assert t.text == "error_ratio crit: 7.3% (crit >= 5%)"


def snap(seconds: float, states: dict[str, CheckState], ok: bool = True) -> HealthSnapshot:
    specs = {"a": CheckSpec("a", "x", crit=1), "b": CheckSpec("b", "y", crit=1)}
    results = [CheckResult(specs[n], 1.0 if s is CRIT else 0.0, s) for n, s in states.items()]
    return HealthSnapshot(ok=ok, fetched_at=at(seconds), results=results if ok else [])


def test_health_tracker_feeds_every_check_and_skips_failed_snapshots() -> None:
    specs = [CheckSpec("a", "x", crit=1), CheckSpec("b", "y", crit=1)]
    ht = HealthTracker(specs, min_interval=timedelta(0))
    assert ht.feed(snap(0, {"a": OK, "b": OK})) == []
    assert [(t.check, t.state) for t in ht.feed(snap(10, {"a": CRIT, "b": OK}))] == [("a", CRIT)]
    assert ht.feed(snap(20, {}, ok=False)) == []  # outage: no transitions, state kept
    assert ht.effective("a") is CRIT
    assert ht.effective("nope") is None
    assert [(t.check, t.state) for t in ht.feed(snap(30, {"a": OK, "b": OK}))] == [("a", OK)]
