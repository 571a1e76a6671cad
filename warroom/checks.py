"""Health checks and detection rules as configured: their specs, parsed from the settings' TOML
with errors that name the key, and how values read. Pure (health.py evaluates them).

TOML shape (the settings loader hands the lists over as parsed dicts):

    [[health.checks]]
    name = "error_ratio"        # unique; detection rules refer to it
    query = "sum(rate(...))"    # PromQL, one value expected (several series: the worst counts)
    warn = 0.01                 # optional thresholds, reached at >= (above) / <= (below)
    crit = 0.05
    direction = "above"         # or "below" (e.g. success ratio, replicas available)
    unit = "ratio"              # ratio (shown as %), %, s, bytes, or any label
    for = "2m"                  # optional: escalate only after the state held this long

    [[health.rules]]
    name = "checkout burning"
    severity = "P1"             # suggested severity
    for = "2m"                  # all conditions must hold this long
    when = [
      { check = "error_ratio", op = ">", value = 0.05 },
      { check = "p99_latency", state = "warn" },   # state at least warn
    ]
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Literal

from warroom.model import Severity, parse_duration

Direction = Literal["above", "below"]


class HealthConfigError(ValueError):
    """A broken check or rule. `key` is dotted (health.checks[2].warn) so the settings loader
    can add the line number; str() already names source and key."""

    def __init__(self, source: str, key: str, problem: str) -> None:
        super().__init__(f"{source}: {key}: {problem}")
        self.source = source
        self.key = key
        self.problem = problem


class CheckState(StrEnum):
    OK = "ok"
    WARN = "warn"
    CRIT = "crit"
    NODATA = "nodata"  # query fine, nothing (or NaN) came back
    ERROR = "error"  # this check's query failed

    @property
    def level(self) -> int | None:
        """0/1/2 for ok/warn/crit; None for the unknown states (nodata, error)."""
        return _LEVELS.get(self)


_LEVELS = {CheckState.OK: 0, CheckState.WARN: 1, CheckState.CRIT: 2}


@dataclass(frozen=True, slots=True)
class CheckSpec:
    name: str
    expr: str
    warn: float | None = None
    crit: float | None = None
    direction: Direction = "above"
    unit: str = ""
    for_: timedelta | None = None
    pods: str = ""  # a label selector of the pods behind it ("app=checkout"): evidence takes them

    def threshold(self, state: CheckState) -> float | None:
        return {CheckState.WARN: self.warn, CheckState.CRIT: self.crit}.get(state)


# --- parsing -------------------------------------------------------------------------------

_CHECK_KEYS = {"name", "query", "warn", "crit", "direction", "unit", "for", "pods"}
_RULE_KEYS = {"name", "when", "for", "severity"}
_COND_KEYS = {"check", "state", "op", "value"}


def _number(source: str, key: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or math.isnan(v):
        raise HealthConfigError(source, key, f"must be a number, got {v!r}")
    return float(v)


def _text(source: str, key: str, v: Any) -> str:
    if not isinstance(v, str) or not v.strip():
        raise HealthConfigError(source, key, f"must be a non-empty string, got {v!r}")
    return v.strip()


def _duration(source: str, key: str, v: Any) -> timedelta:
    try:
        return parse_duration(v)
    except (ValueError, TypeError) as e:
        raise HealthConfigError(source, key, str(e)) from None


def _entries(raw: Any, source: str, prefix: str) -> list[dict[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise HealthConfigError(source, prefix, "must be an array of tables ([[...]])")
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise HealthConfigError(source, f"{prefix}[{i}]", "must be a table")
    return raw


def _known_keys(d: dict[str, Any], known: set[str], source: str, at: str) -> None:
    for k in d:
        if k not in known:
            raise HealthConfigError(
                source, f"{at}.{k}", f"unknown key (expected one of {sorted(known)})"
            )


def _named_entry(
    d: dict[str, Any],
    known: set[str],
    required: tuple[str, ...],
    source: str,
    at: str,
    seen: set[str],
) -> str:
    """The unique name of a check or rule table, after its keys are checked."""
    _known_keys(d, known, source, at)
    for k in required:
        if k not in d:
            raise HealthConfigError(source, f"{at}.{k}", "missing")
    name = _text(source, f"{at}.name", d["name"])
    if name in seen:
        what = "check" if "query" in known else "rule"
        raise HealthConfigError(source, f"{at}.name", f"duplicate {what} name {name!r}")
    seen.add(name)
    return name


def parse_checks(
    raw: list[dict[str, Any]] | None, source: str, *, prefix: str = "health.checks"
) -> list[CheckSpec]:
    specs: list[CheckSpec] = []
    seen: set[str] = set()
    for i, d in enumerate(_entries(raw, source, prefix)):
        at = f"{prefix}[{i}]"
        name = _named_entry(d, _CHECK_KEYS, ("name", "query"), source, at, seen)
        expr = _text(source, f"{at}.query", d["query"])
        warn = _number(source, f"{at}.warn", d["warn"]) if "warn" in d else None
        crit = _number(source, f"{at}.crit", d["crit"]) if "crit" in d else None
        direction = d.get("direction", "above")
        if direction not in ("above", "below"):
            raise HealthConfigError(
                source, f"{at}.direction", f'must be "above" or "below", got {direction!r}'
            )
        # warn must be reached before crit, whichever way the value moves
        if (
            warn is not None
            and crit is not None
            and (warn > crit if direction == "above" else warn < crit)
        ):
            rel = "<=" if direction == "above" else ">="
            raise HealthConfigError(
                source, f"{at}.warn", f"must be {rel} crit ({crit}) for direction {direction}"
            )
        unit = d.get("unit", "")
        if not isinstance(unit, str):
            raise HealthConfigError(source, f"{at}.unit", f"must be a string, got {unit!r}")
        for_ = _duration(source, f"{at}.for", d["for"]) if "for" in d else None
        pods = _text(source, f"{at}.pods", d["pods"]) if "pods" in d else ""
        specs.append(CheckSpec(name, expr, warn, crit, direction, unit, for_ or None, pods))
    return specs


def format_value(value: float | None, unit: str = "") -> str:
    """Short human form: ratio 0.053 -> 5.3%, s 0.25 -> 250ms, bytes -> KiB/MiB/GiB."""
    if value is None:
        return "-"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if unit == "ratio":
        return f"{value * 100:.3g}%"
    if unit == "%":
        return f"{value:.3g}%"
    if unit == "s":
        return f"{value * 1000:.3g}ms" if abs(value) < 1 else f"{value:.3g}s"
    if unit in ("bytes", "B"):
        for suffix in ("B", "KiB", "MiB", "GiB", "TiB"):
            if abs(value) < 1024 or suffix == "TiB":
                return f"{value:.3g}{suffix}" if suffix != "B" else f"{value:.0f}B"
            value /= 1024
    text = f"{value:.3g}"
    return f"{text} {unit}" if unit else text


# --- detection rules -----------------------------------------------------------------------

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True, slots=True)
class Condition:
    """`check` is at least `state` (warn or crit), or `check`'s value `op` `value`."""

    check: str
    state: CheckState | None = None
    op: str | None = None
    value: float | None = None

    def holds(self, state: CheckState, value: float | None) -> bool:
        """Whether a check's reading (its state and value) meets this condition."""
        if self.state is not None:
            level = state.level
            return level is not None and level >= (self.state.level or 0)
        if value is None or math.isnan(value) or state is CheckState.ERROR:
            return False
        assert self.op is not None and self.value is not None
        return _OPS[self.op](value, self.value)

    def describe(self, unit: str = "") -> str:
        if self.state is not None:
            worse = " or worse" if self.state is CheckState.WARN else ""
            return f"{self.check} {self.state.value}{worse}"
        return f"{self.check} {self.op} {format_value(self.value, unit)}"


