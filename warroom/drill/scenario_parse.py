"""The scenario YAML parser: every error names the file and the key (`file: key: problem`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from warroom.drill.objectives_parse import parse_objectives
from warroom.drill.scenario import (
    ACTION_KINDS,
    HEALTHY,
    TRIGGER_KINDS,
    WORKLOAD_KINDS,
    Action,
    AlertSpec,
    Behavior,
    CheckSpec,
    ContainerSpec,
    CrashSpec,
    LogProfile,
    MetricSpec,
    NodeSpec,
    Reaction,
    Scenario,
    ScenarioError,
    TimelineEntry,
    Timings,
    Trigger,
    Workload,
    normalize_expr,
)

_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")


class _Ctx:
    """Carries the file name so every error says where it is."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, problem: str) -> ScenarioError:
        return ScenarioError(f"{self.source}: {key}: {problem}")

    def map(self, v: Any, key: str) -> dict[str, Any]:
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise self.fail(key, f"must be a mapping, got {type(v).__name__}")
        return v

    def list(self, v: Any, key: str) -> list[Any]:
        if v is None:
            return []
        if not isinstance(v, list):
            raise self.fail(key, f"must be a list, got {type(v).__name__}")
        return v

    def str(self, d: dict[str, Any], name: str, key: str, default: str | None = None) -> str:
        v = d.get(name, default)
        if v is None:
            raise self.fail(f"{key}.{name}" if key else name, "is required")
        if not isinstance(v, str | int | float) or isinstance(v, bool):
            raise self.fail(f"{key}.{name}" if key else name, "must be a string")
        return str(v)

    def num(self, d: dict[str, Any], name: str, key: str, default: float | None = None) -> float:
        v = d.get(name, default)
        k = f"{key}.{name}" if key else name
        if v is None:
            raise self.fail(k, "is required")
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(k, f"must be a number, got {v!r}")
        return float(v)

    def int(self, d: dict[str, Any], name: str, key: str, default: int | None = None) -> int:
        v = d.get(name, default)
        k = f"{key}.{name}" if key else name
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise self.fail(k, f"must be an integer >= 0, got {v!r}")
        return v

    def bool(self, d: dict[str, Any], name: str, key: str, default: bool) -> bool:
        v = d.get(name, default)
        if not isinstance(v, bool):
            raise self.fail(f"{key}.{name}", f"must be true or false, got {v!r}")
        return v

    def labels(self, v: Any, key: str) -> dict[str, str]:
        return {str(k): str(x) for k, x in self.map(v, key).items()}

    def known(self, d: dict[str, Any], allowed: set[str], key: str) -> None:
        extra = sorted(set(d) - allowed)
        if extra:
            raise self.fail(f"{key}.{extra[0]}" if key else extra[0], "unknown key")

    def name(self, d: dict[str, Any], key: str) -> str:
        n = self.str(d, "name", key)
        if not _NAME_RE.match(n):
            raise self.fail(
                f"{key}.name" if key else "name", f"{n!r} is not a valid Kubernetes name"
            )
        return n


def parse(text: str, source: str) -> Scenario:
    ctx = _Ctx(source)
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "yaml"
        raise ctx.fail(where, f"invalid YAML: {getattr(e, 'problem', e)}") from None
    top = ctx.map(raw, "<top>")
    ctx.known(
        top,
        {
            "name",
            "title",
            "description",
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
        },
        "",
    )
    name = ctx.name(top, "")
    namespace = ctx.str(top, "namespace", "", "default")
    nodes = _nodes(ctx, top.get("nodes"))
    logs = _logs(ctx, top.get("logs"))
    behaviors = _behaviors(ctx, top.get("behaviors"), logs)
    workloads = _workloads(ctx, top.get("workloads"), behaviors, logs)
    metrics = _metrics(ctx, top.get("metrics"))
    exprs = {normalize_expr(m.expr) for m in metrics}
    checks = _checks(ctx, top.get("checks"), exprs)
    alerts = _alerts(ctx, top.get("alerts"))
    refs = _Refs(
        workloads={w.ref: w for w in workloads},
        behaviors=set(behaviors),
        metrics={m.id for m in metrics},
        alerts={a.name for a in alerts},
        nodes={n.name for n in nodes},
    )
    timeline = _timeline(ctx, top.get("timeline"), refs)
    reactions = _reactions(ctx, top.get("reactions"), refs)
    timings = _timings(ctx, top.get("timings"))
    objectives = parse_objectives(ctx, top.get("objectives"), set(refs.workloads))
    return Scenario(
        name=name,
        title=ctx.str(top, "title", "", name),
        description=" ".join(ctx.str(top, "description", "", "").split()),
        source=source,
        namespace=namespace,
        nodes=nodes,
        workloads=workloads,
        behaviors=behaviors,
        logs=logs,
        metrics=metrics,
        checks=checks,
        alerts=alerts,
        timeline=timeline,
        reactions=reactions,
        timings=timings,
        objectives=objectives,
    )


