"""Health checks: specs from settings, evaluation, flap-free transitions, detection rules.

Pure: no I/O, no clock (every time is passed in). The Prometheus adapter fills `CheckResult`s;
this module decides what they mean.

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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from warroom.model import Severity, format_duration, parse_duration

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

    def threshold(self, state: CheckState) -> float | None:
        return {CheckState.WARN: self.warn, CheckState.CRIT: self.crit}.get(state)


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check after one refresh. `state` is the raw evaluation (no `for_` applied)."""

    spec: CheckSpec
    value: float | None
    state: CheckState
    error: str | None = None
    series: list[tuple[float, float]] = field(default_factory=list)  # (unix ts, value)
    series_error: str | None = None  # the sparkline query failed; the value may still be fine
    labels: dict[str, str] = field(default_factory=dict)  # series the value came from


@dataclass(frozen=True, slots=True)
class HealthSnapshot:
    """One refresh. ok=False: the source itself failed (results empty, show stale data)."""

    ok: bool
    fetched_at: datetime
    results: list[CheckResult] = field(default_factory=list)
    error: str | None = None
    last_ok_at: datetime | None = None  # for "stale since T"
    duration_s: float = 0.0

    def by_name(self) -> dict[str, CheckResult]:
        return {r.spec.name: r for r in self.results}


# --- parsing -------------------------------------------------------------------------------

_CHECK_KEYS = {"name", "query", "warn", "crit", "direction", "unit", "for"}
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


def parse_checks(
    raw: list[dict[str, Any]] | None, source: str, *, prefix: str = "health.checks"
) -> list[CheckSpec]:
    specs: list[CheckSpec] = []
    seen: set[str] = set()
    for i, d in enumerate(_entries(raw, source, prefix)):
        at = f"{prefix}[{i}]"
        for k in d:
            if k not in _CHECK_KEYS:
                raise HealthConfigError(
                    source, f"{at}.{k}", f"unknown key (expected one of {sorted(_CHECK_KEYS)})"
                )
        for k in ("name", "query"):
            if k not in d:
                raise HealthConfigError(source, f"{at}.{k}", "missing")
        name = _text(source, f"{at}.name", d["name"])
        if name in seen:
            raise HealthConfigError(source, f"{at}.name", f"duplicate check name {name!r}")
        seen.add(name)
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
        specs.append(CheckSpec(name, expr, warn, crit, direction, unit, for_ or None))
    return specs


# --- evaluation ----------------------------------------------------------------------------


def evaluate(spec: CheckSpec, value: float | None, error: str | None) -> CheckState:
    """Raw state of one reading. NaN counts as no data (e.g. 0/0 when there is no traffic)."""
    if error is not None:
        return CheckState.ERROR
    if value is None or math.isnan(value):
        return CheckState.NODATA
    reached: Callable[[float, float], bool] = (
        operator.ge if spec.direction == "above" else operator.le
    )
    if spec.crit is not None and reached(value, spec.crit):
        return CheckState.CRIT
    if spec.warn is not None and reached(value, spec.warn):
        return CheckState.WARN
    return CheckState.OK


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


@dataclass(frozen=True, slots=True)
class CheckTransition:
    """A reported change of a check's effective state (a timeline event)."""

    check: str
    previous: CheckState | None  # None: first observation
    state: CheckState
    since: datetime  # when the effective state began
    at: datetime  # when it was reported
    value: float | None = None
    text: str = ""


class CheckTracker:
    """Turns raw states of one check into reported transitions.

    Effective state: escalation to warn/crit only once the raw state has been at least that
    level continuously for `for_` (like a Prometheus rule's `for`); recovery and the unknown
    states (nodata, error) apply at once. Reporting coalesces flapping: a change is reported
    once the effective state held `settle`, and at most one report per `min_interval`; a state
    that flapped away and back in between is never reported. The first observation is reported
    only when it is not ok.
    """

    def __init__(
        self,
        spec: CheckSpec,
        *,
        settle: timedelta = timedelta(0),
        min_interval: timedelta = timedelta(seconds=60),
    ) -> None:
        self.spec = spec
        self.settle = settle
        self.min_interval = min_interval
        self.effective: CheckState | None = None
        self.effective_since: datetime | None = None
        self.reported: CheckState | None = None
        self._last_report_at: datetime | None = None
        self._at_least_since: dict[int, datetime] = {}  # level -> raw >= level since

    def feed(
        self, state: CheckState, at: datetime, value: float | None = None
    ) -> CheckTransition | None:
        new = self._effective(state, at)
        if new != self.effective:
            self.effective, self.effective_since = new, at
        return self._maybe_report(at, value)

    def _effective(self, raw: CheckState, at: datetime) -> CheckState:
        level = raw.level
        if level is None:
            self._at_least_since.clear()
            return raw
        for lv in (1, 2):
            if level >= lv:
                self._at_least_since.setdefault(lv, at)
            else:
                self._at_least_since.pop(lv, None)
        hold = self.spec.for_ or timedelta(0)
        current = self.effective.level if self.effective is not None else None
        best = 0
        for lv, since in self._at_least_since.items():
            # a level already reached is kept while raw stays at least there
            if at - since >= hold or (current is not None and current >= lv):
                best = max(best, lv)
        return (CheckState.OK, CheckState.WARN, CheckState.CRIT)[best]

    def _maybe_report(self, at: datetime, value: float | None) -> CheckTransition | None:
        state, since = self.effective, self.effective_since
        assert state is not None and since is not None
        if self._last_report_at is None and self.reported is None and state is CheckState.OK:
            self.reported = state  # quiet baseline: a healthy start is not news
            return None
        if state == self.reported or at - since < self.settle:
            return None
        if self._last_report_at is not None and at - self._last_report_at < self.min_interval:
            return None
        previous, self.reported, self._last_report_at = self.reported, state, at
        return CheckTransition(
            self.spec.name, previous, state, since, at, value, describe(self.spec, state, value)
        )


