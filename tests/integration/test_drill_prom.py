"""The drill Prometheus and Alertmanager APIs, through prometheus-api-client and plain HTTP."""

from __future__ import annotations

import dataclasses
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from prometheus_api_client import PrometheusApiClientException, PrometheusConnect

from tests.support import wait_for
from warroom.drill.scenario import load_scenario

pytestmark = pytest.mark.integration


def get(url: str) -> tuple[int, object]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            body = r.read()
            ctype = r.headers.get("Content-Type", "")
            return r.status, json.loads(body) if "json" in ctype else body.decode()
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture
def world(drill_factory):
    sc = dataclasses.replace(load_scenario("crashloop-after-deploy"), timeline=(), reactions=())
    return drill_factory(scenario=sc)


def test_instant_query_shape_and_whitespace_matching(world):
    pc = PrometheusConnect(world.prom_url, disable_ssl=True)
    assert pc.check_prometheus_connection()
    check = world.scenario.checks[0]
    result = pc.custom_query(check.expr)
    assert len(result) == 1
    (sample,) = result
    assert sample["metric"] == {}
    ts, value = sample["value"]
    assert isinstance(ts, float | int) and isinstance(value, str)
    assert 0 < float(value) < check.warn  # healthy baseline
    squashed = re.sub(r"\s+", "", check.expr)
    assert pc.custom_query(squashed)
    spaced = check.expr.replace("(", "( ").replace(",", " , ")
    assert pc.custom_query(spaced)
    multi = pc.custom_query('sum by (service) (rate(http_requests_total{namespace="shop"}[5m]))')
    assert {s["metric"]["service"] for s in multi} == {
        "frontend",
        "checkout-api",
        "cart",
        "payments",
    }


def test_query_at_time_and_range(world):
    pc = PrometheusConnect(world.prom_url, disable_ssl=True)
    expr = world.scenario.checks[1].expr
    end = world.call(world.world.clock.now)
    start = end - timedelta(minutes=10)
    rng = pc.custom_query_range(expr, start_time=start, end_time=end, step="15s")
    (series,) = rng
    values = series["values"]
    assert len(values) == 41
    assert all(isinstance(v[1], str) for v in values)
    assert values[1][0] - values[0][0] == 15
    at = pc.custom_query(expr, params={"time": start.timestamp()})
    assert at[0]["value"][0] == pytest.approx(start.timestamp())


def test_unknown_metric_is_empty_and_bad_syntax_is_prometheus_parse_error(world):
    pc = PrometheusConnect(world.prom_url, disable_ssl=True)
    assert pc.custom_query("up{job='nope'}") == []  # a real server: no series, not an error
    assert pc.custom_query("rate(x[5m])") == []
    url = f"{world.prom_url}/api/v1/query?" + urllib.parse.urlencode({"query": "sum(rate(x[5m]"})
    code, body = get(url)
    assert code == 400
    assert body == {
        "status": "error",
        "errorType": "bad_data",
        "error": 'invalid parameter "query": 1:15: parse error: unclosed left parenthesis',
    }
    code, body = get(f"{world.prom_url}/api/v1/query_range?query=x&start=2&end=1&step=1")
    assert code == 400 and body["errorType"] == "bad_data"
    assert body["error"] == 'invalid parameter "end": end timestamp must not be before start time'
    assert pc.custom_query(world.scenario.checks[0].expr)  # still serving
    now = datetime.now(UTC)
    with pytest.raises(PrometheusApiClientException):
        pc.custom_query_range("nope(", now - timedelta(minutes=1), now, "15s")


