"""The example checks and rule offered for config/warroom.toml parse, and run against real
Prometheus (the exporter serves look-alikes of the metrics they read)."""

from __future__ import annotations

import tomllib

import pytest

from tests.fixtures.prometheus_servers import PrometheusServer
from warroom.checks import CheckState, parse_checks, parse_rules
from warroom.health import RuleEvaluator
from warroom.sources.prometheus import PrometheusSource

pytestmark = pytest.mark.integration

EXAMPLES = '''
# EXAMPLES: adapt metric names, label selectors and thresholds to your services.
[[health.checks]]
name = "error_ratio"
query = 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))'
warn = 0.01
crit = 0.05
direction = "above"
unit = "ratio"
for = "2m"

[[health.checks]]
name = "p99_latency"
query = 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))'
warn = 0.5
crit = 1.0
unit = "s"
for = "2m"

[[health.checks]]
name = "cpu_saturation"   # busiest pod: CPU used / CPU limit
query = """
sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!=""}[5m]))
  / sum by (namespace, pod) (kube_pod_container_resource_limits{resource="cpu"})"""
warn = 0.8
crit = 0.95
unit = "ratio"

[[health.rules]]
name = "user-facing errors"
severity = "P1"
for = "2m"
when = [
  { check = "error_ratio", op = ">", value = 0.05 },
  { check = "p99_latency", state = "warn" },
]
'''


def test_examples_parse_and_run(prometheus_server: PrometheusServer) -> None:
    health = tomllib.loads(EXAMPLES)["health"]
    specs = parse_checks(health["checks"], "examples")
    rules = parse_rules(health["rules"], "examples", checks=specs)
    assert [s.name for s in specs] == ["error_ratio", "p99_latency", "cpu_saturation"]
    # rate() needs two samples of every series
    for s in specs:
        prometheus_server.wait_for(s.expr, lambda v: v is not None)
    with PrometheusSource(prometheus_server.url) as src:
        snap = src.refresh(specs)
    assert snap.ok
    for r in snap.results:
        assert r.error is None and r.state not in (CheckState.ERROR, CheckState.NODATA), r
    assert snap.by_name()["error_ratio"].value == pytest.approx(0.05, abs=0.01)
    RuleEvaluator(rules, specs).feed(snap)  # runs on real results