def describe(spec: CheckSpec, state: CheckState, value: float | None) -> str:
    """One line for the timeline, e.g. "error_ratio crit: 7.3% (crit >= 5%)"."""
    head = f"{spec.name} {state.value}"
    if state is CheckState.NODATA:
        return f"{head}: no data"
    if state is CheckState.ERROR:
        return f"{head}: query failed"
    shown = format_value(value, spec.unit)
    limit = spec.threshold(state)
    if limit is None:
        return f"{head}: {shown}"
    rel = ">=" if spec.direction == "above" else "<="
    return f"{head}: {shown} ({state.value} {rel} {format_value(limit, spec.unit)})"


class HealthTracker:
    """A CheckTracker per check, fed whole snapshots. Failed snapshots are skipped (a source
    outage is not a check transition; the pane shows it as stale)."""

    def __init__(
        self,
        specs: Iterable[CheckSpec],
        *,
        settle: timedelta = timedelta(0),
        min_interval: timedelta = timedelta(seconds=60),
    ) -> None:
        self.trackers = {
            s.name: CheckTracker(s, settle=settle, min_interval=min_interval) for s in specs
        }

    def feed(self, snapshot: HealthSnapshot) -> list[CheckTransition]:
        if not snapshot.ok:
            return []
        out = []
        for r in snapshot.results:
            tracker = self.trackers.get(r.spec.name)
            if tracker is not None and (t := tracker.feed(r.state, snapshot.fetched_at, r.value)):
                out.append(t)
        return out

    def effective(self, name: str) -> CheckState | None:
        tracker = self.trackers.get(name)
        return tracker.effective if tracker else None


def _short_duration(d: timedelta) -> str:
    secs = int(d.total_seconds())
    if secs and secs % 3600 == 0:
        return f"{secs // 3600}h"
    if secs and secs % 60 == 0 and secs < 3600:
        return f"{secs // 60}m"
    return format_duration(d)


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

    def holds(self, result: CheckResult | None) -> bool:
        if result is None:
            return False
        if self.state is not None:
            level = result.state.level
            return level is not None and level >= (self.state.level or 0)
        v = result.value
        if v is None or math.isnan(v) or result.state is CheckState.ERROR:
            return False
        assert self.op is not None and self.value is not None
        return _OPS[self.op](v, self.value)

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


@dataclass(frozen=True, slots=True)
class Detection:
    rule: DetectionRule
    since: datetime  # all conditions have held since
    suggested_severity: Severity
    reason_text: str  # "suggest P1: error_ratio > 5% for 2m (now 7.3%)"
    at: datetime


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
        for k in d:
            if k not in _RULE_KEYS:
                raise HealthConfigError(
                    source, f"{at}.{k}", f"unknown key (expected one of {sorted(_RULE_KEYS)})"
                )
        for k in ("name", "when", "severity"):
            if k not in d:
                raise HealthConfigError(source, f"{at}.{k}", "missing")
        name = _text(source, f"{at}.name", d["name"])
        if name in seen:
            raise HealthConfigError(source, f"{at}.name", f"duplicate rule name {name!r}")
        seen.add(name)
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
    for k in c:
        if k not in _COND_KEYS:
            raise HealthConfigError(
                source, f"{at}.{k}", f"unknown key (expected one of {sorted(_COND_KEYS)})"
            )
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


class RuleEvaluator:
    """Fed snapshots over time; reports a Detection once per episode, when all of a rule's
    conditions have held for its `for_`. An episode ends when any condition stops holding.
    Failed snapshots are skipped: an outage neither starts nor ends an episode."""

    def __init__(self, rules: Iterable[DetectionRule], specs: Iterable[CheckSpec] = ()) -> None:
        self.rules = list(rules)
        self._units = {s.name: s.unit for s in specs}
        self._since: dict[str, datetime] = {}
        self.active: dict[str, Detection] = {}

    def feed(self, snapshot: HealthSnapshot) -> list[Detection]:
        if not snapshot.ok:
            return []
        return self.feed_results(snapshot.by_name(), snapshot.fetched_at)

    def feed_results(self, results: Mapping[str, CheckResult], at: datetime) -> list[Detection]:
        new: list[Detection] = []
        for rule in self.rules:
            if not all(c.holds(results.get(c.check)) for c in rule.conditions):
                self._since.pop(rule.name, None)
                self.active.pop(rule.name, None)
                continue
            since = self._since.setdefault(rule.name, at)
            if rule.name in self.active or at - since < rule.for_:
                continue
            det = Detection(rule, since, rule.suggest_severity, self._reason(rule, results), at)
            self.active[rule.name] = det
            new.append(det)
        return new

    def _reason(self, rule: DetectionRule, results: Mapping[str, CheckResult]) -> str:
        def unit(c: Condition) -> str:
            r = results.get(c.check)
            return r.spec.unit if r is not None else self._units.get(c.check, "")

        what = " and ".join(c.describe(unit(c)) for c in rule.conditions)
        text = f"suggest {rule.suggest_severity.value}: {what}"
        if rule.for_:
            text += f" for {_short_duration(rule.for_)}"
        now = []
        for c in rule.conditions:
            r = results.get(c.check)
            if r is not None and c.op is not None:
                now.append(format_value(r.value, unit(c)))
        return f"{text} (now {', '.join(now)})" if now else text
