"""Parses a scenario's `objectives:` block (format in objectives.py); errors read
`file: objectives.key: problem` like the rest of the scenario parser."""

from __future__ import annotations

from typing import Any, Protocol

from warroom.drill.objectives import (
    DEFAULT_POINTS,
    OBJECTIVE_IDS,
    RULE_KINDS,
    ActionRule,
    Objectives,
)
from warroom.model import Severity, parse_duration

KEYS = {
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
}


class Ctx(Protocol):
    """The parser context of scenario_parse (kept structural to avoid an import cycle)."""

    def fail(self, key: str, problem: str) -> Exception: ...
    def map(self, v: Any, key: str) -> dict[str, Any]: ...
    def list(self, v: Any, key: str) -> list[Any]: ...
    def known(self, d: dict[str, Any], allowed: set[str], key: str) -> None: ...


def parse_objectives(ctx: Ctx, v: Any, workloads: set[str]) -> Objectives:
    d = ctx.map(v, "objectives")
    ctx.known(d, KEYS, "objectives")
    key = "objectives"
    sev_raw = d.get("severity")
    items = [sev_raw] if isinstance(sev_raw, str) else ctx.list(sev_raw, f"{key}.severity")
    severities = []
    for s in items:
        try:
            severities.append(Severity(str(s).upper()))
        except ValueError:
            raise ctx.fail(f"{key}.severity", f"unknown severity {s!r}: use P0..P3") from None
    points = dict(DEFAULT_POINTS)
    for name, value in ctx.map(d.get("points"), f"{key}.points").items():
        if name not in OBJECTIVE_IDS:
            raise ctx.fail(
                f"{key}.points.{name}", f"unknown objective (use {', '.join(OBJECTIVE_IDS)})"
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ctx.fail(f"{key}.points.{name}", "must be an integer >= 0")
        points[name] = value
    required = tuple(
        str(x) for x in ctx.list(d.get("required", ["mitigation", "resolved"]), f"{key}.required")
    )
    for r in required:
        if r not in OBJECTIVE_IDS:
            raise ctx.fail(f"{key}.required", f"unknown objective {r!r}")
    pass_mark = d.get("pass_mark", 70)
    if isinstance(pass_mark, bool) or not isinstance(pass_mark, int) or not 0 <= pass_mark <= 100:
        raise ctx.fail(f"{key}.pass_mark", "must be a percentage 0..100")
    evidence = d.get("evidence_before_mitigation", True)
    if not isinstance(evidence, bool):
        raise ctx.fail(f"{key}.evidence_before_mitigation", "must be true or false")
    phases = d.get("phases")
    return Objectives(
        severity=tuple(severities),
        severity_why=" ".join(str(d.get("severity_why", "")).split()),
        ack_within=_duration(ctx, d, "ack_within"),
        first_update_within=_duration(ctx, d, "first_update_within"),
        resolve_within=_duration(ctx, d, "resolve_within"),
        right=_rules(ctx, d.get("right"), f"{key}.right", workloads),
        wrong=_rules(ctx, d.get("wrong"), f"{key}.wrong", workloads),
        evidence_before_mitigation=evidence,
        phases=None if phases is None else tuple(str(p) for p in ctx.list(phases, f"{key}.phases")),
        required=required,
        pass_mark=pass_mark,
        points=points,
    )


def _duration(ctx: Ctx, d: dict[str, Any], name: str) -> Any:
    if d.get(name) is None:
        return None
    try:
        return parse_duration(d[name])
    except ValueError as e:
        raise ctx.fail(f"objectives.{name}", str(e)) from None


def _rules(ctx: Ctx, v: Any, key: str, workloads: set[str]) -> tuple[ActionRule, ...]:
    out = []
    for i, item in enumerate(ctx.list(v, key)):
        k = f"{key}[{i}]"
        r = ctx.map(item, k)
        ctx.known(r, {*RULE_KINDS, "min_replicas", "image_is", "force", "why"}, k)
        kinds = [x for x in RULE_KINDS if x in r]
        if len(kinds) != 1:
            raise ctx.fail(k, f"needs exactly one of {', '.join(RULE_KINDS)}")
        kind = kinds[0]
        ref = str(r[kind]).lower()
        if ref not in workloads:
            raise ctx.fail(f"{k}.{kind}", f"unknown workload {r[kind]!r} (use kind/name)")
        mr = r.get("min_replicas")
        if mr is not None and (isinstance(mr, bool) or not isinstance(mr, int) or mr < 0):
            raise ctx.fail(f"{k}.min_replicas", "must be an integer >= 0")
        out.append(
            ActionRule(
                kind=kind,
                workload=ref,
                min_replicas=mr,
                image=str(r["image_is"]) if r.get("image_is") else None,
                force=r.get("force") is True,
                why=" ".join(str(r.get("why", "")).split()),
            )
        )
    return tuple(out)
