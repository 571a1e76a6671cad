"""Health checks at run time: evaluation, flap-free transitions, detection rules holding.

Pure: no I/O, no clock (every time is passed in). The Prometheus adapter fills `CheckResult`s;
this module decides what they mean.

What is configured (specs, rules, their TOML shape) is in checks.py.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from warroom.checks import (
    CheckSpec,
    CheckState,
    Condition,
    DetectionRule,
    format_value,
)
from warroom.model import Severity, format_duration


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
    error: str | None = None  # the server's whole reason, for a failed query


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
        self, state: CheckState, at: datetime, value: float | None = None, error: str | None = None
    ) -> CheckTransition | None:
        new = self._effective(state, at)
        if new != self.effective:
            self.effective, self.effective_since = new, at
        return self._maybe_report(at, value, error)

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

    def _maybe_report(
        self, at: datetime, value: float | None, error: str | None = None
    ) -> CheckTransition | None:
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
        text = describe(self.spec, state, value, error)
        return CheckTransition(self.spec.name, previous, state, since, at, value, text, error)


def describe(
    spec: CheckSpec, state: CheckState, value: float | None, error: str | None = None
) -> str:
    """One line for the timeline, e.g. "error_ratio crit: 7.3% (crit >= 5%)"; a failed query
    says what the server said ("bad_data: parse error at char 5: ...")."""
    head = f"{spec.name} {state.value}"
    if state is CheckState.NODATA:
        return f"{head}: no data"
    if state is CheckState.ERROR:
        return f"{head}: {error}" if error else f"{head}: query failed"
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
            if tracker is not None and (
                t := tracker.feed(r.state, snapshot.fetched_at, r.value, r.error)
            ):
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


@dataclass(frozen=True, slots=True)
class Detection:
    rule: DetectionRule
    since: datetime  # all conditions have held since
    suggested_severity: Severity
    reason_text: str  # "suggest P1: error_ratio > 5% for 2m (now 7.3%)"
    at: datetime


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
            if not all(_holds(c, results.get(c.check)) for c in rule.conditions):
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


def _holds(cond: Condition, result: CheckResult | None) -> bool:
    return result is not None and cond.holds(result.state, result.value)