@dataclass(frozen=True, slots=True)
class DetectionRule:
    name: str
    conditions: tuple[Condition, ...]
    for_: timedelta
    suggest_severity: Severity


def parse_rules(
    raw: list[dict[str, Any]] | None,
    source: str,
    *,
    checks: Iterable[CheckSpec] | None = None,
    prefix: str = "health.rules",
) -> list[DetectionRule]:
    """`checks` given: conditions must name one of them (catches typos at load time)."""
    known = {c.name for c in checks} if checks is not None else None
    rules: list[DetectionRule] = []
    seen: set[str] = set()
    for i, d in enumerate(_entries(raw, source, prefix)):
        at = f"{prefix}[{i}]"
        name = _named_entry(d, _RULE_KEYS, ("name", "when", "severity"), source, at, seen)
        try:
            severity = Severity(d["severity"])
        except ValueError:
            raise HealthConfigError(
                source, f"{at}.severity", f"must be one of P0..P3, got {d['severity']!r}"
            ) from None
        for_ = _duration(source, f"{at}.for", d["for"]) if "for" in d else timedelta(0)
        when = d["when"]
        if not isinstance(when, list) or not when:
            raise HealthConfigError(source, f"{at}.when", "must be a non-empty array of tables")
        conds = tuple(
            _parse_condition(c, source, f"{at}.when[{j}]", known) for j, c in enumerate(when)
        )
        rules.append(DetectionRule(name, conds, for_, severity))
    return rules


