"""PromQL binary operators: arithmetic, comparisons (filter or bool), set operators and
vector matching (on/ignoring, group_left/group_right), as Prometheus' engine does them."""

from __future__ import annotations

import math

from warroom.drill.promql_ast import Binary, Matching
from warroom.drill.promql_values import Evaluates, QueryError, Sample, Value, key, without_name

COMPARISON = ("==", "!=", "<=", "<", ">=", ">")
DROPS_NAME = ("+", "-", "*", "/", "%", "^")  # atan2 keeps the metric name, as in Prometheus


def arith(op: str, a: float, b: float) -> float:
    """Go float64 semantics: division by zero gives Inf or NaN, never an exception."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            return (
                math.nan
                if a == 0 or math.isnan(a)
                else math.copysign(math.inf, a) * (math.copysign(1, b))
            )
        return a / b
    if op == "%":
        if b == 0 or math.isinf(a) or math.isnan(a) or math.isnan(b):
            return math.nan
        return math.fmod(a, b)
    if op == "^":
        try:
            return math.pow(a, b)
        except (OverflowError, ValueError):
            if a == 0 and b < 0:
                return math.inf
            return math.inf if abs(a) > 1 and b > 0 else math.nan
    if op == "atan2":
        return math.atan2(a, b)
    raise QueryError(f"operator {op!r} not allowed for Scalar operations")


def compare(op: str, a: float, b: float) -> bool:
    return {
        "==": a == b,
        "!=": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[op]


def binary(ev: Evaluates, n: Binary, t: int) -> Value:
    lhs, rhs = ev.eval(n.lhs, t), ev.eval(n.rhs, t)
    if isinstance(lhs, float | int) and isinstance(rhs, float | int):
        if n.op in COMPARISON:
            return 1.0 if compare(n.op, lhs, rhs) else 0.0
        return arith(n.op, float(lhs), float(rhs))
    if isinstance(lhs, list) and isinstance(rhs, float | int):
        return _vector_scalar(n, lhs, float(rhs), swap=False)
    if isinstance(rhs, list) and isinstance(lhs, float | int):
        return _vector_scalar(n, rhs, float(lhs), swap=True)
    assert isinstance(lhs, list) and isinstance(rhs, list)
    m = n.matching or Matching()
    if n.op == "and":
        sigs = {_signature(s.labels, m) for s in rhs}
        return [s for s in lhs if _signature(s.labels, m) in sigs]
    if n.op == "unless":
        sigs = {_signature(s.labels, m) for s in rhs}
        return [s for s in lhs if _signature(s.labels, m) not in sigs]
    if n.op == "or":
        sigs = {_signature(s.labels, m) for s in lhs}
        return lhs + [s for s in rhs if _signature(s.labels, m) not in sigs]
    return _vector_vector(n, lhs, rhs, m)


def _vector_scalar(n: Binary, vec: list[Sample], scalar: float, swap: bool) -> list[Sample]:
    out = []
    for s in vec:
        a, b = (scalar, s.value) if swap else (s.value, scalar)
        if n.op in COMPARISON:
            hit = compare(n.op, a, b)
            if n.bool_mod:
                out.append(Sample(without_name(s.labels), 1.0 if hit else 0.0))
            elif hit:
                out.append(Sample(s.labels, s.value))
        else:
            labels = without_name(s.labels) if n.op in DROPS_NAME else s.labels
            out.append(Sample(labels, arith(n.op, a, b)))
    return out


def _signature(labels: dict[str, str], m: Matching) -> tuple[tuple[str, str], ...]:
    if m.on:
        return tuple(sorted((k, v) for k, v in labels.items() if k in m.labels))
    return tuple(sorted((k, v) for k, v in labels.items() if k not in m.labels and k != "__name__"))


def _show(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def _vector_vector(n: Binary, lhs: list[Sample], rhs: list[Sample], m: Matching) -> list[Sample]:
    # The "one" side is indexed by signature; group_right swaps the roles.
    many, one, swapped = (rhs, lhs, True) if m.card == "one-to-many" else (lhs, rhs, False)
    index: dict[tuple[tuple[str, str], ...], Sample] = {}
    for s in one:
        sig = _signature(s.labels, m)
        if sig in index:
            side = "left" if swapped else "right"
            raise QueryError(
                f"found duplicate series for the match group {_show(dict(sig))} on the {side} "
                f"hand-side of the operation: [{_show(s.labels)}, {_show(index[sig].labels)}];"
                "many-to-many matching not allowed: matching labels must be unique on one side"
            )
        index[sig] = s
    out: list[Sample] = []
    seen: dict[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]] = {}
    for s in many:
        sig = _signature(s.labels, m)
        other = index.get(sig)
        if other is None:
            continue
        a, b = (other.value, s.value) if swapped else (s.value, other.value)
        labels = _result_labels(n, s.labels, other.labels, m)
        if m.card == "one-to-one":
            if sig in seen:
                raise QueryError(
                    "multiple matches for labels: many-to-one matching must be explicit "
                    "(group_left/group_right)"
                )
            seen[sig] = sig
        else:
            k = key(labels)
            if k in seen:
                raise QueryError(
                    "multiple matches for labels: grouping labels must ensure unique matches"
                )
            seen[k] = sig
        if n.op in COMPARISON:
            hit = compare(n.op, a, b)
            if n.bool_mod:
                out.append(Sample(labels, 1.0 if hit else 0.0))
            elif hit:
                out.append(Sample(labels, s.value if not swapped else other.value))
        else:
            out.append(Sample(labels, arith(n.op, a, b)))
    return out


def _result_labels(
    n: Binary, many: dict[str, str], one: dict[str, str], m: Matching
) -> dict[str, str]:
    labels = dict(many)
    if n.op in DROPS_NAME or n.bool_mod:
        labels.pop("__name__", None)
    if m.card == "one-to-one":
        if m.on:
            labels = {k: v for k, v in labels.items() if k in m.labels}
        else:
            labels = {k: v for k, v in labels.items() if k not in m.labels}
    for name in m.include:
        if one.get(name):
            labels[name] = one[name]
        else:
            labels.pop(name, None)
    return labels
