"""PromQL evaluation over the drill's series, with Prometheus' semantics where they show: the
5 minute lookback, offsets and @, subqueries, result types and the error texts of execution.

A subtree whose canonical text is a scenario expression is answered from the scenario's script
(`served`); everything else is evaluated over `Storage`, the drill's named series.
"""

from __future__ import annotations

import time
from typing import Any

from warroom.drill.promql_ast import (
    Aggregate,
    Binary,
    Call,
    MatrixSelector,
    Node,
    NumberLiteral,
    Paren,
    StringLiteral,
    Subquery,
    Unary,
    VectorSelector,
)
from warroom.drill.promql_values import (
    QueryError,
    QueryTimeout,
    RangeArg,
    Sample,
    Series,
    Served,
    Storage,
    Value,
    key,
    without_name,
)

LOOKBACK_MS = 300_000
DEFAULT_STEP_MS = 15_000  # the drill's evaluation interval: subqueries without a step use it
MAX_SAMPLES = 5_000_000  # Prometheus' --query.max-samples default


class Evaluator:
    def __init__(
        self,
        storage: Storage,
        served: Served | None = None,
        start_ms: int = 0,
        end_ms: int = 0,
        deadline: float | None = None,
    ) -> None:
        self.storage = storage
        self.served = served or (lambda expr, t: None)
        self.start_ms, self.end_ms = start_ms, end_ms  # for @ start() / end()
        self.samples = 0
        # Evaluation shares the drill's event loop with the Kubernetes API: a costly query
        # must give up, as Prometheus' query timeout makes it.
        self.deadline = deadline

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise QueryTimeout

    def _count(self, n: int) -> None:
        self.check_time()
        self.samples += n
        if self.samples > MAX_SAMPLES:
            raise QueryError(
                "query processing would load too many samples into memory in query execution"
            )

    def eval(self, node: Node, t: int) -> Value:
        found = self.served(str(node), t) if not isinstance(node, NumberLiteral) else None
        if found is not None:
            return found
        if isinstance(node, NumberLiteral):
            return node.value
        if isinstance(node, StringLiteral):
            return node.value
        if isinstance(node, Paren):
            return self.eval(node.expr, t)
        if isinstance(node, VectorSelector):
            return self.instant_selector(node, t)
        if isinstance(node, MatrixSelector):
            return self.range_selector(node, t)
        if isinstance(node, Subquery):
            return self.subquery(node, t)
        if isinstance(node, Unary):
            return self.unary(node, t)
        if isinstance(node, Call):
            from warroom.drill.promql_funcs import call

            return call(self, node, t)
        if isinstance(node, Aggregate):
            from warroom.drill.promql_aggr import aggregate

            return aggregate(self, node, t)
        if isinstance(node, Binary):
            from warroom.drill.promql_binop import binary

            return binary(self, node, t)
        raise QueryError(f"unhandled expression of type {type(node).__name__}")

    def _time(self, t: int, offset_ms: int, at: float | None, preproc: str) -> int:
        if preproc == "start":
            t = self.start_ms
        elif preproc == "end":
            t = self.end_ms
        elif at is not None:
            t = round(at * 1000)
        return t - offset_ms

    def instant_selector(self, vs: VectorSelector, t: int) -> list[Sample]:
        ref = self._time(t, vs.offset_ms, vs.at, vs.at_preproc)
        out = []
        for s in self.storage.select(vs.matchers, ref - LOOKBACK_MS, ref):
            if s.points:
                pt, v = s.points[-1]
                out.append(Sample(dict(s.labels), v, pt))
        self._count(len(out))
        return out

    def range_selector(self, ms: MatrixSelector, t: int) -> RangeArg:
        vs = ms.selector
        ref = self._time(t, vs.offset_ms, vs.at, vs.at_preproc)
        found = [s for s in self.storage.select(vs.matchers, ref - ms.range_ms, ref) if s.points]
        self._count(sum(len(s.points) for s in found))
        return RangeArg(found, ms.range_ms, vs.offset_ms)

    def subquery(self, sq: Subquery, t: int) -> RangeArg:
        ref = self._time(t, sq.offset_ms, sq.at, sq.at_preproc)
        step = sq.step_ms or DEFAULT_STEP_MS
        start = ref - sq.range_ms
        first = (start // step) * step
        if first <= start:
            first += step
        by_key: dict[tuple[tuple[str, str], ...], Series] = {}
        ts = first
        while ts <= ref:
            self.check_time()
            got = self.eval(sq.expr, ts)
            if isinstance(got, list):
                for smp in got:
                    k = key(smp.labels)
                    by_key.setdefault(k, Series(smp.labels, [])).points.append((ts, smp.value))
            ts += step
        series = list(by_key.values())
        self._count(sum(len(s.points) for s in series))
        return RangeArg(series, sq.range_ms, sq.offset_ms)

    def unary(self, node: Unary, t: int) -> Value:
        got = self.eval(node.expr, t)
        if node.op == "+":
            return got
        if isinstance(got, float | int):
            return -got
        assert isinstance(got, list)
        return [Sample(without_name(s.labels), -s.value) for s in got]

    def vector(self, node: Node, t: int) -> list[Sample]:
        got = self.eval(node, t)
        assert isinstance(got, list), f"{node} is not an instant vector"
        return got

    def scalar(self, node: Node, t: int) -> float:
        got = self.eval(node, t)
        assert isinstance(got, float | int), f"{node} is not a scalar"
        return float(got)

    def range_arg(self, node: Node, t: int) -> RangeArg:
        got = self.eval(node.expr if isinstance(node, Paren) else node, t)
        assert isinstance(got, RangeArg), f"{node} is not a range vector"
        return got


def check_unique(samples: list[Sample]) -> list[Sample]:
    """Prometheus refuses a vector with two samples of one label set."""
    seen: set[tuple[tuple[str, str], ...]] = set()
    for s in samples:
        k = key(s.labels)
        if k in seen:
            raise QueryError("vector cannot contain metrics with the same labelset")
        seen.add(k)
    return samples


def instant_query(ev: Evaluator, node: Node, t: int) -> tuple[str, Any]:
    """("vector"|"scalar"|"string"|"matrix", result) at t (ms)."""
    got = ev.eval(node, t)
    if isinstance(got, RangeArg):
        return "matrix", got.series
    if isinstance(got, str):
        return "string", got
    if isinstance(got, float | int):
        return "scalar", float(got)
    return "vector", check_unique(got)


def range_query(ev: Evaluator, node: Node, start: int, end: int, step: int) -> list[Series]:
    if node.type not in ("scalar", "vector"):
        kind = {"matrix": "range vector", "string": "string"}[node.type]
        raise QueryError(
            f'invalid expression type "{kind}" for range query, must be Scalar or instant Vector'
        )
    by_key: dict[tuple[tuple[str, str], ...], Series] = {}
    t = start
    while t <= end:
        ev.check_time()
        got = ev.eval(node, t)
        if isinstance(got, float | int):
            by_key.setdefault((), Series({}, [])).points.append((t, float(got)))
        else:
            assert isinstance(got, list)
            for s in check_unique(got):
                by_key.setdefault(key(s.labels), Series(s.labels, [])).points.append((t, s.value))
        t += step
    return sorted(by_key.values(), key=lambda s: key(s.labels))