def _parse_condition(c: Any, source: str, at: str, known: set[str] | None) -> Condition:
    if not isinstance(c, dict):
        raise HealthConfigError(source, at, "must be a table like { check = ..., state = ... }")
    _known_keys(c, _COND_KEYS, source, at)
    if "check" not in c:
        raise HealthConfigError(source, f"{at}.check", "missing")
    check = _text(source, f"{at}.check", c["check"])
    if known is not None and check not in known:
        raise HealthConfigError(source, f"{at}.check", f"no check named {check!r}")
    if "state" in c:
        if "op" in c or "value" in c:
            raise HealthConfigError(source, f"{at}.state", "use either state or op + value")
        if c["state"] not in ("warn", "crit"):
            raise HealthConfigError(
                source, f"{at}.state", f'must be "warn" or "crit", got {c["state"]!r}'
            )
        return Condition(check, state=CheckState(c["state"]))
    if "op" not in c or "value" not in c:
        raise HealthConfigError(source, f"{at}.op", "needs state, or op and value")
    if c["op"] not in _OPS:
        raise HealthConfigError(source, f"{at}.op", f"must be one of {list(_OPS)}")
    return Condition(check, op=c["op"], value=_number(source, f"{at}.value", c["value"]))


@dataclass(frozen=True)
class HealthConfig:
    """[health]: the checks and the detection rules over them."""

    specs: tuple[CheckSpec, ...] = ()
    rules: tuple[DetectionRule, ...] = ()
    # Checks ok this long after a mitigation took effect: the mitigation is verified.
    verify_after: timedelta = timedelta(minutes=2)


def parse_health(raw: Any, source: str) -> HealthConfig:
    """The [health] table (checks and rules); HealthConfigError names the key."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise HealthConfigError(source, "health", "must be a table")
    for key in raw:
        if key not in ("checks", "rules", "verify_after"):
            raise HealthConfigError(
                source, f"health.{key}", "unknown key (expected checks, rules, verify_after)"
            )
    specs = parse_checks(raw.get("checks") or [], source)
    rules = parse_rules(raw.get("rules") or [], source, checks=specs)
    try:
        verify_after = parse_duration(raw.get("verify_after", "2m"))
    except ValueError as exc:
        raise HealthConfigError(source, "health.verify_after", str(exc)) from None
    return HealthConfig(tuple(specs), tuple(rules), verify_after)
