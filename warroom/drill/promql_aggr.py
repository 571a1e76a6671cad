"""PromQL aggregation operators (sum, avg, count, min, max, group, stddev, stdvar, topk, bottomk,
quantile, count_values) with by/without grouping, as Prometheus evaluates them."""

from __future__ import annotations

import math

from warroom.drill.promql_ast import Aggregate
from warroom.drill.promql_lex import go_quote
from warroom.drill.promql_values import Evaluates, QueryError, Sample, key


def quantile(q: float, values: list[float]) -> float:
    """Prometheus' quantile(): linear interpolation between the closest ranks."""
    if not values:
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    ordered = sorted(values)
    rank = q * (len(ordered) - 1)
    lower = max(0, math.floor(rank))
    upper = min(len(ordered) - 1, lower + 1)
    weight = rank - math.floor(rank)
    return ordered[lower] * (1 - weight) + ordered[upper] * weight


def fmt_value(v: float) -> str:
    """strconv.FormatFloat(v, 'f', -1, 64), as count_values prints a value."""
    from warroom.drill.metrics import format_value

    return format_value(v)


def _group_labels(labels: dict[str, str], n: Aggregate) -> dict[str, str]:
    if n.without:
        drop = {*n.grouping, "__name__"}
        return {k: v for k, v in labels.items() if k not in drop}
    return {k: v for k, v in labels.items() if k in n.grouping}


def _stdvar(values: list[float]) -> float:
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / len(values)


def _minmax(values: list[float], pick: type[min] | type[max]) -> float:
    real = [v for v in values if not math.isnan(v)]
    return pick(real) if real else math.nan


def aggregate(ev: Evaluates, n: Aggregate, t: int) -> list[Sample]:
    assert n.expr is not None
    vec = ev.vector(n.expr, t)
    param: float | str | None = None
    if n.param is not None:
        param = ev.eval(n.param, t)  # type: ignore[assignment]
    if n.op == "count_values":
        assert isinstance(param, str)
        if not _valid_label(param):
            raise QueryError(f"invalid label name {go_quote(param)}")
    groups: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], list[Sample]]] = {}
    for s in vec:
        if n.op == "count_values":
            assert isinstance(param, str)
            labels = {**_group_labels(s.labels, n), param: fmt_value(s.value)}
        else:
            labels = _group_labels(s.labels, n)
        groups.setdefault(key(labels), (labels, []))[1].append(s)
    out: list[Sample] = []
    for labels, members in groups.values():
        values = [s.value for s in members]
        if n.op in ("topk", "bottomk"):
            assert isinstance(param, float | int)
            k = int(param)
            if k < 1:
                continue
            sign = -1.0 if n.op == "topk" else 1.0  # NaN sorts last either way
            ordered = sorted(
                members,
                key=lambda s: (math.isnan(s.value), sign * s.value if s.value == s.value else 0),
            )
            out.extend(Sample(s.labels, s.value) for s in ordered[:k])
            continue
        value = _reduce(n.op, values, param)
        out.append(Sample(labels, value))
    return out


def _reduce(op: str, values: list[float], param: float | str | None) -> float:
    if op == "sum":
        return math.fsum(values) if all(math.isfinite(v) for v in values) else sum(values)
    if op == "avg":
        return sum(values) / len(values)
    if op in ("count", "count_values"):
        return float(len(values))
    if op == "min":
        return _minmax(values, min)
    if op == "max":
        return _minmax(values, max)
    if op == "group":
        return 1.0
    if op == "stdvar":
        return _stdvar(values)
    if op == "stddev":
        return math.sqrt(_stdvar(values))
    if op == "quantile":
        assert isinstance(param, float | int)
        return quantile(float(param), values)
    raise QueryError(f"unknown aggregation {op!r}")


def _valid_label(name: str) -> bool:
    return (
        bool(name)
        and (name[0].isalpha() or name[0] == "_")
        and all(c.isalnum() or c == "_" for c in name)
        and name.isascii()
    )
