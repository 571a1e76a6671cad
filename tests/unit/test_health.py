"""Check specs: parsing and evaluation."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from warroom.checks import CheckSpec, CheckState, HealthConfigError, format_value, parse_checks
from warroom.health import describe, evaluate

SRC = "/etc/warroom.toml"


def check(**kw: object) -> dict[str, object]:
    return {"name": "errors", "query": "sum(rate(x[5m]))", **kw}


def test_parse_full_entry() -> None:
    [spec] = parse_checks(
        [check(warn=0.01, crit=0.05, direction="above", unit="ratio", **{"for": "2m"})], SRC
    )
    assert spec == CheckSpec(
        "errors", "sum(rate(x[5m]))", 0.01, 0.05, "above", "ratio", timedelta(minutes=2)
    )


def test_parse_defaults() -> None:
    [spec] = parse_checks([check()], SRC)
    assert (spec.warn, spec.crit, spec.direction, spec.unit, spec.for_) == (
        None,
        None,
        "above",
        "",
        None,
    )


def test_parse_none_is_empty() -> None:
    assert parse_checks(None, SRC) == []


@pytest.mark.parametrize(
    ("entry", "key", "problem"),
    [
        ({"query": "up"}, "health.checks[0].name", "missing"),
        ({"name": "x"}, "health.checks[0].query", "missing"),
        (check(query="  "), "health.checks[0].query", "non-empty"),
        (check(warn="high"), "health.checks[0].warn", "number"),
        (check(crit=True), "health.checks[0].crit", "number"),
        (check(direction="up"), "health.checks[0].direction", "above"),
        (check(warn=5, crit=1), "health.checks[0].warn", "<= crit"),
        (check(warn=1, crit=5, direction="below"), "health.checks[0].warn", ">= crit"),
        (check(**{"for": "soon"}), "health.checks[0].for", "not a duration"),
        (check(unit=3), "health.checks[0].unit", "string"),
        (check(threshold=3), "health.checks[0].threshold", "unknown key"),
    ],
)
def test_parse_errors_name_source_and_key(entry: dict, key: str, problem: str) -> None:
    with pytest.raises(HealthConfigError) as err:
        parse_checks([entry], SRC)
    assert err.value.source == SRC
    assert err.value.key == key
    assert problem in err.value.problem
    assert str(err.value).startswith(f"{SRC}: {key}: ")


def test_parse_duplicate_names_point_at_the_second() -> None:
    with pytest.raises(HealthConfigError) as err:
        parse_checks([check(), check()], SRC)
    assert err.value.key == "health.checks[1].name"


def test_parse_rejects_non_list_and_non_table() -> None:
    with pytest.raises(HealthConfigError, match="array of tables"):
        parse_checks({"name": "x"}, SRC)  # type: ignore[arg-type]
    with pytest.raises(HealthConfigError) as err:
        parse_checks([check(), "up"], SRC)  # type: ignore[list-item]
    assert err.value.key == "health.checks[1]"


def test_parse_custom_prefix() -> None:
    with pytest.raises(HealthConfigError) as err:
        parse_checks([{"query": "up"}], SRC, prefix="services.shop.checks")
    assert err.value.key == "services.shop.checks[0].name"


ABOVE = CheckSpec("e", "x", warn=1.0, crit=5.0, direction="above")
BELOW = CheckSpec("avail", "x", warn=0.99, crit=0.95, direction="below")


@pytest.mark.parametrize(
    ("spec", "value", "state"),
    [
        (ABOVE, 0.5, CheckState.OK),
        (ABOVE, 1.0, CheckState.WARN),  # reaching the threshold counts
        (ABOVE, 4.9, CheckState.WARN),
        (ABOVE, 5.0, CheckState.CRIT),
        (ABOVE, math.inf, CheckState.CRIT),
        (BELOW, 1.0, CheckState.OK),
        (BELOW, 0.99, CheckState.WARN),
        (BELOW, 0.96, CheckState.WARN),
        (BELOW, 0.95, CheckState.CRIT),
        (BELOW, 0.0, CheckState.CRIT),
        (ABOVE, None, CheckState.NODATA),
        (ABOVE, math.nan, CheckState.NODATA),
    ],
)
def test_evaluate(spec: CheckSpec, value: float | None, state: CheckState) -> None:
    assert evaluate(spec, value, None) is state


def test_evaluate_error_wins() -> None:
    assert evaluate(ABOVE, 10.0, "bad_data: parse error") is CheckState.ERROR


def test_evaluate_only_crit_or_no_thresholds() -> None:
    only_crit = CheckSpec("c", "x", crit=10.0)
    assert evaluate(only_crit, 9.0, None) is CheckState.OK
    assert evaluate(only_crit, 10.0, None) is CheckState.CRIT
    assert evaluate(CheckSpec("i", "x"), 1e9, None) is CheckState.OK


def test_levels() -> None:
    assert [s.level for s in CheckState] == [0, 1, 2, None, None]


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.053, "ratio", "5.3%"),
        (12.5, "%", "12.5%"),
        (0.25, "s", "250ms"),
        (2.5, "s", "2.5s"),
        (512, "bytes", "512B"),
        (3 * 1024**2, "bytes", "3MiB"),
        (42.0, "", "42"),
        (3.0, "req/s", "3 req/s"),
        (None, "", "-"),
        (math.nan, "ratio", "NaN"),
        (math.inf, "s", "+Inf"),
    ],
)
def test_format_value(value: float | None, unit: str, text: str) -> None:
    assert format_value(value, unit) == text


def test_describe() -> None:
    spec = CheckSpec("error_ratio", "x", warn=0.01, crit=0.05, unit="ratio")
    assert describe(spec, CheckState.CRIT, 0.073) == "error_ratio crit: 7.3% (crit >= 5%)"
    assert describe(spec, CheckState.OK, 0.001) == "error_ratio ok: 0.1%"
    assert describe(spec, CheckState.NODATA, None) == "error_ratio nodata: no data"
    below = CheckSpec("avail", "x", warn=0.99, direction="below", unit="ratio")
    assert describe(below, CheckState.WARN, 0.98) == "avail warn: 98% (warn <= 99%)"
