"""The drill's PromQL front and API helpers, without servers: parse errors as recorded from
Prometheus 2.42, canonical forms, Go number formats, silences and matchers, the wall clock."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

from tests.fixtures.prom_fidelity import RECORDED
from warroom.drill.am_silences import BadMatcher, SilenceError, Silences, parse_filter
from warroom.drill.clock import WorldClock
from warroom.drill.prom_catalog import WallClock
from warroom.drill.prom_params import go_exp
from warroom.drill.promql_parse import ParseError, parse

ERRORS = json.loads((RECORDED / "promql_errors.json").read_text())
PREFIX = 'invalid parameter "query": '


@pytest.mark.parametrize("query", sorted(ERRORS))
def test_parse_errors_read_as_prometheus_words_them(query: str) -> None:
    want = ERRORS[query].removeprefix(PREFIX)
    try:
        parse(query)
        got = "OK"
    except ParseError as e:
        got = str(e)
    assert got == want


def test_recorded_errors_cover_syntax_and_type_errors() -> None:
    failures = [v for v in ERRORS.values() if v != "OK"]
    assert len(failures) > 80 and len(ERRORS) - len(failures) > 40
    assert any("unclosed left parenthesis" in v for v in failures)
    assert any("expected type range vector" in v for v in failures)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ('sum(rate(x{a="b",c=~"d"}[5m]))', 'sum( rate( x{ c=~"d" , a="b" } [5m] ) )'),
        ("sum by (le) (x)", "sum(x) by (le)"),
        ("a / on(b) c", "a/on (b) c"),
        ("x offset 1h", "x offset 60m"),
        ("histogram_quantile(0.99, y)", "histogram_quantile(.99,y)"),
    ],
)
def test_two_spellings_have_one_canonical_form(a: str, b: str) -> None:
    assert str(parse(a)) == str(parse(b))
    assert str(parse(str(parse(a)))) == str(parse(a))  # the printed form parses back


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1e+00"),
        (0.41, "4.1e-01"),
        (0.0024, "2.4e-03"),
        (123456.789, "1.23456789e+05"),
        (-2.5, "-2.5e+00"),
        (0.0, "0e+00"),
        (1e21, "1e+21"),
        (float("nan"), "NaN"),
        (float("inf"), "+Inf"),
    ],
)
def test_alert_values_use_gos_shortest_exponent_form(value: float, text: str) -> None:
    assert go_exp(value) == text


def test_recorded_alert_values_round_trip() -> None:
    recorded = json.loads((RECORDED / "prometheus.json").read_text())
    values = [a["value"] for a in recorded["alerts"]["body"]["data"]["alerts"]]
    assert values
    for v in values:
        assert go_exp(float(v)) == v


def test_filters_parse_like_alertmanager() -> None:
    (m,) = parse_filter('severity="critical"')
    assert (m.name, m.value, m.is_regex, m.is_equal) == ("severity", "critical", False, True)
    ms = parse_filter('{alertname=~"Kube.*", team!=checkout}')
    assert [(x.name, x.is_regex, x.is_equal) for x in ms] == [
        ("alertname", True, True),
        ("team", False, False),
    ]
    assert ms[0].matches({"alertname": "KubePodCrashLooping"})
    for bad in ("foo", 'a=~"("', "", "{a}"):
        with pytest.raises(BadMatcher):
            parse_filter(bad)


def test_silence_lifecycle() -> None:
    now = [datetime(2026, 1, 1, tzinfo=UTC)]
    store = Silences(lambda: now[0])
    body = {
        "matchers": [{"name": "alertname", "value": "X", "isRegex": False}],
        "startsAt": "2025-01-01T00:00:00Z",
        "endsAt": "2026-01-01T01:00:00Z",
        "createdBy": "ic",
        "comment": "noisy",
    }
    sid = store.post(body)
    assert store.active_for({"alertname": "X"}) == [sid]
    assert store.active_for({"alertname": "Y"}) == []
    assert store.get(sid).starts_at == now[0]  # a start in the past begins now
    now[0] += timedelta(minutes=5)
    store.expire(sid)
    assert store.active_for({"alertname": "X"}) == []
    assert store.listing([])[0]["status"]["state"] == "expired"
    with pytest.raises(SilenceError) as e:
        store.expire("00000000-0000-0000-0000-000000000000")
    assert (e.value.status, e.value.body) == (500, "silence not found")
    with pytest.raises(SilenceError) as e:
        store.post({**body, "startsAt": "2026-01-02T00:00:00Z"})
    assert e.value.body == "Failed to create silence: start time must be before end time"
    with pytest.raises(SilenceError) as e:
        store.get("nope")
    assert e.value.status == 422 and e.value.body["code"] == 601


def test_prometheus_speaks_wall_time_at_any_speed() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    world = WorldClock(5.0, start, wall_timestamps=False)
    wall = WallClock(world)
    # Scenario minute 5 happened one wall minute after the start, whatever the world's mode.
    assert wall.epoch(300) == start.timestamp() + 60
    assert wall.scenario_time(start.timestamp() + 60) == pytest.approx(300)
    assert wall.scenario_time(start.timestamp() - 60) == -60  # history is not compressed


def test_exporter_page_and_backfill_parse_with_prometheus_client(quiet_scenario) -> None:
    from warroom.drill.engine import Engine
    from warroom.drill.prom_catalog import Catalog
    from warroom.drill.prom_real import backfill_openmetrics, drill_rules, exposition

    class NoCluster:
        on_trigger: list = []

    clock = WorldClock(1.0)
    sc = dataclasses.replace(quiet_scenario)
    engine = Engine(sc, NoCluster(), clock, None)  # type: ignore[arg-type]
    catalog = Catalog(engine, WallClock(clock))
    families = {f.name: f for f in parse_text(exposition(catalog, engine))}
    series = families["drill_series"].samples
    assert {s.labels["record"] for s in series} == {e.record for e in catalog.exprs}
    assert len(families["drill_alert_firing"].samples) == len(sc.alerts)
    om = list(parse_openmetrics(backfill_openmetrics(catalog, seconds=600)))
    assert {f.name for f in om} == {e.record for e in catalog.exprs}
    assert all(len(f.samples) % 41 == 0 for f in om)  # 10 minutes at 15 s, per series
    rules = drill_rules(catalog, engine)["groups"][0]["rules"]
    assert [r["record"] for r in rules if "record" in r] == [e.record for e in catalog.exprs]
    assert {r["alert"] for r in rules if "alert" in r} == {a.name for a in sc.alerts}


def test_real_mode_front_rewrites_only_scenario_expressions(quiet_scenario) -> None:
    from warroom.drill.engine import Engine
    from warroom.drill.prom_catalog import Catalog
    from warroom.drill.prom_real import rewrite_query

    class NoCluster:
        on_trigger: list = []

    clock = WorldClock(1.0)
    engine = Engine(quiet_scenario, NoCluster(), clock, None)  # type: ignore[arg-type]
    catalog = Catalog(engine, WallClock(clock))
    check = quiet_scenario.checks[0].expr
    recorded = 'sum without () ({__name__="drill:checkout_errors"})'
    assert rewrite_query(check, catalog) == recorded
    assert rewrite_query(f"2 * ({check}) > bool 0.1", catalog) == f"2 * ({recorded}) > bool 0.1"
    assert rewrite_query("up  +  1", catalog) == "up  +  1"  # untouched, spacing and all
    assert rewrite_query("sum(rate(x[5m]", catalog) == "sum(rate(x[5m]"  # the server words it