def _nodes(ctx: _Ctx, v: Any) -> tuple[NodeSpec, ...]:
    items = ctx.list(v, "nodes")
    if not items:
        raise ctx.fail("nodes", "at least one node is required")
    out = []
    for i, item in enumerate(items):
        key = f"nodes[{i}]"
        d = {"name": item} if isinstance(item, str) else ctx.map(item, key)
        ctx.known(d, {"name", "ip", "zone"}, key)
        out.append(
            NodeSpec(
                name=ctx.name(d, key),
                ip=ctx.str(d, "ip", key, f"10.0.{i + 1}.{10 + i}"),
                zone=ctx.str(d, "zone", key, ""),
            )
        )
    if len({n.name for n in out}) != len(out):
        raise ctx.fail("nodes", "node names must be unique")
    return tuple(out)


def _lines(ctx: _Ctx, d: dict[str, Any], name: str, key: str) -> tuple[str, ...]:
    # A list of lines, or one block scalar (`|`) for multi-line output such as a stack trace.
    v = d.get(name)
    items = [v] if isinstance(v, str) else ctx.list(v, f"{key}.{name}")
    return tuple(line for x in items for line in str(x).splitlines())


def _logs(ctx: _Ctx, v: Any) -> dict[str, LogProfile]:
    out = {}
    for name, item in ctx.map(v, "logs").items():
        key = f"logs.{name}"
        d = ctx.map(item, key)
        ctx.known(d, {"startup", "lines", "every", "crash"}, key)
        every = ctx.num(d, "every", key, 3.0)
        if every <= 0:
            raise ctx.fail(f"{key}.every", "must be > 0")
        out[str(name)] = LogProfile(
            name=str(name),
            startup=_lines(ctx, d, "startup", key),
            lines=_lines(ctx, d, "lines", key),
            every=every,
            crash=_lines(ctx, d, "crash", key),
        )
    return out


def _behaviors(ctx: _Ctx, v: Any, logs: dict[str, LogProfile]) -> dict[str, Behavior]:
    out = {"healthy": HEALTHY}
    for name, item in ctx.map(v, "behaviors").items():
        key = f"behaviors.{name}"
        d = ctx.map(item, key)
        ctx.known(d, {"crash", "ready", "logs"}, key)
        crash = None
        if "crash" in d:
            c = ctx.map(d["crash"], f"{key}.crash")
            ctx.known(c, {"reason", "exit_code", "after"}, f"{key}.crash")
            crash = CrashSpec(
                reason=ctx.str(c, "reason", f"{key}.crash", "Error"),
                exit_code=ctx.int(c, "exit_code", f"{key}.crash", 1),
                after=ctx.num(c, "after", f"{key}.crash", 5.0),
            )
        log = d.get("logs")
        if log is not None and log not in logs:
            raise ctx.fail(f"{key}.logs", f"unknown log profile {log!r}")
        out[str(name)] = Behavior(
            name=str(name),
            crash=crash,
            ready=ctx.bool(d, "ready", key, crash is None),
            logs=log,
        )
    return out


