"""The scenario YAML parser: the cluster, its logs, metrics, checks and alerts. Every error is
one ScenarioError line naming file, line and key; the timeline and reactions are parsed by
scenario_actions, the objectives by objectives_parse."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from warroom.drill.objectives_parse import parse_objectives
from warroom.drill.scenario_actions import Refs, parse_reactions, parse_timeline
from warroom.drill.scenario_types import (
    HEALTHY,
    MAX_CONTAINERS,
    MAX_NODES,
    MAX_REPLICAS,
    MAX_SCENARIO_PODS,
    MAX_SECONDS,
    MAX_WORKLOADS,
    MIN_LOG_EVERY,
    WORKLOAD_KINDS,
    AlertSpec,
    Behavior,
    CheckSpec,
    ContainerSpec,
    CrashSpec,
    LogProfile,
    MetricSpec,
    NodeSpec,
    Scenario,
    ScenarioError,
    Timings,
    Workload,
    normalize_expr,
)
from warroom.drill.yaml_fields import FieldReader, one_line, shown
from warroom.drill.yaml_lines import YamlProblem, load_yaml

TOP_KEYS = (
    "name",
    "title",
    "description",
    "category",
    "namespace",
    "nodes",
    "workloads",
    "behaviors",
    "logs",
    "metrics",
    "checks",
    "alerts",
    "timeline",
    "reactions",
    "timings",
    "objectives",
)
CONTAINER_KEYS = ("name", "image", "logs", "port", "cpu", "memory")
WORKLOAD_KEYS = (
    "kind",
    "name",
    "replicas",
    "containers",
    "labels",
    "strategy",
    "behavior",
    "age",
    "paused",
    *CONTAINER_KEYS[1:],  # a one-container workload gives its container's keys inline
)
STRATEGIES = ("RollingUpdate", "Recreate", "OnDelete")
DIRECTIONS = ("above", "below")
# Kubernetes resource quantities ("100m", "256Mi", "1.5") and label syntax; Prometheus labels.
_QUANTITY = re.compile(r"^(\d+(\.\d*)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE]\d+)?$")
_KUBE_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_KUBE_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_PROM_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def parse(text: str, source: str) -> Scenario:
    try:
        raw = load_yaml(text)
    except YamlProblem as e:
        where = f"{source}:{e.line}" if e.line else source
        raise ScenarioError(one_line(f"{where}: {e.problem}")) from None
    f = FieldReader(source, raw, ScenarioError)
    if raw is None:
        raise f.fail("", "the file is empty: a scenario needs at least name, nodes, workloads")
    if not isinstance(raw, dict):
        raise f.fail("", "a scenario is a mapping (name: ..., nodes: ..., workloads: ...)")
    top: dict[str, Any] = raw
    f.known(top, TOP_KEYS, "")
    name = f.name(top, "")
    namespace = f.dns_label(f.text(top, "namespace", "", "default"), "namespace")
    nodes = _nodes(f, top.get("nodes"))
    logs = _logs(f, top.get("logs"))
    behaviors = _behaviors(f, top.get("behaviors"), logs)
    workloads = _workloads(f, top.get("workloads"), behaviors, logs, len(nodes))
    metrics = _metrics(f, top.get("metrics"))
    checks = _checks(f, top.get("checks"), {normalize_expr(m.expr) for m in metrics})
    alerts = _alerts(f, top.get("alerts"))
    refs = Refs(
        workloads={w.ref: w for w in workloads},
        behaviors=set(behaviors),
        metrics={m.id for m in metrics},
        alerts={a.name for a in alerts},
        nodes={n.name for n in nodes},
    )
    return Scenario(
        name=name,
        title=f.text(top, "title", "", name),
        description=" ".join(f.text(top, "description", "", "").split()),
        category=f.dns_label(f.text(top, "category", "", "application"), "category"),
        source=source,
        namespace=namespace,
        nodes=nodes,
        workloads=workloads,
        behaviors=behaviors,
        logs=logs,
        metrics=metrics,
        checks=checks,
        alerts=alerts,
        timeline=parse_timeline(f, top.get("timeline"), refs),
        reactions=parse_reactions(f, top.get("reactions"), refs),
        timings=_timings(f, top.get("timings")),
        objectives=parse_objectives(f, top.get("objectives"), refs),
    )


def _nodes(f: FieldReader, v: Any) -> tuple[NodeSpec, ...]:
    items = f.list(v, "nodes", most=MAX_NODES)
    if not items:
        raise f.fail("nodes", "at least one node is required")
    out = []
    for i, item in enumerate(items):
        key = f"nodes[{i}]"
        d = {"name": item} if isinstance(item, str) else f.map(item, key)
        f.known(d, ("name", "ip", "zone"), key)
        ip = f.text(d, "ip", key, _default_ip(i))
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise f.fail(f"{key}.ip", f"{shown(ip)} is not an IP address") from None
        out.append(NodeSpec(name=f.name(d, key), ip=ip, zone=f.text(d, "zone", key, "")))
    f.unique([(n.name, f"nodes[{i}]") for i, n in enumerate(out)], "node name")
    return tuple(out)


def _default_ip(i: int) -> str:
    return f"10.0.{i + 1}.{10 + i}" if i < 240 else f"10.1.{i // 250}.{i % 250 + 1}"


def _lines(f: FieldReader, d: dict[str, Any], name: str, key: str) -> tuple[str, ...]:
    # A list of lines, or one block scalar (`|`) for multi-line output such as a stack trace.
    k = f.at(key, name)
    v = d.get(name)
    items = [v] if isinstance(v, str) else f.list(v, k)
    texts = [f.scalar_text(x, f"{k}[{j}]") for j, x in enumerate(items)]
    return tuple(line for t in texts for line in t.splitlines())


def _logs(f: FieldReader, v: Any) -> dict[str, LogProfile]:
    out = {}
    for name, item in f.map(v, "logs").items():
        key = f"logs.{name}"
        d = f.map(item, key)
        f.known(d, ("startup", "lines", "every", "crash"), key)
        out[name] = LogProfile(
            name=name,
            startup=_lines(f, d, "startup", key),
            lines=_lines(f, d, "lines", key),
            every=f.number(d, "every", key, 3.0, lo=MIN_LOG_EVERY, hi=MAX_SECONDS),
            crash=_lines(f, d, "crash", key),
        )
    return out


def _behaviors(f: FieldReader, v: Any, logs: dict[str, LogProfile]) -> dict[str, Behavior]:
    out = {"healthy": HEALTHY}
    for name, item in f.map(v, "behaviors").items():
        key = f"behaviors.{name}"
        d = f.map(item, key)
        f.known(d, ("crash", "ready", "logs"), key)
        crash = None
        if d.get("crash") is not None:
            ck = f"{key}.crash"
            c = f.map(d["crash"], ck)
            f.known(c, ("reason", "exit_code", "after"), ck)
            crash = CrashSpec(
                reason=f.text(c, "reason", ck, "Error", empty=False),
                exit_code=f.count(c, "exit_code", ck, 1, hi=255),
                after=f.number(c, "after", ck, 5.0, lo=0, hi=MAX_SECONDS),
            )
        log = None if d.get("logs") is None else f.option(d, "logs", key, logs, what="log profile")
        out[name] = Behavior(
            name=name, crash=crash, ready=f.flag(d, "ready", key, crash is None), logs=log
        )
    return out


def _workloads(
    f: FieldReader,
    v: Any,
    behaviors: dict[str, Behavior],
    logs: dict[str, LogProfile],
    n_nodes: int,
) -> tuple[Workload, ...]:
    out = []
    for i, item in enumerate(f.list(v, "workloads", most=MAX_WORKLOADS)):
        key = f"workloads[{i}]"
        d = f.map(item, key)
        f.known(d, WORKLOAD_KEYS, key)
        kind_raw = f.text(d, "kind", key, "Deployment")
        kind = WORKLOAD_KINDS.get(kind_raw.lower())
        if kind is None:
            raise f.fail(
                f"{key}.kind",
                f"unknown kind {shown(kind_raw)}: use Deployment, StatefulSet or DaemonSet",
            )
        name = f.name(d, key)
        labels = _kube_labels(f, d.get("labels"), f"{key}.labels") or {"app": name}
        out.append(
            Workload(
                kind=kind,
                name=name,
                replicas=f.count(d, "replicas", key, 1, hi=MAX_REPLICAS),
                containers=_containers(f, d, key, name, logs),
                labels=labels,
                strategy=f.option(d, "strategy", key, STRATEGIES, "RollingUpdate", "strategy"),
                behavior=f.option(d, "behavior", key, behaviors, "healthy", "behavior"),
                age=f.number(d, "age", key, 3 * 86400.0, lo=0, hi=MAX_SECONDS),
                paused=f.flag(d, "paused", key, False),
            )
        )
    f.unique([(w.ref, f"workloads[{i}]") for i, w in enumerate(out)], "workload")
    pods = sum(n_nodes if w.kind == "DaemonSet" else w.replicas for w in out)
    if pods > MAX_SCENARIO_PODS:
        raise f.fail("workloads", f"make {pods} pods; the limit is {MAX_SCENARIO_PODS}")
    return tuple(out)


def _containers(
    f: FieldReader, d: dict[str, Any], key: str, name: str, logs: dict[str, LogProfile]
) -> tuple[ContainerSpec, ...]:
    if d.get("containers") is None:
        return (_container(f, d, key, name, logs),)
    inline = [k for k in CONTAINER_KEYS[1:] if k in d]
    if inline:
        raise f.fail(f"{key}.{inline[0]}", "give it in each of `containers`, not beside them")
    ck = f"{key}.containers"
    items = f.list(d["containers"], ck, most=MAX_CONTAINERS)
    if not items:
        raise f.fail(ck, "at least one container is required")
    out = []
    for j, c in enumerate(items):
        k = f"{ck}[{j}]"
        cd = f.map(c, k)
        f.known(cd, CONTAINER_KEYS, k)
        out.append(_container(f, cd, k, f.name(cd, k), logs))
    f.unique([(c.name, f"{ck}[{j}]") for j, c in enumerate(out)], "container name")
    return tuple(out)


def _container(
    f: FieldReader, d: dict[str, Any], key: str, name: str, logs: dict[str, LogProfile]
) -> ContainerSpec:
    log = None if d.get("logs") is None else f.option(d, "logs", key, logs, what="log profile")
    port = (
        None if "port" in d and d["port"] is None else f.count(d, "port", key, 8080, lo=1, hi=65535)
    )
    return ContainerSpec(
        name=name,
        image=f.text(d, "image", key, empty=False),
        logs=log,
        port=port,
        cpu=_quantity(f, d, "cpu", key, "100m"),
        memory=_quantity(f, d, "memory", key, "256Mi"),
    )


def _quantity(f: FieldReader, d: dict[str, Any], name: str, key: str, default: str) -> str:
    q = f.text(d, name, key, default)
    if not _QUANTITY.match(q):
        raise f.fail(f.at(key, name), f"{shown(q)} is not a Kubernetes quantity (e.g. 100m, 256Mi)")
    return q


def _kube_labels(f: FieldReader, v: Any, key: str) -> dict[str, str]:
    labels = f.strings(v, key)
    for k, x in labels.items():
        if len(k) > 316 or not _KUBE_LABEL_KEY.match(k):
            raise f.fail(f"{key}.{k}", "is not a valid Kubernetes label key")
        if len(x) > 63 or not _KUBE_LABEL_VALUE.match(x):
            raise f.fail(f"{key}.{k}", f"{shown(x)} is not a valid Kubernetes label value")
    return labels


def _prom_labels(f: FieldReader, v: Any, key: str) -> dict[str, str]:
    labels = f.strings(v, key)
    for k in labels:
        if not _PROM_LABEL.match(k):
            raise f.fail(
                f"{key}.{k}", "is not a valid Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)"
            )
    return labels


def _metrics(f: FieldReader, v: Any) -> tuple[MetricSpec, ...]:
    out = []
    for i, item in enumerate(f.list(v, "metrics")):
        key = f"metrics[{i}]"
        d = f.map(item, key)
        f.known(d, ("id", "expr", "labels", "value", "noise", "min", "max"), key)
        # min: 0 unless given; `min: null` (or `max: null`, the default) means no bound.
        mn = None if "min" in d and d["min"] is None else f.number(d, "min", key, 0.0)
        mx = None if d.get("max") is None else f.number(d, "max", key)
        if mn is not None and mx is not None and mn > mx:
            raise f.fail(f"{key}.max", f"must be at least min ({mn:g}), got {mx:g}")
        out.append(
            MetricSpec(
                id=f.text(d, "id", key, empty=False),
                expr=" ".join(f.text(d, "expr", key, empty=False).split()),
                labels=_prom_labels(f, d.get("labels"), f"{key}.labels"),
                value=f.number(d, "value", key),
                noise=f.number(d, "noise", key, 0.0, lo=0, hi=1),
                min=mn,
                max=mx,
            )
        )
    f.unique([(m.id, f"metrics[{i}].id") for i, m in enumerate(out)], "metric id")
    return tuple(out)


def _checks(f: FieldReader, v: Any, exprs: set[str]) -> tuple[CheckSpec, ...]:
    out = []
    for i, item in enumerate(f.list(v, "checks")):
        key = f"checks[{i}]"
        d = f.map(item, key)
        f.known(d, ("name", "expr", "warn", "crit", "direction", "unit"), key)
        expr = " ".join(f.text(d, "expr", key, empty=False).split())
        if normalize_expr(expr) not in exprs:
            raise f.fail(f"{key}.expr", "no metric in `metrics` serves this expression")
        direction = f.option(d, "direction", key, DIRECTIONS, "above", "direction")
        warn, crit = f.number(d, "warn", key), f.number(d, "crit", key)
        if (direction == "above" and crit < warn) or (direction == "below" and crit > warn):
            raise f.fail(f"{key}.crit", f"must be {direction} warn ({warn:g}), got {crit:g}")
        name = f.text(d, "name", key, empty=False)
        out.append(CheckSpec(name, expr, warn, crit, direction, f.text(d, "unit", key, "")))
    f.unique([(c.name, f"checks[{i}].name") for i, c in enumerate(out)], "check name")
    return tuple(out)


def _alerts(f: FieldReader, v: Any) -> tuple[AlertSpec, ...]:
    out = []
    for i, item in enumerate(f.list(v, "alerts")):
        key = f"alerts[{i}]"
        d = f.map(item, key)
        f.known(d, ("name", "labels", "annotations", "expr"), key)
        out.append(
            AlertSpec(
                name=f.text(d, "name", key, empty=False),
                labels=_prom_labels(f, d.get("labels"), f"{key}.labels"),
                annotations=_prom_labels(f, d.get("annotations"), f"{key}.annotations"),
                expr=" ".join(f.text(d, "expr", key, "").split()),
            )
        )
    f.unique([(a.name, f"alerts[{i}].name") for i, a in enumerate(out)], "alert name")
    return tuple(out)


def _timings(f: FieldReader, v: Any) -> Timings:
    d = f.map(v, "timings")
    f.known(d, Timings.__dataclass_fields__, "timings")
    return Timings(**{k: f.number(d, k, "timings", lo=0, hi=MAX_SECONDS) for k in d})
