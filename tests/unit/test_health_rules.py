"""Detection rules: parsing and evaluation over time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from warroom.checks import (
    CheckSpec,
    CheckState,
    Condition,
    DetectionRule,
    HealthConfigError,
    parse_rules,
)
from warroom.health import CheckResult, HealthSnapshot, RuleEvaluator, evaluate
from warroom.model import Severity

SRC = "warroom.toml"
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
ERRORS = CheckSpec("error_ratio", "e", warn=0.01, crit=0.05, unit="ratio")
LATENCY = CheckSpec("p99_latency", "l", warn=0.5, crit=1.0, unit="s")
SPECS = [ERRORS, LATENCY]

RAW = [
    {
        "name": "checkout burning",
        "severity": "P1",
        "for": "2m",
        "when": [
            {"check": "error_ratio", "op": ">", "value": 0.05},
            {"check": "p99_latency", "state": "warn"},
        ],
    }
]


def test_parse_rule() -> None:
    [rule] = parse_rules(RAW, SRC, checks=SPECS)
    assert rule == DetectionRule(
        "checkout burning",
        (
            Condition("error_ratio", op=">", value=0.05),
            Condition("p99_latency", state=CheckState.WARN),
        ),
        timedelta(minutes=2),
        Severity.P1,
    )


def rule_with(**kw: object) -> list[dict]:
    return [{**RAW[0], **kw}]


def cond(**kw: object) -> list[dict]:
    return rule_with(when=[kw])


@pytest.mark.parametrize(
    ("raw", "key", "problem"),
    [
        (rule_with(severity="P7"), "health.rules[0].severity", "P0..P3"),
        (rule_with(**{"for": "later"}), "health.rules[0].for", "not a duration"),
        (rule_with(when=[]), "health.rules[0].when", "non-empty"),
        (rule_with(typo=1), "health.rules[0].typo", "unknown key"),
        ([{"name": "x", "when": [{"check": "error_ratio", "state": "crit"}]}],
         "health.rules[0].severity", "missing"),
        (cond(state="crit"), "health.rules[0].when[0].check", "missing"),
        (cond(check="nope", state="crit"), "health.rules[0].when[0].check", "no check named"),
        (cond(check="error_ratio", state="ok"), "health.rules[0].when[0].state", "warn"),
        (cond(check="error_ratio", state="crit", op=">", value=1),
         "health.rules[0].when[0].state", "either"),
        (cond(check="error_ratio", op="~", value=1), "health.rules[0].when[0].op", "one of"),
        (cond(check="error_ratio", op=">"), "health.rules[0].when[0].op", "needs"),
        (cond(check="error_ratio", op=">", value="x"), "health.rules[0].when[0].value",
         "number"),
        (rule_with(when=["error_ratio > 1"]), "health.rules[0].when[0]", "table"),
        ([*RAW, *RAW], "health.rules[1].name", "duplicate"),
    ],
)  # fmt: skip
def test_parse_errors(raw: list[dict], key: str, problem: str) -> None:
    with pytest.raises(HealthConfigError) as err:
        parse_rules(raw, SRC, checks=SPECS)
    assert (err.value.source, err.value.key) == (SRC, key)
    assert problem in err.value.problem


def test_unknown_check_allowed_without_check_list() -> None:
    assert parse_rules(cond(check="later", state="crit"), SRC)[0].conditions[0].check == "later"


def snapshot(seconds: float, errors: float | None, latency: float | None) -> HealthSnapshot:
    def res(spec: CheckSpec, v: float | None) -> CheckResult:
        return CheckResult(spec, v, evaluate(spec, v, None))

    return HealthSnapshot(
        ok=True,
        fetched_at=T0 + timedelta(seconds=seconds),
        results=[res(ERRORS, errors), res(LATENCY, latency)],
    )


def test_detection_after_all_conditions_held_for_duration() -> None:
    ev = RuleEvaluator(parse_rules(RAW, SRC, checks=SPECS), SPECS)
    assert ev.feed(snapshot(0, 0.07, 0.3)) == []  # latency fine: not all hold
    assert ev.feed(snapshot(15, 0.07, 0.6)) == []  # all hold from here
    assert ev.feed(snapshot(120, 0.08, 0.7)) == []  # 105s < 2m
    [det] = ev.feed(snapshot(135, 0.073, 0.7))
    assert det.since == T0 + timedelta(seconds=15)
    assert det.suggested_severity is Severity.P1
    assert det.at == T0 + timedelta(seconds=135)
    assert det.reason_text == (
        "suggest P1: error_ratio > 5% and p99_latency warn or worse for 2m (now 7.3%)"
    )
    assert ev.feed(snapshot(150, 0.09, 0.7)) == []  # once per episode
    assert set(ev.active) == {"checkout burning"}


def test_episode_ends_when_a_condition_breaks_then_rearms() -> None:
    ev = RuleEvaluator(parse_rules(RAW, SRC), SPECS)
    ev.feed(snapshot(0, 0.07, 0.6))
    assert len(ev.feed(snapshot(120, 0.07, 0.6))) == 1
    assert ev.feed(snapshot(130, 0.01, 0.6)) == []
    assert ev.active == {}
    assert ev.feed(snapshot(140, 0.07, 0.6)) == []
    assert len(ev.feed(snapshot(260, 0.07, 0.6))) == 1


def test_nodata_and_missing_checks_do_not_hold() -> None:
    ev = RuleEvaluator(parse_rules(rule_with(**{"for": "0s"}), SRC))
    assert ev.feed(snapshot(0, None, 2.0)) == []
    only_latency = HealthSnapshot(
        ok=True, fetched_at=T0, results=[CheckResult(LATENCY, 2.0, CheckState.CRIT)]
    )
    assert ev.feed(only_latency) == []


def test_error_state_never_satisfies_a_condition() -> None:
    c_state, c_op = Condition("e", state=CheckState.WARN), Condition("e", op=">", value=0.0)
    broken = CheckResult(ERRORS, 1.0, CheckState.ERROR, "timeout")
    assert not c_state.holds(broken.state, broken.value)
    assert not c_op.holds(broken.state, broken.value)


def test_failed_snapshot_neither_starts_nor_ends_an_episode() -> None:
    ev = RuleEvaluator(parse_rules(RAW, SRC), SPECS)
    ev.feed(snapshot(0, 0.07, 0.6))
    assert ev.feed(HealthSnapshot(ok=False, fetched_at=T0 + timedelta(seconds=60))) == []
    assert len(ev.feed(snapshot(120, 0.07, 0.6))) == 1


def test_comparators_and_reason_without_for() -> None:
    raw = [
        {
            "name": "r",
            "severity": "P3",
            "when": [{"check": "p99_latency", "op": "<=", "value": 0.25}],
        }
    ]
    ev = RuleEvaluator(parse_rules(raw, SRC), SPECS)
    [det] = ev.feed(snapshot(0, 0.0, 0.2))
    assert det.reason_text == "suggest P3: p99_latency <= 250ms (now 200ms)"