def _workloads(
    ctx: _Ctx, v: Any, behaviors: dict[str, Behavior], logs: dict[str, LogProfile]
) -> tuple[Workload, ...]:
    out = []
    for i, item in enumerate(ctx.list(v, "workloads")):
        key = f"workloads[{i}]"
        d = ctx.map(item, key)
        ctx.known(
            d,
            {
                "kind",
                "name",
                "replicas",
                "image",
                "containers",
                "labels",
                "strategy",
                "behavior",
                "age",
                "paused",
                "logs",
                "port",
                "cpu",
                "memory",
            },
            key,
        )
        kind_raw = ctx.str(d, "kind", key, "Deployment")
        kind = WORKLOAD_KINDS.get(kind_raw.lower())
        if kind is None:
            raise ctx.fail(f"{key}.kind", f"must be one of {sorted(WORKLOAD_KINDS.values())}")
        name = ctx.name(d, key)
        containers = []
        if "containers" in d:
            for j, c in enumerate(ctx.list(d["containers"], f"{key}.containers")):
                ck = f"{key}.containers[{j}]"
                cd = ctx.map(c, ck)
                ctx.known(cd, {"name", "image", "logs", "port", "cpu", "memory"}, ck)
                containers.append(_container(ctx, cd, ck, ctx.name(cd, ck), logs))
        else:
            containers.append(_container(ctx, d, key, name, logs))
        if not containers:
            raise ctx.fail(f"{key}.containers", "at least one container is required")
        behavior = ctx.str(d, "behavior", key, "healthy")
        if behavior not in behaviors:
            raise ctx.fail(f"{key}.behavior", f"unknown behavior {behavior!r}")
        strategy = ctx.str(d, "strategy", key, "RollingUpdate")
        if strategy not in ("RollingUpdate", "Recreate", "OnDelete"):
            raise ctx.fail(f"{key}.strategy", "must be RollingUpdate, Recreate or OnDelete")
        labels = ctx.labels(d.get("labels"), f"{key}.labels") or {"app": name}
        out.append(
            Workload(
                kind=kind,
                name=name,
                replicas=ctx.int(d, "replicas", key, 1),
                containers=tuple(containers),
                labels=labels,
                strategy=strategy,
                behavior=behavior,
                age=ctx.num(d, "age", key, 3 * 86400.0),
                paused=ctx.bool(d, "paused", key, False),
            )
        )
    if len({w.ref for w in out}) != len(out):
        raise ctx.fail("workloads", "workload kind/name pairs must be unique")
    return tuple(out)


def _container(
    ctx: _Ctx, d: dict[str, Any], key: str, name: str, logs: dict[str, LogProfile]
) -> ContainerSpec:
    log = d.get("logs")
    if log is not None and log not in logs:
        raise ctx.fail(f"{key}.logs", f"unknown log profile {log!r}")
    port = d.get("port", 8080)
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
        raise ctx.fail(f"{key}.port", "must be an integer or null")
    return ContainerSpec(
        name=name,
        image=ctx.str(d, "image", key),
        logs=log,
        port=port,
        cpu=ctx.str(d, "cpu", key, "100m"),
        memory=ctx.str(d, "memory", key, "256Mi"),
    )


def _metrics(ctx: _Ctx, v: Any) -> tuple[MetricSpec, ...]:
    out = []
    for i, item in enumerate(ctx.list(v, "metrics")):
        key = f"metrics[{i}]"
        d = ctx.map(item, key)
        ctx.known(d, {"id", "expr", "labels", "value", "noise", "min", "max"}, key)
        mn, mx = d.get("min", 0.0), d.get("max")
        out.append(
            MetricSpec(
                id=ctx.str(d, "id", key),
                expr=" ".join(ctx.str(d, "expr", key).split()),
                labels=ctx.labels(d.get("labels"), f"{key}.labels"),
                value=ctx.num(d, "value", key),
                noise=ctx.num(d, "noise", key, 0.0),
                min=None if mn is None else ctx.num(d, "min", key, 0.0),
                max=None if mx is None else ctx.num(d, "max", key, mx),
            )
        )
    if len({m.id for m in out}) != len(out):
        raise ctx.fail("metrics", "metric ids must be unique")
    return tuple(out)


def _checks(ctx: _Ctx, v: Any, exprs: set[str]) -> tuple[CheckSpec, ...]:
    out = []
    for i, item in enumerate(ctx.list(v, "checks")):
        key = f"checks[{i}]"
        d = ctx.map(item, key)
        ctx.known(d, {"name", "expr", "warn", "crit", "direction", "unit"}, key)
        expr = " ".join(ctx.str(d, "expr", key).split())
        if normalize_expr(expr) not in exprs:
            raise ctx.fail(f"{key}.expr", "no metric in `metrics` serves this expression")
        direction = ctx.str(d, "direction", key, "above")
        if direction not in ("above", "below"):
            raise ctx.fail(f"{key}.direction", "must be above or below")
        warn, crit = ctx.num(d, "warn", key), ctx.num(d, "crit", key)
        if (direction == "above" and crit < warn) or (direction == "below" and crit > warn):
            raise ctx.fail(f"{key}.crit", f"must be {direction} warn")
        out.append(
            CheckSpec(ctx.str(d, "name", key), expr, warn, crit, direction, d.get("unit", ""))
        )
    return tuple(out)


