"""`prometheus="real"`: the installed Prometheus and Alertmanager scrape the drill. Real PromQL
everywhere, the scenario's expressions still answer through the drill's URL, 30 minutes of
history are backfilled, scripted alerts reach the real Alertmanager, and stopping the world
stops the binaries. The built-in evaluator is checked against the real one on the same series.
"""

from __future__ import annotations

import dataclasses
import json
import time
import urllib.parse
import urllib.request

import pytest
from prometheus_api_client import PrometheusConnect

from tests.fixtures.drill import wait_for
from tests.fixtures.prometheus_servers import _require
from warroom.drill.scenario import load_scenario

pytestmark = pytest.mark.integration
ALERT = "CheckoutHighErrorRate"


@pytest.fixture
def binaries() -> None:
    _require("prometheus", "WARROOM_PROMETHEUS_BIN")
    _require("prometheus-alertmanager", "WARROOM_ALERTMANAGER_BIN")
    _require("promtool", "WARROOM_PROMTOOL_BIN")


def query(base: str, expr: str, **extra: str) -> dict:
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": expr, **extra})
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        return json.load(e)


def test_real_mode_serves_the_scenario_through_real_servers(binaries, drill_factory):
    h = drill_factory(speed=20.0, wall_timestamps=True, prometheus="real")
    procs = [p.proc for p in h.world.real.processes]
    pc = PrometheusConnect(h.prom_url, disable_ssl=True)
    check = h.scenario.checks[0]
    assert pc.custom_query(check.expr)  # the health check's expression, answered by the real one
    history = pc.custom_query("count_over_time(drill:checkout_errors[30m])")
    assert float(history[0]["value"][1]) >= 100  # backfilled: 30 min at 15 s steps
    wait_for(lambda: pc.custom_query("up"), what="the first scrape")
    (up,) = pc.custom_query("up")
    assert up["metric"]["job"] == "warroom-drill" and up["value"][1] == "1"
    body = query(h.prom_url, "sum(rate(x[5m]")
    assert body["error"].endswith("1:15: parse error: unclosed left parenthesis")

    def reached_alertmanager() -> bool:
        with urllib.request.urlopen(f"{h.alertmanager_url}/api/v2/alerts", timeout=5) as r:
            return any(a["labels"]["alertname"] == ALERT for a in json.load(r))

    wait_for(reached_alertmanager, timeout=60, what=f"{ALERT} in the real Alertmanager")
    assert all(p is not None and p.poll() is None for p in procs)
    h.stop()
    assert all(p.poll() is not None for p in procs)


# Same answer (type and label sets) from the built-in evaluator and the real Prometheus, over the
# same recorded series; values too where they do not depend on sample timing.
QUERIES = [
    ("count(drill:rps)", True),
    ("sum by (service) (drill:rps) > 0", False),
    ("drill:rps * 2", False),
    ("sum without (service) (drill:rps)", False),
    ('label_replace(drill:rps, "svc", "$1", "service", "(.*)-api")', False),
    ('absent(nope{job="x", a="b"})', True),
    ("absent(drill:rps)", True),
    ("vector(1) + on () group_left () count(drill:rps)", True),
    ('count_values("n", count(drill:rps))', True),
    ("topk(2, drill:rps)", False),
    ('drill:rps and on (service) drill:rps{service="cart"}', False),
    ('drill:rps unless drill:rps{service="cart"}', False),
    ("scalar(count(drill:rps)) * 10", True),
    ("time() > 0", False),
    ("1 + 2 * 3 ^ 2", True),
    ("-2 ^ 2", True),
    ('"text"', True),
    ("hour(vector(0))", True),
    ("days_in_month(vector(1709251200))", True),
    ("max_over_time(count(drill:rps)[1m:15s])", True),
    ('histogram_quantile(0.5, label_replace(vector(1), "le", "+Inf", "", ""))', True),
    ("round(vector(2.5))", True),
    ("clamp(vector(5), 0, 1)", True),
    ("sort_desc(drill:rps)", False),
    ('ALERTS{alertname="nope"}', True),
]


def _normal(body: dict, values: bool) -> object:
    if body["status"] != "success":
        return "error", body["error"]
    data = body["data"]
    kind, result = data.get("resultType"), data.get("result")
    if kind in ("scalar", "string"):
        return kind, result[1] if values else None
    rows = sorted(
        (json.dumps(r["metric"], sort_keys=True), r["value"][1] if values else None) for r in result
    )
    return kind, rows


def test_builtin_evaluator_agrees_with_real_prometheus(binaries, drill_factory):
    quiet = dataclasses.replace(load_scenario("crashloop-after-deploy"), timeline=(), reactions=())
    real = drill_factory(scenario=quiet, prometheus="real", wall_timestamps=True)
    builtin = drill_factory(scenario=quiet, wall_timestamps=True)

    def recorded_a_second_ago() -> str | None:
        at = str(time.time() - 1)
        found = query(real.real_prometheus_url, "drill:rps", time=at)["data"]["result"]
        return at if found else None

    at = wait_for(recorded_a_second_ago, what="the recording rules' first results")
    for expr, values in QUERIES:
        want = _normal(query(real.real_prometheus_url, expr, time=at), values)
        got = _normal(query(builtin.prom_url, expr, time=at), values)
        assert got == want, expr
