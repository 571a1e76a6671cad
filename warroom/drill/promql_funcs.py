"""PromQL functions of Prometheus 2.42 (promql/functions.go), over the drill's float series.
The drill has no native histograms: histogram_count/sum/fraction find none and return nothing,
as Prometheus does for float series."""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from itertools import pairwise

from warroom.drill.promql_aggr import quantile
from warroom.drill.promql_ast import Call
from warroom.drill.promql_values import Evaluates, QueryError, RangeArg, Sample, Value, without_name

_MATH: dict[str, Callable[[float], float]] = {
    "abs": abs,
    "ceil": lambda v: float(math.ceil(v)) if math.isfinite(v) else v,
    "floor": lambda v: float(math.floor(v)) if math.isfinite(v) else v,
    "exp": lambda v: math.exp(v) if v < 709.78 else math.inf,
    "sqrt": lambda v: math.sqrt(v) if v >= 0 else math.nan,
    "ln": lambda v: math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan),
    "log2": lambda v: math.log2(v) if v > 0 else (-math.inf if v == 0 else math.nan),
    "log10": lambda v: math.log10(v) if v > 0 else (-math.inf if v == 0 else math.nan),
    "sgn": lambda v: v if math.isnan(v) else float((v > 0) - (v < 0)),
    "deg": math.degrees,
    "rad": math.radians,
}
for _name in ["cos", "cosh", "sin", "sinh", "tan", "tanh", "atan", "asinh"]:
    _MATH[_name] = getattr(math, _name)
for _name in ["acos", "asin", "acosh", "atanh"]:
    _MATH[_name] = (lambda f: lambda v: _domain(f, v))(getattr(math, _name))

_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATES: dict[str, Callable[[datetime], float]] = {
    "day_of_month": lambda d: d.day,
    "day_of_week": lambda d: (d.weekday() + 1) % 7,
    "day_of_year": lambda d: d.timetuple().tm_yday,
    "days_in_month": lambda d: calendar.monthrange(d.year, d.month)[1],
    "hour": lambda d: d.hour,
    "minute": lambda d: d.minute,
    "month": lambda d: d.month,
    "year": lambda d: d.year,
}


def _domain(f: Callable[[float], float], v: float) -> float:
    try:
        return f(v)
    except (ValueError, OverflowError):
        return math.nan


def call(ev: Evaluates, n: Call, t: int) -> Value:
    name = n.func.name
    if name == "time":
        return t / 1000
    if name == "pi":
        return math.pi
    if name == "vector":
        return [Sample({}, ev.scalar(n.args[0], t))]
    if name == "scalar":
        vec = ev.vector(n.args[0], t)
        return vec[0].value if len(vec) == 1 else math.nan
    if name in _MATH:
        f = _MATH[name]
        return [Sample(without_name(s.labels), f(s.value)) for s in ev.vector(n.args[0], t)]
    if name in _DATES:
        vec = ev.vector(n.args[0], t) if n.args else [Sample({}, t / 1000)]
        d = _DATES[name]
        return [
            Sample(without_name(s.labels), float(d(datetime.fromtimestamp(s.value, UTC))))
            for s in vec
            if math.isfinite(s.value)
        ]
    if name.endswith("_over_time") or name in _RANGE:
        return _range_function(ev, n, t)
    handler = _INSTANT.get(name)
    if handler is None:
        raise QueryError(f"function {name!r} is not available in the drill")
    return handler(ev, n, t)


# --- instant-vector functions ---------------------------------------------------------------


def _clamp(ev: Evaluates, n: Call, t: int) -> list[Sample]:
    vec = ev.vector(n.args[0], t)
    lo, hi = -math.inf, math.inf
    if n.func.name == "clamp":
        lo, hi = ev.scalar(n.args[1], t), ev.scalar(n.args[2], t)
        if hi < lo:
            return []
    elif n.func.name == "clamp_min":
        lo = ev.scalar(n.args[1], t)
    else:
        hi = ev.scalar(n.args[1], t)
    return [Sample(without_name(s.labels), max(lo, min(hi, s.value))) for s in vec]


def _round(ev: Evaluates, n: Call, t: int) -> list[Sample]:
    vec = ev.vector(n.args[0], t)
    to = ev.scalar(n.args[1], t) if len(n.args) > 1 else 1.0
    inverse = 1 / to if to else math.inf

    def r(v: float) -> float:
        if not math.isfinite(v):
            return v
        return math.floor(v * inverse + 0.5) / inverse

    return [Sample(without_name(s.labels), r(s.value)) for s in vec]


def _timestamp(ev: Evaluates, n: Call, t: int) -> list[Sample]:
    return [Sample(without_name(s.labels), (s.t or t) / 1000) for s in ev.vector(n.args[0], t)]


def _sort(ev: Evaluates, n: Call, t: int) -> list[Sample]:
    vec = ev.vector(n.args[0], t)
    desc = n.func.name == "sort_desc"
    nan = [s for s in vec if math.isnan(s.value)]
    real = sorted((s for s in vec if not math.isnan(s.value)), key=lambda s: s.value, reverse=desc)
    return real + nan


