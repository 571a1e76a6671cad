"""Scenario files: the shipped ones load, malformed ones name file and key."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from warroom.drill.scenario import (
    ScenarioError,
    list_scenarios,
    load_scenario,
    normalize_expr,
    parse_scenario,
)

MINIMAL = """
name: tiny
namespace: demo
nodes: [node-a]
workloads:
  - {name: web, replicas: 2, image: "nginx:1.25"}
"""


def test_shipped_scenarios_load():
    names = [n for n, _, _ in list_scenarios()]
    assert "crashloop-after-deploy" in names
    for name in names:
        sc = load_scenario(name)
        assert sc.name == name and sc.title and sc.description
        served = {normalize_expr(e) for e in sc.expressions()}
        assert all(normalize_expr(c.expr) in served for c in sc.checks)


def test_crashloop_scenario_content():
    sc = load_scenario("crashloop-after-deploy")
    assert sc.namespace == "shop" and len(sc.nodes) >= 2
    refs = {w.ref for w in sc.workloads}
    assert {"deployment/checkout-api", "deployment/frontend", "deployment/cart"} <= refs
    alert = next(a for a in sc.alerts if a.name == "CheckoutHighErrorRate")
    assert alert.labels["severity"] == "critical" and alert.annotations["summary"]
    assert {c.direction for c in sc.checks} == {"above", "below"}
    assert any(
        r.when.kind == "restart" and r.when.workload == "deployment/checkout-api"
        for r in sc.reactions
    )
    panic = sc.logs["checkout-panic"]
    assert panic.crash[0].startswith("panic:") and "\t" in panic.crash[-1]


def test_load_by_path_and_minimal_defaults(tmp_path: Path):
    p = tmp_path / "tiny.yaml"
    p.write_text(MINIMAL)
    sc = load_scenario(p)
    assert sc.source == str(p)
    (w,) = sc.workloads
    assert (w.kind, w.replicas, w.labels, w.containers[0].name) == (
        "Deployment",
        2,
        {"app": "web"},
        "web",
    )
    assert sc.behaviors["healthy"].crash is None


def test_unknown_scenario_name():
    with pytest.raises(ScenarioError, match="no such scenario"):
        load_scenario("does-not-exist")


def _bad(patch: dict, tmp_path: Path) -> str:
    doc = yaml.safe_load(MINIMAL)
    doc.update(patch)
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(doc))
    with pytest.raises(ScenarioError) as e:
        load_scenario(p)
    return str(e.value)


@pytest.mark.parametrize(
    ("patch", "key", "problem"),
    [
        ({"name": None}, "name", "is required"),
        ({"name": "Bad_Name"}, "name", "not a valid Kubernetes name"),
        ({"nodes": []}, "nodes", "at least one node"),
        (
            {"workloads": [{"name": "w", "image": "x", "replicas": -1}]},
            "workloads[0].replicas",
            "must be at least 0, got -1",
        ),
        (
            {"workloads": [{"name": "w", "image": "x", "kind": "Job"}]},
            "workloads[0].kind",
            "unknown kind 'Job'",
        ),
        ({"workloads": [{"name": "w"}]}, "workloads[0].image", "is required"),
        (
            {"workloads": [{"name": "w", "image": "x", "behavior": "nope"}]},
            "workloads[0].behavior",
            "unknown behavior",
        ),
        ({"bogus": 1}, "bogus", "unknown key (known: alerts, behaviors, category, checks, "),
        ({"workload": []}, "workload", "unknown key (did you mean 'workloads'?)"),
        (
            {"checks": [{"name": "c", "expr": "up", "warn": 1, "crit": 2}]},
            "checks[0].expr",
            "no metric",
        ),
        (
            {
                "metrics": [{"id": "m", "expr": "up", "value": 1}],
                "checks": [{"name": "c", "expr": "up", "warn": 2, "crit": 1}],
            },
            "checks[0].crit",
            "must be above warn",
        ),
        (
            {"metrics": [{"id": "m", "expr": "up", "value": "high"}]},
            "metrics[0].value",
            "must be a number",
        ),
        (
            {"timeline": [{"at": 5, "do": [{"metrc": {}}]}]},
            "timeline[0].do[0].metrc",
            "unknown action (did you mean 'metric'?)",
        ),
        (
            {
                "timeline": [
                    {"at": 5, "do": [{"scale": {"workload": "deployment/nope", "replicas": 1}}]}
                ]
            },
            "timeline[0].do[0].scale.workload",
            "unknown workload",
        ),
        ({"timeline": [{"at": -1, "do": []}]}, "timeline[0].at", "must be at least 0"),
        (
            {"timeline": [{"at": 1, "do": [{"metric": {"id": "x", "to": 1}}]}]},
            "timeline[0].do[0].metric.id",
            "unknown metric",
        ),
        (
            {
                "reactions": [
                    {"when": {"restart": "deployment/web", "delete": "deployment/web"}, "do": []}
                ]
            },
            "reactions[0].when",
            "exactly one of",
        ),
        (
            {"reactions": [{"when": {"image": "deployment/web"}, "do": []}]},
            "reactions[0].when.image_is",
            "is required",
        ),
        ({"timings": {"pull": -2}}, "timings.pull", "must be at least 0"),
        ({"logs": {"p": {"every": 0}}}, "logs.p.every", "must be at least 0.1"),
    ],
)
def test_malformed_names_file_and_key(tmp_path: Path, patch: dict, key: str, problem: str):
    msg = _bad(patch, tmp_path)
    assert re.match(rf"{re.escape(str(tmp_path / 'bad.yaml'))}:\d+: {re.escape(key)}: ", msg), msg
    assert problem in msg


def test_yaml_syntax_error_names_line():
    with pytest.raises(ScenarioError, match=r"^x\.yaml:4: invalid YAML"):
        parse_scenario("name: a\nnodes: [a]\nworkloads: [\n  - {", "x.yaml")


def test_full_format_parses():
    text = textwrap.dedent(
        """
        name: node-loss
        namespace: shop
        nodes: [{name: n1, ip: 10.0.0.1}, {name: n2, ip: 10.0.0.2}]
        behaviors:
          oom: {crash: {reason: OOMKilled, exit_code: 137, after: 20}}
          slow: {ready: false}
        workloads:
          - {kind: Deployment, name: web, replicas: 2, image: "web:1", strategy: Recreate}
          - {kind: DaemonSet, name: agent, image: "agent:1", port: null}
        metrics: [{id: m, expr: 'sum(x{a="b c"})', value: 1, noise: 0.1}]
        alerts: [{name: A, labels: {severity: page}}]
        timeline:
          - at: 10
            do:
              - node: {name: n1, ready: false}
              - {after: 5, alert: {name: A}}
              - event: {workload: deployment/web, reason: Hello, message: hi}
        reactions:
          - when: {scale: deployment/web, min_replicas: 4}
            unless: fixed
            do: [{set: fixed}, {metric: {id: m, to: 0, over: 30}}]
        timings: {pull: 1, eviction: 10}
        """
    )
    sc = parse_scenario(text)
    assert sc.behaviors["oom"].crash.exit_code == 137 and sc.behaviors["slow"].ready is False
    assert sc.workloads[1].containers[0].port is None
    assert sc.timeline[0].actions[1].after == 5
    assert sc.reactions[0].when.min_replicas == 4 and sc.reactions[0].unless_flags == ("fixed",)
    assert sc.timings.pull == 1 and sc.timings.eviction == 10


def test_normalize_expr_keeps_strings():
    a = 'sum by (le) (rate(x{a="b c", d=~"e.*"}[5m]))'
    assert normalize_expr(a) == normalize_expr('sum  by(le)(rate(x{ a="b c",d=~"e.*" }[5m] ) )')
    assert normalize_expr('x{a="b c"}') != normalize_expr('x{a="bc"}')
