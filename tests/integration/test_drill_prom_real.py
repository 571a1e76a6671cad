"""`prometheus="real"`: the installed Prometheus and Alertmanager scrape the drill. Real PromQL
everywhere, the scenario's expressions still answer through the drill's URL, 30 minutes of
history are backfilled, scripted alerts reach the real Alertmanager, and stopping the world
stops the binaries. The built-in evaluator is checked against the real one on the same series.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest
from prometheus_api_client import PrometheusConnect

from tests.fixtures.prometheus_servers import _require
from tests.support import wait_for
from warroom.drill.prom_real import RealServersUnavailable
from warroom.drill.scenario import load_scenario
from warroom.drill.world import run_in_thread

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
    ("rate(drill:rps[1m])", False),
    ("increase(drill:rps[1m])", False),
    ("irate(drill:rps[1m])", False),
    ("idelta(drill:rps[1m])", False),
    ("delta(drill:rps[1m])", False),
    ("deriv(drill:rps[1m])", False),
    ("predict_linear(drill:rps[1m], 60)", False),
    ("holt_winters(drill:rps[1m], 0.5, 0.5)", False),
    ("quantile_over_time(0.5, drill:rps[1m])", False),
    ("stddev_over_time(drill:rps[1m])", False),
    ("changes(drill:rps[1m])", False),
    ("resets(drill:rps[1m])", False),
    ("last_over_time(drill:rps[1m])", False),
    ("present_over_time(drill:rps[1m])", False),
    ("absent_over_time(drill:rps[1m])", False),
    ('absent_over_time(nope{a="b"}[1m])', True),
    ('label_join(drill:rps, "x", "-", "service", "service")', False),
    ("timestamp(drill:rps) > 0", False),
    ("sgn(drill:rps)", False),
    ("ln(drill:rps)", False),
    ("exp(-drill:rps)", False),
    ("sqrt(drill:rps)", False),
    ("bottomk(1, drill:rps)", False),
    ("quantile(0.5, drill:rps)", False),
    ("stddev(drill:rps)", False),
    ("group(drill:rps)", True),
    ("drill:rps or vector(1)", False),
    ('drill:rps unless on(service) drill:rps{service="cart"}', False),
    ("drill:rps / ignoring(service) group_left sum(drill:rps)", False),
    ("sum(drill:rps) / on() group_right drill:rps", False),
    ("drill:rps offset 1m", False),
    ("drill:rps @ end()", False),
    ("drill:rps + on() drill:rps", True),
    ("drill:rps > bool 10", False),
    ("10 < drill:rps", False),
    ("max_over_time(drill:rps[2m:30s])", False),
    ("rate(drill:rps[1m:15s])", False),
    ("drill:rps atan2 drill:rps", False),
    ("vector(1) % 0", True),
    ("-vector(1) / 0", True),
    ("vector(0) / 0", True),
    ("scalar(drill:rps)", True),
    ("count(ALERTS)", True),
    ("absent(ALERTS)", True),
    ('label_replace(vector(1), "1a", "x", "", "")', True),
    ("sum(vector(1)) by (nope)", True),
    ("topk(0, drill:rps)", True),
    ('avg(vector(1) or label_replace(vector(3), "a", "b", "", ""))', True),
    ("minute(vector(3600*25 + 60*7))", True),
    ("day_of_week(vector(1709251200))", True),
    ("day_of_year(vector(1709251200))", True),
    ("month()> 0", True),
    ("year(vector(0))", True),
    ("clamp_max(vector(5), 2)", True),
    ("round(vector(1.2345), 0.01)", True),
    ("deg(vector(3.141592653589793))", True),
    ("sort(vector(1))", True),
    (
        'histogram_quantile(0.9, label_replace(vector(10), "le", "1", "", "")'
        ' or label_replace(vector(20), "le", "+Inf", "", ""))',
        True,
    ),
    ("vector(1) and on() vector(2)", True),
    ("pi()", True),
    ("time() - time()", True),
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


def test_missing_binary_is_one_line_and_leaves_nothing_running(tmp_path, monkeypatch):
    missing = str(tmp_path / "no-prometheus")
    env = {**os.environ, "WARROOM_PROMETHEUS_BIN": missing}
    proc = subprocess.run(
        [sys.executable, "-m", "warroom.drill.serve", "--prometheus", "real"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: --prometheus real needs prometheus (Debian package prometheus; "
        "or set $WARROOM_PROMETHEUS_BIN)"
    ]
    monkeypatch.setenv("WARROOM_PROMETHEUS_BIN", missing)

    def worlds() -> set[threading.Thread]:
        return {t for t in threading.enumerate() if t.name == "warroom-drill" and t.is_alive()}

    before = worlds()  # another test's world in this worker is not ours to wait on
    with pytest.raises(RealServersUnavailable):
        run_in_thread("crashloop-after-deploy", prometheus="real")
    wait_for(lambda: not worlds() - before, what="the failed world's thread to end")