def _absent_labels(n: Call) -> dict[str, str]:
    from warroom.drill.promql_ast import MatrixSelector, VectorSelector, unparen

    arg = unparen(n.args[0])
    if isinstance(arg, MatrixSelector):
        arg = arg.selector
    if not isinstance(arg, VectorSelector):
        return {}
    labels: dict[str, str] = {}
    dup: set[str] = set()
    for m in arg.matchers:
        if m.op == "=" and m.name != "__name__":
            if m.name in labels:
                dup.add(m.name)
            labels[m.name] = m.value
    return {k: v for k, v in labels.items() if k not in dup}


def _absent(ev: Evaluates, n: Call, t: int) -> list[Sample]:
    if ev.vector(n.args[0], t):
        return []
    return [Sample(_absent_labels(n), 1.0)]


def _label_replace(ev: Evaluates, n: Call, t: int) -> list[Sample]:
    vec = ev.vector(n.args[0], t)
    dst, repl, src, regex = (str(ev.eval(a, t)) for a in n.args[1:5])
    try:
        rx = re.compile(f"^(?:{regex})$")
    except re.error as e:
        raise QueryError(f"invalid regular expression in label_replace(): {regex}") from e
    if not _LABEL.fullmatch(dst):
        raise QueryError(f"invalid destination label name in label_replace(): {dst}")
    out = []
    for s in vec:
        m = rx.match(s.labels.get(src, ""))
        labels = dict(s.labels)
        if m:
            value = m.expand(re.sub(r"\$(\d+)|\$\{(\w+)\}", r"\\g<\1\2>", repl))
            if value:
                labels[dst] = value
            else:
                labels.pop(dst, None)
        out.append(Sample(labels, s.value))
    return out


def _label_join(ev: Evaluates, n: Call, t: int) -> list[Sample]:
    vec = ev.vector(n.args[0], t)
    dst, sep, *srcs = (str(ev.eval(a, t)) for a in n.args[1:])
    if not _LABEL.fullmatch(dst):
        raise QueryError(f"invalid destination label name in label_join(): {dst}")
    for src in srcs:
        if not _LABEL.fullmatch(src):
            raise QueryError(f"invalid source label name in label_join(): {src}")
    out = []
    for s in vec:
        labels = dict(s.labels)
        value = sep.join(s.labels.get(x, "") for x in srcs)
        if value:
            labels[dst] = value
        else:
            labels.pop(dst, None)
        out.append(Sample(labels, s.value))
    return out


def _histogram_quantile(ev: Evaluates, n: Call, t: int) -> list[Sample]:
    q = ev.scalar(n.args[0], t)
    groups: dict[tuple[tuple[str, str], ...], tuple[dict[str, str], list[tuple[float, float]]]]
    groups = {}
    for s in ev.vector(n.args[1], t):
        le = s.labels.get("le")
        if le is None:
            continue
        try:
            upper = float(le.replace("+Inf", "inf"))
        except ValueError:
            continue
        labels = {k: v for k, v in s.labels.items() if k not in ("le", "__name__")}
        k = tuple(sorted(labels.items()))
        groups.setdefault(k, (labels, []))[1].append((upper, s.value))
    return [Sample(labels, bucket_quantile(q, b)) for labels, b in groups.values()]