def _alerts(ctx: _Ctx, v: Any) -> tuple[AlertSpec, ...]:
    out = []
    for i, item in enumerate(ctx.list(v, "alerts")):
        key = f"alerts[{i}]"
        d = ctx.map(item, key)
        ctx.known(d, {"name", "labels", "annotations", "expr"}, key)
        out.append(
            AlertSpec(
                name=ctx.str(d, "name", key),
                labels=ctx.labels(d.get("labels"), f"{key}.labels"),
                annotations=ctx.labels(d.get("annotations"), f"{key}.annotations"),
                expr=" ".join(ctx.str(d, "expr", key, "").split()),
            )
        )
    return tuple(out)


@dataclass
class _Refs:
    workloads: dict[str, Workload]
    behaviors: set[str]
    metrics: set[str]
    alerts: set[str]
    nodes: set[str]

    def workload(self, ctx: _Ctx, v: Any, key: str) -> str:
        ref = str(v).lower() if isinstance(v, str) else ""
        kind, _, name = ref.partition("/")
        ref = f"{kind}/{name}"
        if ref not in self.workloads:
            raise ctx.fail(key, f"unknown workload {v!r} (use kind/name, e.g. deployment/web)")
        return ref


def _actions(ctx: _Ctx, v: Any, key: str, refs: _Refs) -> tuple[Action, ...]:
    out = []
    for i, item in enumerate(ctx.list(v, key)):
        k = f"{key}[{i}]"
        d = dict(ctx.map(item, k))
        after = ctx.num(d, "after", k, 0.0)
        d.pop("after", None)
        kinds = [x for x in d if x in ACTION_KINDS]
        if len(d) != 1 or len(kinds) != 1:
            raise ctx.fail(k, f"needs exactly one action key of {', '.join(ACTION_KINDS)}")
        kind = kinds[0]
        out.append(Action(kind, _action_args(ctx, kind, d[kind], f"{k}.{kind}", refs), after, k))
    return tuple(out)


def _action_args(ctx: _Ctx, kind: str, v: Any, key: str, refs: _Refs) -> dict[str, Any]:
    if kind in ("set", "clear"):
        if not isinstance(v, str) or not v:
            raise ctx.fail(key, "must be a flag name")
        return {"flag": v}
    d = ctx.map(v, key)
    if kind == "rollout":
        ctx.known(d, {"workload", "image", "container", "behavior"}, key)
        ref = refs.workload(ctx, d.get("workload"), f"{key}.workload")
        _known_behavior(ctx, d, key, refs)
        if "image" not in d and "behavior" not in d:
            raise ctx.fail(key, "needs image and/or behavior")
        return {**d, "workload": ref}
    if kind == "behavior":
        ctx.known(d, {"workload", "set", "running"}, key)
        ref = refs.workload(ctx, d.get("workload"), f"{key}.workload")
        if d.get("set") not in refs.behaviors:
            raise ctx.fail(f"{key}.set", f"unknown behavior {d.get('set')!r}")
        return {"workload": ref, "set": d["set"], "running": ctx.bool(d, "running", key, False)}
    if kind == "scale":
        ctx.known(d, {"workload", "replicas"}, key)
        ref = refs.workload(ctx, d.get("workload"), f"{key}.workload")
        return {"workload": ref, "replicas": ctx.int(d, "replicas", key)}
    if kind == "node":
        ctx.known(d, {"name", "ready"}, key)
        if d.get("name") not in refs.nodes:
            raise ctx.fail(f"{key}.name", f"unknown node {d.get('name')!r}")
        return {"name": d["name"], "ready": ctx.bool(d, "ready", key, False)}
    if kind == "metric":
        ctx.known(d, {"id", "to", "over"}, key)
        if d.get("id") not in refs.metrics:
            raise ctx.fail(f"{key}.id", f"unknown metric id {d.get('id')!r}")
        over = ctx.num(d, "over", key, 0.0)
        if over < 0:
            raise ctx.fail(f"{key}.over", "must be >= 0")
        return {"id": d["id"], "to": ctx.num(d, "to", key), "over": over}
    if kind == "alert":
        ctx.known(d, {"name", "state"}, key)
        if d.get("name") not in refs.alerts:
            raise ctx.fail(f"{key}.name", f"unknown alert {d.get('name')!r}")
        state = d.get("state", "firing")
        if state not in ("firing", "resolved", "pending"):
            raise ctx.fail(f"{key}.state", "must be firing, pending or resolved")
        return {"name": d["name"], "state": state}
    if kind == "event":
        ctx.known(d, {"workload", "type", "reason", "message"}, key)
        ref = refs.workload(ctx, d.get("workload"), f"{key}.workload")
        etype = ctx.str(d, "type", key, "Warning")
        if etype not in ("Normal", "Warning"):
            raise ctx.fail(f"{key}.type", "must be Normal or Warning")
        return {
            "workload": ref,
            "type": etype,
            "reason": ctx.str(d, "reason", key),
            "message": ctx.str(d, "message", key),
        }
    raise ctx.fail(key, "unknown action")  # pragma: no cover - guarded by ACTION_KINDS


