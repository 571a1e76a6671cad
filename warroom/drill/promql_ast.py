"""PromQL syntax tree, value types and the function table of Prometheus 2.42.

`str(node)` prints an expression in one canonical form (as Prometheus' String() does), so two
spellings of one expression compare equal: that is how a query finds a scenario's expression.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

SCALAR, VECTOR, MATRIX, STRING = "scalar", "vector", "matrix", "string"
DOC_TYPE = {SCALAR: "scalar", VECTOR: "instant vector", MATRIX: "range vector", STRING: "string"}


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    args: tuple[str, ...]
    returns: str = VECTOR
    variadic: int = 0  # 0: fixed; n > 0: up to n optional trailing args; -1: any number


def _table() -> dict[str, Function]:
    v, m, s, st = VECTOR, MATRIX, SCALAR, STRING
    fns = [
        Function(n, (v,))
        for n in ["abs", "ceil", "exp", "floor", "ln", "log2", "log10", "sqrt", "sgn", "deg", "rad"]
    ]
    fns += [Function(n, (v,)) for n in ["sort", "sort_desc", "timestamp", "absent"]]
    trig = "acos acosh asin asinh atan atanh cos cosh sin sinh tan tanh"
    fns += [Function(n, (v,)) for n in trig.split()]
    fns += [Function(n, (v,)) for n in ["histogram_count", "histogram_sum"]]
    over = "avg min max sum count last stddev stdvar present absent"
    fns += [Function(f"{n}_over_time", (m,)) for n in over.split()]
    fns += [
        Function(n, (m,))
        for n in ["rate", "irate", "increase", "delta", "idelta", "deriv", "changes"]
    ]
    fns += [Function("resets", (m,))]
    dates = "day_of_month day_of_week day_of_year days_in_month hour minute month year"
    fns += [Function(n, (v,), variadic=1) for n in dates.split()]
    fns += [
        Function("clamp", (v, s, s)),
        Function("clamp_max", (v, s)),
        Function("clamp_min", (v, s)),
        Function("round", (v, s), variadic=1),
        Function("histogram_quantile", (s, v)),
        Function("histogram_fraction", (s, s, v)),
        Function("holt_winters", (m, s, s)),
        Function("predict_linear", (m, s)),
        Function("quantile_over_time", (s, m)),
        Function("label_replace", (v, st, st, st, st)),
        Function("label_join", (v, st, st, st), variadic=-1),
        Function("scalar", (v,), SCALAR),
        Function("vector", (s,)),
        Function("time", (), SCALAR),
        Function("pi", (), SCALAR),
    ]
    return {f.name: f for f in fns}


FUNCTIONS = _table()
PARAM_AGGREGATORS = ("topk", "bottomk", "quantile", "count_values")


def fmt_number(v: float) -> str:
    """A number literal as Prometheus prints it (Go's %v of a float64)."""
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e21:
        return str(int(v))
    return repr(v)


def fmt_duration(ms: int) -> str:
    """Prometheus' model.Duration String(): 1h30m, 5m, 250ms."""
    if ms == 0:
        return "0s"
    out = []
    rest = ms
    for unit, size in (
        ("y", 31_536_000_000),
        ("w", 604_800_000),
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
        ("ms", 1),
    ):
        n, rest = divmod(rest, size)
        if n:
            out.append(f"{n}{unit}")
    return "".join(out)


@dataclass(eq=False, slots=True)
class Node:
    pos: int = field(default=0, kw_only=True)
    end: int = field(default=0, kw_only=True)

    @property
    def type(self) -> str:
        raise NotImplementedError


@dataclass(eq=False, slots=True)
class NumberLiteral(Node):
    value: float

    @property
    def type(self) -> str:
        return SCALAR

    def __str__(self) -> str:
        return fmt_number(self.value)


@dataclass(eq=False, slots=True)
class StringLiteral(Node):
    value: str

    @property
    def type(self) -> str:
        return STRING

    def __str__(self) -> str:
        return json.dumps(self.value, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: str  # = != =~ !~
    value: str

    def __str__(self) -> str:
        return f"{self.name}{self.op}{json.dumps(self.value, ensure_ascii=False)}"


@dataclass(eq=False, slots=True)
class VectorSelector(Node):
    name: str
    matchers: list[Matcher]
    offset_ms: int = 0
    at: float | None = None  # Unix seconds
    at_preproc: str = ""  # "start" | "end"

    @property
    def type(self) -> str:
        return VECTOR

    def __str__(self) -> str:
        shown = [m for m in self.matchers if not (m.name == "__name__" and m.op == "=")]
        if not self.name:
            shown = list(self.matchers)
        body = ",".join(sorted(str(m) for m in shown))
        sel = f"{self.name}{{{body}}}" if body or not self.name else self.name
        return sel + _modifiers(self.offset_ms, self.at, self.at_preproc)


@dataclass(eq=False, slots=True)
class MatrixSelector(Node):
    selector: VectorSelector
    range_ms: int

    @property
    def type(self) -> str:
        return MATRIX

    def __str__(self) -> str:
        vs = self.selector
        inner = str(VectorSelector(vs.name, vs.matchers))
        mods = _modifiers(vs.offset_ms, vs.at, vs.at_preproc)
        return f"{inner}[{fmt_duration(self.range_ms)}]{mods}"


@dataclass(eq=False, slots=True)
class Subquery(Node):
    expr: Node
    range_ms: int
    step_ms: int
    offset_ms: int = 0
    at: float | None = None
    at_preproc: str = ""

    @property
    def type(self) -> str:
        return MATRIX

    def __str__(self) -> str:
        step = fmt_duration(self.step_ms) if self.step_ms else ""
        mods = _modifiers(self.offset_ms, self.at, self.at_preproc)
        return f"{self.expr}[{fmt_duration(self.range_ms)}:{step}]{mods}"


@dataclass(eq=False, slots=True)
class Call(Node):
    func: Function
    args: list[Node]

    @property
    def type(self) -> str:
        return self.func.returns

    def __str__(self) -> str:
        return f"{self.func.name}({', '.join(str(a) for a in self.args)})"


@dataclass(eq=False, slots=True)
class Aggregate(Node):
    op: str
    expr: Node | None
    param: Node | None = None
    grouping: list[str] = field(default_factory=list)
    without: bool = False
    has_grouping: bool = False

    @property
    def type(self) -> str:
        return VECTOR

    def __str__(self) -> str:
        mod = ""
        if self.without:
            mod = f" without ({', '.join(self.grouping)}) "
        elif self.has_grouping:
            mod = f" by ({', '.join(self.grouping)}) "
        args = ", ".join(str(a) for a in (self.param, self.expr) if a is not None)
        return f"{self.op}{mod}({args})"


@dataclass(eq=False, slots=True)
class Matching:
    card: str = "one-to-one"  # one-to-one | many-to-one | one-to-many | many-to-many
    labels: list[str] = field(default_factory=list)
    on: bool = False
    include: list[str] = field(default_factory=list)


@dataclass(eq=False, slots=True)
class Binary(Node):
    op: str
    lhs: Node
    rhs: Node
    bool_mod: bool = False
    matching: Matching | None = None
    op_pos: int = 0

    @property
    def type(self) -> str:
        if self.lhs.type == SCALAR and self.rhs.type == SCALAR:
            return SCALAR
        return VECTOR

    def __str__(self) -> str:
        mod = " bool" if self.bool_mod else ""
        m = self.matching
        if m is not None and (m.labels or m.on):
            mod += f" {'on' if m.on else 'ignoring'}({', '.join(m.labels)})"
        if m is not None and m.card in ("many-to-one", "one-to-many"):
            side = "group_left" if m.card == "many-to-one" else "group_right"
            mod += f" {side}({', '.join(m.include)})"
        return f"{self.lhs} {self.op}{mod} {self.rhs}"


@dataclass(eq=False, slots=True)
class Unary(Node):
    op: str
    expr: Node

    @property
    def type(self) -> str:
        return self.expr.type

    def __str__(self) -> str:
        return f"{self.op}{self.expr}"


@dataclass(eq=False, slots=True)
class Paren(Node):
    expr: Node

    @property
    def type(self) -> str:
        return self.expr.type

    def __str__(self) -> str:
        return f"({self.expr})"


def _modifiers(offset_ms: int, at: float | None, preproc: str) -> str:
    out = ""
    if preproc:
        out += f" @ {preproc}()"
    elif at is not None:
        out += f" @ {at:.3f}"
    if offset_ms > 0:
        out += f" offset {fmt_duration(offset_ms)}"
    elif offset_ms < 0:
        out += f" offset -{fmt_duration(-offset_ms)}"
    return out


def unparen(node: Node) -> Node:
    while isinstance(node, Paren):
        node = node.expr
    return node


def children(node: Node) -> list[Node]:
    if isinstance(node, MatrixSelector):
        return [node.selector]
    if isinstance(node, Subquery | Unary | Paren):
        return [node.expr]
    if isinstance(node, Call):
        return list(node.args)
    if isinstance(node, Aggregate):
        return [n for n in (node.param, node.expr) if n is not None]
    if isinstance(node, Binary):
        return [node.lhs, node.rhs]
    return []
