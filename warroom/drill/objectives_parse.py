"""Parses a scenario's `objectives:` block (format in objectives.py); errors are one line,
`file:line: objectives.key: problem`, like the rest of the scenario parser."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from warroom.drill.objectives import (
    DEFAULT_POINTS,
    OBJECTIVE_IDS,
    RULE_KINDS,
    ActionRule,
    Objectives,
)
from warroom.drill.scenario_actions import Refs
from warroom.drill.scenario_types import MAX_REPLICAS, MAX_SECONDS
from warroom.drill.yaml_fields import FieldReader, shown
from warroom.model import Severity

KEYS = (
    "severity",
    "severity_why",
    "ack_within",
    "first_update_within",
    "resolve_within",
    "right",
    "wrong",
    "evidence_before_mitigation",
    "phases",
    "required",
    "pass_mark",
    "points",
)
MAX_POINTS = 1000  # per objective: weights, the pass mark is a percentage of their sum
RULE_EXTRAS = {"image_is": "image", "min_replicas": "scale", "force": "delete"}


def parse_objectives(f: FieldReader, v: Any, refs: Refs) -> Objectives:
    key = "objectives"
    d = f.map(v, key)
    f.known(d, KEYS, key)
    points = dict(DEFAULT_POINTS)
    for name in f.map(d.get("points"), f"{key}.points"):
        f.choice(name, OBJECTIVE_IDS, f"{key}.points.{name}", "objective")
        points[name] = f.count(d["points"], name, f"{key}.points", None, hi=MAX_POINTS)
    return Objectives(
        severity=_severities(f, d.get("severity")),
        severity_why=" ".join(f.text(d, "severity_why", key, "").split()),
        ack_within=_duration(f, d, "ack_within"),
        first_update_within=_duration(f, d, "first_update_within"),
        resolve_within=_duration(f, d, "resolve_within"),
        right=_rules(f, d.get("right"), f"{key}.right", refs),
        wrong=_rules(f, d.get("wrong"), f"{key}.wrong", refs),
        evidence_before_mitigation=f.flag(d, "evidence_before_mitigation", key, True),
        phases=None if d.get("phases") is None else _names(f, d["phases"], f"{key}.phases"),
        required=_required(f, d.get("required")),
        pass_mark=f.count(d, "pass_mark", key, 70, hi=100),
        points=points,
    )


def _severities(f: FieldReader, v: Any) -> tuple[Severity, ...]:
    key = "objectives.severity"
    items = [v] if isinstance(v, str) else f.list(v, key)
    out = []
    for i, s in enumerate(items):
        k = key if isinstance(v, str) else f"{key}[{i}]"
        text = f.scalar_text(s, k).upper()
        if text not in Severity.__members__:
            raise f.fail(k, f"unknown severity {shown(s)}: use P0, P1, P2 or P3")
        out.append(Severity(text))
    return tuple(out)


def _required(f: FieldReader, v: Any) -> tuple[str, ...]:
    key = "objectives.required"
    if v is None:
        return ("mitigation", "resolved")
    items = [v] if isinstance(v, str) else f.list(v, key)
    return tuple(
        f.choice(x, OBJECTIVE_IDS, f"{key}[{i}]", "objective") for i, x in enumerate(items)
    )


def _names(f: FieldReader, v: Any, key: str) -> tuple[str, ...]:
    items = [v] if isinstance(v, str) else f.list(v, key)
    out = []
    for i, x in enumerate(items):
        if not isinstance(x, str) or not x.strip():
            raise f.fail(f"{key}[{i}]", "must be a checklist phase id")
        out.append(x)
    return tuple(out)


def _duration(f: FieldReader, d: dict[str, Any], name: str) -> timedelta | None:
    if d.get(name) is None:
        return None
    return timedelta(seconds=f.duration(d[name], f"objectives.{name}", hi=MAX_SECONDS))


def _rules(f: FieldReader, v: Any, key: str, refs: Refs) -> tuple[ActionRule, ...]:
    out = []
    for i, item in enumerate(f.list(v, key)):
        k = f"{key}[{i}]"
        r = f.map(item, k)
        f.known(r, (*RULE_KINDS, *RULE_EXTRAS, "why"), k)
        kind = f.one_of_keys(r, RULE_KINDS, k)
        for extra, owner in RULE_EXTRAS.items():
            if extra in r and kind != owner:
                raise f.fail(f"{k}.{extra}", f"only applies to a {owner} rule")
        mr = r.get("min_replicas")
        out.append(
            ActionRule(
                kind=kind,
                workload=refs.workload(f, r[kind], f"{k}.{kind}"),
                min_replicas=None
                if mr is None
                else f.count(r, "min_replicas", k, None, hi=MAX_REPLICAS),
                image=f.text(r, "image_is", k, empty=False)
                if r.get("image_is") is not None
                else None,
                force=f.flag(r, "force", k, False),
                why=" ".join(f.text(r, "why", k, "").split()),
            )
        )
    return tuple(out)