def bucket_quantile(q: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' bucketQuantile over (upper bound, cumulative count) pairs."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    buckets = sorted(buckets)
    if not buckets or not math.isinf(buckets[-1][0]) or len(buckets) < 2:
        return math.nan
    counts = [c for _, c in buckets]
    for i in range(1, len(counts)):  # ensure monotonic, as Prometheus does
        counts[i] = max(counts[i], counts[i - 1])
    observations = counts[-1]
    if observations == 0:
        return math.nan
    rank = q * observations
    b = next(i for i, c in enumerate(counts) if c >= rank)
    if b == len(buckets) - 1:
        return buckets[-2][0]
    if b == 0 and buckets[0][0] <= 0:
        return buckets[0][0]
    start, end, count = 0.0, buckets[b][0], counts[b]
    if b > 0:
        start = buckets[b - 1][0]
        count -= counts[b - 1]
        rank -= counts[b - 1]
    return start + (end - start) * (rank / count)


def _no_native_histograms(ev: Evaluates, n: Call, t: int) -> list[Sample]:
    ev.vector(n.args[-1], t)
    return []


_INSTANT: dict[str, Callable[[Evaluates, Call, int], Value]] = {
    "clamp": _clamp,
    "clamp_min": _clamp,
    "clamp_max": _clamp,
    "round": _round,
    "timestamp": _timestamp,
    "sort": _sort,
    "sort_desc": _sort,
    "absent": _absent,
    "label_replace": _label_replace,
    "label_join": _label_join,
    "histogram_quantile": _histogram_quantile,
    "histogram_count": _no_native_histograms,
    "histogram_sum": _no_native_histograms,
    "histogram_fraction": _no_native_histograms,
}

# --- range-vector functions ---------------------------------------------------------------

_RANGE = {
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "deriv",
    "changes",
    "resets",
    "predict_linear",
    "holt_winters",
}


def _range_function(ev: Evaluates, n: Call, t: int) -> Value:
    name = n.func.name
    m_index = 1 if name == "quantile_over_time" else 0
    arg = ev.range_arg(n.args[m_index], t)
    extra = [ev.scalar(a, t) for i, a in enumerate(n.args) if i != m_index]
    if name == "absent_over_time":
        if arg.series:
            return []
        return [Sample(_absent_labels(n), 1.0)]
    keep_name = name == "last_over_time"
    out = []
    for s in arg.series:
        v = _per_series(name, arg, s.points, extra, t)
        if v is not None:
            out.append(Sample(s.labels if keep_name else without_name(s.labels), v))
    return out


def _per_series(
    name: str, arg: RangeArg, pts: list[tuple[int, float]], extra: list[float], t: int
) -> float | None:
    vals = [v for _, v in pts]
    if name == "avg_over_time":
        return sum(vals) / len(vals)
    if name == "sum_over_time":
        return sum(vals)
    if name == "min_over_time":
        return min(vals)
    if name == "max_over_time":
        return max(vals)
    if name == "count_over_time":
        return float(len(vals))
    if name == "last_over_time":
        return vals[-1]
    if name == "present_over_time":
        return 1.0
    if name in ("stddev_over_time", "stdvar_over_time"):
        mean = sum(vals) / len(vals)
        var = sum((v - mean) ** 2 for v in vals) / len(vals)
        return math.sqrt(var) if name == "stddev_over_time" else var
    if name == "quantile_over_time":
        return quantile(extra[0], vals)
    if name == "changes":
        return float(sum(1 for a, b in pairwise(vals) if a != b))
    if name == "resets":
        return float(sum(1 for a, b in pairwise(vals) if b < a))
    if len(pts) < 2:
        return None
    if name in ("rate", "increase", "delta"):
        return _extrapolated(arg, pts, t, counter=name != "delta", rate=name == "rate")
    if name in ("irate", "idelta"):
        (t0, v0), (t1, v1) = pts[-2], pts[-1]
        d = v1 - v0
        if name == "idelta":
            return d
        if v1 < v0:
            d = v1
        return d / ((t1 - t0) / 1000) if t1 != t0 else None
    if name == "deriv":
        return _regression(pts, pts[0][0])[0]
    if name == "predict_linear":
        slope, intercept = _regression(pts, t)
        return slope * extra[0] + intercept
    if name == "holt_winters":
        return _holt_winters(vals, extra[0], extra[1])
    raise QueryError(f"function {name!r} is not available in the drill")


def _extrapolated(
    arg: RangeArg, pts: list[tuple[int, float]], t: int, counter: bool, rate: bool
) -> float:
    """Prometheus' extrapolatedRate (promql/functions.go)."""
    range_start = t - (arg.range_ms + arg.offset_ms)
    range_end = t - arg.offset_ms
    result = pts[-1][1] - pts[0][1]
    if counter:
        last = 0.0
        for _, v in pts:
            if v < last:
                result += last
            last = v
    to_start = (pts[0][0] - range_start) / 1000
    to_end = (range_end - pts[-1][0]) / 1000
    sampled = (pts[-1][0] - pts[0][0]) / 1000
    average = sampled / (len(pts) - 1)
    if counter and result > 0 and pts[0][1] >= 0:
        to_start = min(to_start, sampled * (pts[0][1] / result))
    threshold = average * 1.1
    interval = sampled
    interval += to_start if to_start < threshold else average / 2
    interval += to_end if to_end < threshold else average / 2
    result *= interval / sampled
    if rate:
        result /= arg.range_ms / 1000
    return result


def _regression(pts: list[tuple[int, float]], at: int) -> tuple[float, float]:
    """Least-squares slope and intercept at time `at` (linearRegression)."""
    n = len(pts)
    xs = [(ts - at) / 1000 for ts, _ in pts]
    ys = [v for _, v in pts]
    if all(y == ys[0] for y in ys):
        return 0.0, ys[0]
    sx, sy = sum(xs), sum(ys)
    sxy = sum(x * y for x, y in zip(xs, ys, strict=True))
    sx2 = sum(x * x for x in xs)
    cov = sxy - sx * sy / n
    var = sx2 - sx * sx / n
    slope = cov / var if var else math.nan
    return slope, sy / n - slope * sx / n


def _holt_winters(vals: list[float], sf: float, tf: float) -> float:
    if not 0 < sf < 1:
        raise QueryError(f"invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:g}")
    if not 0 < tf < 1:
        raise QueryError(f"invalid trend factor. Expected: 0 < tf < 1, got: {tf:g}")
    s0, s1, b = 0.0, vals[0], vals[1] - vals[0]
    for i in range(1, len(vals)):
        if i > 1:  # calcTrendValue: the trend starts moving from the second step
            b = tf * (s1 - s0) + (1 - tf) * b
        s0, s1 = s1, sf * vals[i] + (1 - sf) * (s1 + b)
    return s1
