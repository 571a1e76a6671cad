"""What the drill Prometheus holds: the scenario's expressions and the series behind them.

Each scenario expression is served twice, as a real server would hold it after a recording
rule: under its own text (the health checks query that), and as a named series `drill:<id>`
(a recording rule's output) that any PromQL can select, list and aggregate. Alert states are
the `ALERTS` series. Time is the wall clock (`WallClock`): at --speed 5 the scenario's minute 5
happened one wall minute after the start, so `promtool query instant` at "now" sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from warroom.drill.clock import WorldClock
from warroom.drill.engine import Engine
from warroom.drill.metrics import SCRAPE, AlertState, MetricSeries
from warroom.drill.promql_ast import Matcher
from warroom.drill.promql_check import matches
from warroom.drill.promql_eval import LOOKBACK_MS, Sample, Series
from warroom.drill.promql_parse import ParseError, parse
from warroom.drill.scenario_types import normalize_expr

RECORD_PREFIX = "drill:"
SCRAPE_MS = int(SCRAPE * 1000)
HISTORY_MS = 24 * 3_600_000  # the drill's "retention": a day of history before the start
_NOT_NAME = re.compile(r"[^A-Za-z0-9_:]")


class WallClock:
    """The world's clock as Prometheus and Alertmanager speak it: scenario second t > 0 is
    start + t / speed on the wall clock; history before the start is not compressed."""

    def __init__(self, clock: WorldClock) -> None:
        self.clock = clock
        self.speed = clock.speed
        self.start = clock.start.timestamp()

    def elapsed(self) -> float:
        return self.clock.elapsed()

    def epoch(self, scenario_seconds: float | None = None) -> float:
        t = self.elapsed() if scenario_seconds is None else scenario_seconds
        return self.start + (t / self.speed if t > 0 else t)

    def scenario_time(self, epoch: float) -> float:
        d = epoch - self.start
        return d * self.speed if d > 0 else d

    def at(self, scenario_seconds: float) -> datetime:
        return datetime.fromtimestamp(self.epoch(scenario_seconds), UTC)

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class ServedExpr:
    expr: str  # as the scenario writes it
    canonical: str | None  # parsed and printed; None when the scenario's text does not parse
    record: str  # the recording rule's metric name
    series: list[MetricSeries] = field(default_factory=list)


def _record_name(ids: list[str]) -> str:
    if len(ids) == 1:
        stem = ids[0]
    else:
        prefix = ids[0]
        for i in ids[1:]:
            while not i.startswith(prefix):
                prefix = prefix[:-1]
        stem = prefix.rstrip("_-") or ids[0]
    return RECORD_PREFIX + _NOT_NAME.sub("_", stem)


class Catalog:
    def __init__(self, engine: Engine, clock: WallClock) -> None:
        self.engine, self.clock = engine, clock
        self.exprs: list[ServedExpr] = []
        self.by_canonical: dict[str, ServedExpr] = {}
        self.by_text: dict[str, ServedExpr] = {}
        groups: dict[str, list[MetricSeries]] = {}
        for s in engine.series.values():
            groups.setdefault(normalize_expr(s.spec.expr), []).append(s)
        used: set[str] = set()
        for norm, members in groups.items():
            name = _record_name([m.spec.id for m in members])
            while name in used:
                name += "_"
            used.add(name)
            try:
                canonical: str | None = str(parse(members[0].spec.expr))
            except ParseError:
                canonical = None
            served = ServedExpr(members[0].spec.expr.strip(), canonical, name, members)
            self.exprs.append(served)
            self.by_text[norm] = served
            if canonical is not None:
                self.by_canonical[canonical] = served

    # --- time ----------------------------------------------------------------------------

    def now_ms(self) -> int:
        return int(self.clock.epoch() * 1000)

    def scenario_t(self, t_ms: int) -> float:
        """Scenario time of an instant; the future is not scripted yet: clamp to now."""
        return min(self.clock.scenario_time(t_ms / 1000), self.clock.elapsed())

    # --- serving -------------------------------------------------------------------------

    def served(self, canonical: str, t_ms: int) -> list[Sample] | None:
        found = self.by_canonical.get(canonical)
        if found is None:
            return None
        return self.served_samples(found, t_ms)

    def served_samples(self, found: ServedExpr, t_ms: int) -> list[Sample]:
        # Like the 5m lookback: a little past "now" repeats the latest value, so clients whose
        # clocks run ahead (or round up) still get their last point.
        if t_ms > self.now_ms() + LOOKBACK_MS:
            return []
        st = self.scenario_t(t_ms)
        return [Sample(dict(s.spec.labels), s.value(st)) for s in found.series]

    def lookup_text(self, query: str) -> ServedExpr | None:
        return self.by_text.get(normalize_expr(query))

    # --- the named series (Storage) ------------------------------------------------------

    def _named(self) -> list[tuple[dict[str, str], MetricSeries | AlertState, str]]:
        out: list[tuple[dict[str, str], MetricSeries | AlertState, str]] = []
        for e in self.exprs:
            for s in e.series:
                out.append(({"__name__": e.record, **s.spec.labels}, s, ""))
        for a in self.engine.alerts.values():
            for state in ("pending", "firing"):
                labels = {"__name__": "ALERTS", **a.labels, "alertstate": state}
                out.append((labels, a, state))
        return out

    def all_labels(self) -> list[dict[str, str]]:
        return [labels for labels, _, _ in self._named()]

    def select(self, matchers: list[Matcher], mint: int, maxt: int) -> list[Series]:
        now = self.now_ms()
        lo = max(mint, int(self.clock.start * 1000) - HISTORY_MS)
        hi = min(maxt, now)
        out = []
        for labels, src, state in self._named():
            if not all(matches(m, labels.get(m.name, "")) for m in matchers):
                continue
            points = []
            first = (lo // SCRAPE_MS + 1) * SCRAPE_MS
            for ts in range(first, hi + 1, SCRAPE_MS):
                v = self._value(src, state, ts)
                if v is not None:
                    points.append((ts, v))
            out.append(Series(dict(labels), points))
        # Prometheus' storage returns series in label order; error texts and topk ties show it.
        return sorted(out, key=lambda s: sorted(s.labels.items()))

    def _value(self, src: MetricSeries | AlertState, state: str, ts: int) -> float | None:
        st = self.scenario_t(ts)
        if isinstance(src, MetricSeries):
            return src.value(st)
        return 1.0 if alert_state_at(src, st) == state else None


def alert_state_at(alert: AlertState, t: float) -> str:
    state = "inactive"
    for when, new in alert.changes:
        if when > t:
            break
        state = new
    return state
