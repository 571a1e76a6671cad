"""The parts of a scenario that refer to the rest of it: timeline entries, reactions and the
actions they run. A reference to a workload, behavior, metric, alert or node that the scenario
does not define is an error here, at load time, not a failure in the middle of a drill."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from warroom.drill.scenario_types import (
    ACTION_KINDS,
    MAX_REPLICAS,
    MAX_SECONDS,
    TRIGGER_KINDS,
    WORKLOAD_KINDS,
    Action,
    Reaction,
    TimelineEntry,
    Trigger,
    Workload,
)
from warroom.drill.yaml_fields import FieldReader, did_you_mean, shown, suggest

ALERT_STATES = ("firing", "pending", "resolved")
EVENT_TYPES = ("Normal", "Warning")


@dataclass
class Refs:
    """What a scenario defines, for checking references to it."""

    workloads: dict[str, Workload]
    behaviors: set[str]
    metrics: set[str]
    alerts: set[str]
    nodes: set[str]

    def workload(self, f: FieldReader, v: Any, key: str) -> str:
        """A `kind/name` reference ("deployment/web"), case-insensitive, to a defined workload."""
        if not isinstance(v, str):
            raise f.fail(key, f"must be kind/name such as deployment/web, got {shown(v)}")
        kind, sep, name = v.strip().lower().partition("/")
        ref = f"{kind}/{name}"
        if ref in self.workloads:
            return ref
        if not sep or not name:
            hint = did_you_mean(v, self.workloads) or " (e.g. deployment/web)"
            raise f.fail(key, f"{shown(v)} is not kind/name{hint}")
        if kind not in WORKLOAD_KINDS:
            hint = did_you_mean(ref, self.workloads) or suggest(kind, WORKLOAD_KINDS)
            raise f.fail(key, f"unknown kind {shown(kind)}{hint}")
        raise f.fail(key, f"unknown workload {shown(v)}" + suggest(ref, self.workloads))


def parse_actions(f: FieldReader, v: Any, key: str, refs: Refs) -> tuple[Action, ...]:
    out = []
    for i, item in enumerate(f.list(v, key)):
        k = f"{key}[{i}]"
        d = f.map(item, k)
        after = f.number(d, "after", k, 0.0, lo=0, hi=MAX_SECONDS)
        body = {x: y for x, y in d.items() if x != "after"}
        for x in body:
            if x not in ACTION_KINDS:
                raise f.fail(f"{k}.{x}", "unknown action" + suggest(x, ACTION_KINDS))
        kind = f.one_of_keys(body, ACTION_KINDS, k)
        out.append(Action(kind, _args(f, kind, body[kind], f"{k}.{kind}", refs), after, k))
    return tuple(out)


def _args(f: FieldReader, kind: str, v: Any, key: str, refs: Refs) -> dict[str, Any]:
    if kind in ("set", "clear"):
        if not isinstance(v, str) or not v.strip():
            raise f.fail(key, f"must be a flag name, got {shown(v)}")
        return {"flag": v}
    d = f.map(v, key)
    if kind == "rollout":
        f.known(d, ("workload", "image", "container", "behavior"), key)
        ref = refs.workload(f, d.get("workload"), f"{key}.workload")
        out: dict[str, Any] = {"workload": ref}
        if d.get("image") is not None:
            out["image"] = f.text(d, "image", key, empty=False)
        if d.get("container") is not None:
            names = [c.name for c in refs.workloads[ref].containers]
            out["container"] = f.option(d, "container", key, names, what="container")
        if d.get("behavior") is not None:
            out["behavior"] = f.option(d, "behavior", key, refs.behaviors, what="behavior")
        if "image" not in out and "behavior" not in out:
            raise f.fail(key, "needs image and/or behavior")
        return out
    if kind == "behavior":
        f.known(d, ("workload", "set", "running"), key)
        return {
            "workload": refs.workload(f, d.get("workload"), f"{key}.workload"),
            "set": f.option(d, "set", key, refs.behaviors, what="behavior"),
            "running": f.flag(d, "running", key, False),
        }
    if kind == "scale":
        f.known(d, ("workload", "replicas"), key)
        return {
            "workload": refs.workload(f, d.get("workload"), f"{key}.workload"),
            "replicas": f.count(d, "replicas", key, None, hi=MAX_REPLICAS),
        }
    if kind == "node":
        f.known(d, ("name", "ready"), key)
        return {
            "name": f.option(d, "name", key, refs.nodes, what="node"),
            "ready": f.flag(d, "ready", key, False),
        }
    if kind == "metric":
        f.known(d, ("id", "to", "over"), key)
        return {
            "id": f.option(d, "id", key, refs.metrics, what="metric id"),
            "to": f.number(d, "to", key),
            "over": f.number(d, "over", key, 0.0, lo=0, hi=MAX_SECONDS),
        }
    if kind == "alert":
        f.known(d, ("name", "state"), key)
        return {
            "name": f.option(d, "name", key, refs.alerts, what="alert"),
            "state": f.option(d, "state", key, ALERT_STATES, "firing", "state"),
        }
    if kind == "event":
        f.known(d, ("workload", "type", "reason", "message"), key)
        return {
            "workload": refs.workload(f, d.get("workload"), f"{key}.workload"),
            "type": f.option(d, "type", key, EVENT_TYPES, "Warning", "event type"),
            "reason": f.text(d, "reason", key, empty=False),
            "message": f.text(d, "message", key),
        }
    raise f.fail(key, "unknown action")  # pragma: no cover - guarded by ACTION_KINDS


def parse_timeline(f: FieldReader, v: Any, refs: Refs) -> tuple[TimelineEntry, ...]:
    out = []
    for i, item in enumerate(f.list(v, "timeline")):
        key = f"timeline[{i}]"
        d = f.map(item, key)
        f.known(d, ("at", "do", "note", "if", "unless", "impact"), key)
        out.append(
            TimelineEntry(
                at=f.number(d, "at", key, lo=0, hi=MAX_SECONDS),
                actions=parse_actions(f, d.get("do"), f"{key}.do", refs),
                note=f.text(d, "note", key, ""),
                if_flags=_flags(f, d, "if", key),
                unless_flags=_flags(f, d, "unless", key),
                impact=f.flag(d, "impact", key, False),
            )
        )
    return tuple(sorted(out, key=lambda e: e.at))


TRIGGER_EXTRAS = {"image_is": "image", "min_replicas": "scale", "force": "delete"}


def parse_reactions(f: FieldReader, v: Any, refs: Refs) -> tuple[Reaction, ...]:
    out = []
    for i, item in enumerate(f.list(v, "reactions")):
        key = f"reactions[{i}]"
        d = f.map(item, key)
        f.known(d, ("name", "when", "if", "unless", "once", "do"), key)
        out.append(
            Reaction(
                name=f.text(d, "name", key, f"reaction {i}", empty=False),
                when=_trigger(f, d.get("when"), f"{key}.when", refs),
                actions=parse_actions(f, d.get("do"), f"{key}.do", refs),
                if_flags=_flags(f, d, "if", key),
                unless_flags=_flags(f, d, "unless", key),
                once=f.flag(d, "once", key, True),
            )
        )
    f.unique([(r.name, f"reactions[{i}].name") for i, r in enumerate(out)], "reaction name")
    return tuple(out)


def _trigger(f: FieldReader, v: Any, key: str, refs: Refs) -> Trigger:
    if v is None:
        raise f.fail(key, f"is required: one of {', '.join(TRIGGER_KINDS)}")
    w = f.map(v, key)
    f.known(w, (*TRIGGER_KINDS, *TRIGGER_EXTRAS), key)
    kind = f.one_of_keys(w, TRIGGER_KINDS, key)
    for extra, owner in TRIGGER_EXTRAS.items():
        if extra in w and kind != owner:
            raise f.fail(f"{key}.{extra}", f"only applies to a {owner} trigger")
    ref = refs.workload(f, w[kind], f"{key}.{kind}")
    image = f.text(w, "image_is", key, empty=False) if kind == "image" else None
    mr = (
        None
        if w.get("min_replicas") is None
        else f.count(w, "min_replicas", key, None, hi=MAX_REPLICAS)
    )
    return Trigger(kind, ref, image, mr, f.flag(w, "force", key, False))


def _flags(f: FieldReader, d: dict[str, Any], name: str, key: str) -> tuple[str, ...]:
    """`if:` / `unless:`: one flag name or a list of them."""
    v = d.get(name)
    items = [v] if isinstance(v, str) else f.list(v, f.at(key, name))
    for j, x in enumerate(items):
        if not isinstance(x, str) or not x.strip():
            where = f.at(key, name) + (f"[{j}]" if not isinstance(v, str) else "")
            raise f.fail(where, f"must be a flag name, got {shown(x)}")
    return tuple(items)