def _known_behavior(ctx: _Ctx, d: dict[str, Any], key: str, refs: _Refs) -> None:
    if "behavior" in d and d["behavior"] not in refs.behaviors:
        raise ctx.fail(f"{key}.behavior", f"unknown behavior {d['behavior']!r}")


def _timeline(ctx: _Ctx, v: Any, refs: _Refs) -> tuple[TimelineEntry, ...]:
    out = []
    for i, item in enumerate(ctx.list(v, "timeline")):
        key = f"timeline[{i}]"
        d = ctx.map(item, key)
        ctx.known(d, {"at", "do", "note", "if", "unless", "impact"}, key)
        at = ctx.num(d, "at", key)
        if at < 0:
            raise ctx.fail(f"{key}.at", "must be >= 0")
        actions = _actions(ctx, d.get("do"), f"{key}.do", refs)
        note = ctx.str(d, "note", key, "")
        flags_if, flags_unless = _flags(ctx, d, "if", key), _flags(ctx, d, "unless", key)
        impact = d.get("impact", False)
        if not isinstance(impact, bool):
            raise ctx.fail(f"{key}.impact", f"true or false, got {impact!r}")
        out.append(TimelineEntry(at, actions, note, flags_if, flags_unless, impact))
    return tuple(sorted(out, key=lambda e: e.at))


def _reactions(ctx: _Ctx, v: Any, refs: _Refs) -> tuple[Reaction, ...]:
    out = []
    for i, item in enumerate(ctx.list(v, "reactions")):
        key = f"reactions[{i}]"
        d = ctx.map(item, key)
        ctx.known(d, {"name", "when", "if", "unless", "once", "do"}, key)
        w = ctx.map(d.get("when"), f"{key}.when")
        ctx.known(w, {*TRIGGER_KINDS, "image_is", "min_replicas", "force"}, f"{key}.when")
        kinds = [k for k in TRIGGER_KINDS if k in w]
        if len(kinds) != 1:
            raise ctx.fail(f"{key}.when", f"needs exactly one of {', '.join(TRIGGER_KINDS)}")
        kind = kinds[0]
        ref = refs.workload(ctx, w[kind], f"{key}.when.{kind}")
        image = w.get("image_is")
        if kind == "image" and not image:
            raise ctx.fail(f"{key}.when.image_is", "is required for an image trigger")
        mr = None if w.get("min_replicas") is None else ctx.int(w, "min_replicas", f"{key}.when")
        force = ctx.bool(w, "force", f"{key}.when", False)
        trigger = Trigger(kind, ref, str(image) if image else None, mr, force)
        out.append(
            Reaction(
                name=ctx.str(d, "name", key, f"reaction {i}"),
                when=trigger,
                actions=_actions(ctx, d.get("do"), f"{key}.do", refs),
                if_flags=_flags(ctx, d, "if", key),
                unless_flags=_flags(ctx, d, "unless", key),
                once=ctx.bool(d, "once", key, True),
            )
        )
    return tuple(out)


def _flags(ctx: _Ctx, d: dict[str, Any], name: str, key: str) -> tuple[str, ...]:
    """`if:` / `unless:`: one flag name or a list of them."""
    v = d.get(name)
    items = [v] if isinstance(v, str) else ctx.list(v, f"{key}.{name}")
    if not all(isinstance(x, str) and x for x in items):
        raise ctx.fail(f"{key}.{name}", "must be a flag name or a list of flag names")
    return tuple(items)


def _timings(ctx: _Ctx, v: Any) -> Timings:
    d = ctx.map(v, "timings")
    names = set(Timings.__dataclass_fields__)
    ctx.known(d, names, "timings")
    vals = {k: ctx.num(d, k, "timings") for k in d}
    for k, x in vals.items():
        if x < 0:
            raise ctx.fail(f"timings.{k}", "must be >= 0")
    return Timings(**vals)