def test_scalar_string_and_arithmetic_over_served_expressions(world):
    pc = PrometheusConnect(world.prom_url, disable_ssl=True)
    check = world.scenario.checks[0]
    code, body = get(f"{world.prom_url}/api/v1/query?query=scalar(vector(1))")
    assert code == 200 and body["data"]["resultType"] == "scalar"
    assert body["data"]["result"][1] == "1"
    code, body = get(f"{world.prom_url}/api/v1/query?" + urllib.parse.urlencode({"query": '"hi"'}))
    assert body["data"]["resultType"] == "string" and body["data"]["result"][1] == "hi"
    base = float(pc.custom_query(check.expr)[0]["value"][1])
    doubled = float(pc.custom_query(f"2 * ({check.expr})")[0]["value"][1])
    assert doubled == pytest.approx(2 * base)
    # The alert's expression holds a served expression: healthy, so the comparison filters it.
    assert pc.custom_query(f"{check.expr} > {check.crit}") == []
    # drill:rps is the recorded series of that expression, scraped every 15 s: at a scrape
    # instant both read the same samples.
    at = {"time": str(int(time.time()) // 15 * 15)}
    rps = 'sum by (service) (rate(http_requests_total{namespace="shop"}[5m]))'
    per_service = pc.custom_query(rps, params=at)
    total = pc.custom_query("sum(drill:rps)", params=at)
    assert float(total[0]["value"][1]) == pytest.approx(
        sum(float(s["value"][1]) for s in per_service)
    )


def test_a_costly_query_times_out_and_the_drill_keeps_serving(world):
    expr = "max_over_time(drill:rps[1d:1s])"  # 86,400 steps over four series
    code, body = get(f"{world.prom_url}/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert (code, body["errorType"]) == (503, "timeout")
    assert body["error"] == "query timed out in expression evaluation"
    code, body = get(f"{world.prom_url}/api/v1/query?query=up&timeout=x")
    assert code == 400
    assert body["error"] == 'invalid parameter "timeout": cannot parse "x" to a valid duration'
    assert get(f"{world.prom_url}/api/v1/query?query=vector(1)")[0] == 200


def test_status_config_is_yaml_naming_the_rules_and_alertmanager(world):
    code, body = get(f"{world.prom_url}/api/v1/status/config")
    assert code == 200
    config = yaml.safe_load(body["data"]["yaml"])
    target = world.alertmanager_url.removeprefix("http://")
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [target]
    code, body = get(f"{world.prom_url}/api/v1/rules")
    assert code == 200
    rules = body["data"]["groups"][0]["rules"]
    assert {r["name"] for r in rules if r["type"] == "alerting"} == {
        a.name for a in world.scenario.alerts
    }
    recorded = {r["name"]: r["query"] for r in rules if r["type"] == "recording"}
    assert recorded["drill:checkout_errors"].startswith("sum(rate(http_requests_total{")


def test_health_and_buildinfo(world):
    assert get(f"{world.prom_url}/-/ready")[0] == 200
    assert get(f"{world.prom_url}/-/healthy")[0] == 200
    code, body = get(f"{world.prom_url}/api/v1/status/buildinfo")
    assert code == 200 and body["data"]["version"].startswith("2.")
    assert get(f"{world.alertmanager_url}/-/ready")[0] == 200
    code, body = get(f"{world.alertmanager_url}/api/v2/alerts")
    assert code == 200 and body == []  # nothing fires in a quiet world


def test_alert_fires_with_alertmanager_shape(drill_factory):
    h = drill_factory(speed=50.0)
    alerts = wait_for(
        lambda: get(f"{h.alertmanager_url}/api/v2/alerts")[1], what="an alert to fire"
    )
    (a,) = [x for x in alerts if x["labels"]["alertname"] == "CheckoutHighErrorRate"]
    assert set(a) >= {
        "annotations",
        "endsAt",
        "fingerprint",
        "receivers",
        "startsAt",
        "status",
        "updatedAt",
        "generatorURL",
        "labels",
    }
    assert a["labels"]["severity"] == "critical"
    assert a["annotations"]["summary"]
    assert a["status"] == {"inhibitedBy": [], "silencedBy": [], "state": "active"}
    assert re.fullmatch(r"[0-9a-f]{16}", a["fingerprint"])
    assert a["startsAt"] < a["endsAt"]
    assert a["receivers"] == [{"name": "default"}]
    code, none = get(f"{h.alertmanager_url}/api/v2/alerts?receiver=pager")
    assert code == 200 and none == []
    code, routed = get(f"{h.alertmanager_url}/api/v2/alerts?receiver=def.*")
    assert a["fingerprint"] in {x["fingerprint"] for x in routed}
    flt = urllib.parse.urlencode({"filter": 'severity="critical"'})
    code, only = get(f"{h.alertmanager_url}/api/v2/alerts?{flt}")
    assert code == 200 and {x["labels"]["alertname"] for x in only} == {"CheckoutHighErrorRate"}
    code, body = get(f"{h.prom_url}/api/v1/alerts")
    assert code == 200 and any(x["state"] == "firing" for x in body["data"]["alerts"])


def test_wall_timestamps_mode_lines_up_with_the_wall_clock(drill_factory):
    h = drill_factory(speed=50.0, wall_timestamps=True)
    alerts = wait_for(lambda: get(f"{h.alertmanager_url}/api/v2/alerts")[1], what="alert")
    now = datetime.now(UTC)
    starts = datetime.fromisoformat(alerts[0]["startsAt"].replace("Z", "+00:00"))
    # Fired at scenario second 85: under two wall seconds after start at 50x, not 85 s ahead.
    assert starts <= now + timedelta(seconds=1)
    pc = PrometheusConnect(h.prom_url, disable_ssl=True)
    check = h.scenario.checks[0]
    rng = pc.custom_query_range(check.expr, now - timedelta(minutes=5), now, step="1s")
    values = [float(v) for _, v in rng[0]["values"]]
    assert values[0] < check.warn < check.crit < values[-1]  # healthy before, broken now
