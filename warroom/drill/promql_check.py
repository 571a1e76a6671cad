"""Prometheus' type checks on a parsed PromQL tree (checkAST in promql/parser/parse.go), with
its error texts: argument counts and types, binary operand types, set operators on scalars."""

from __future__ import annotations

import re
from collections.abc import Callable

from warroom.drill.promql_ast import (
    DOC_TYPE,
    SCALAR,
    STRING,
    VECTOR,
    Aggregate,
    Binary,
    Call,
    Matcher,
    MatrixSelector,
    Node,
    Paren,
    Subquery,
    Unary,
    VectorSelector,
)
from warroom.drill.promql_lex import go_quote

COMPARISON = ("==", "!=", "<=", "<", ">=", ">")
SET_OPS = ("and", "or", "unless")


def matches(m: Matcher, value: str) -> bool:
    """Does a label value ("" when the label is absent) satisfy the matcher?"""
    if m.op == "=":
        return value == m.value
    if m.op == "!=":
        return value != m.value
    hit = re.fullmatch(m.value, value) is not None
    return hit if m.op == "=~" else not hit


class TypeChecker:
    """Collects (position, message) errors; Prometheus reports the first."""

    def __init__(self) -> None:
        self.errors: list[tuple[int, str]] = []

    def error(self, pos: int, msg: str) -> None:
        self.errors.append((pos, msg))

    def expect_type(self, node: Node, want: str, context: str) -> None:
        got = self.check(node)
        if got != want:
            self.error(
                node.pos, f"expected type {DOC_TYPE[want]} in {context}, got {DOC_TYPE[got]}"
            )

    def check(self, node: Node) -> str:
        handler: Callable[[Node], None] | None = getattr(
            self, f"_check_{type(node).__name__}", None
        )
        if handler is not None:
            handler(node)
        elif isinstance(node, Paren):
            self.check(node.expr)
        return node.type

    def _check_VectorSelector(self, n: VectorSelector) -> None:
        if n.name:
            for m in n.matchers[:-1]:
                if m.name == "__name__":
                    self.error(
                        n.pos,
                        f"metric name must not be set twice: {go_quote(n.name)} or "
                        f"{go_quote(m.value)}",
                    )
            return
        if not any(not matches(m, "") for m in n.matchers):
            self.error(n.pos, "vector selector must contain at least one non-empty matcher")

    def _check_MatrixSelector(self, n: MatrixSelector) -> None:
        self.check(n.selector)

    def _check_Subquery(self, n: Subquery) -> None:
        got = self.check(n.expr)
        if got != VECTOR:
            self.error(n.pos, f"subquery is only allowed on instant vector, got {got} instead")

    def _check_Call(self, n: Call) -> None:
        f, nargs, got = n.func, len(n.func.args), len(n.args)
        if f.variadic == 0 and nargs != got:
            self.error(
                n.pos, f"expected {nargs} argument(s) in call to {go_quote(f.name)}, got {got}"
            )
        elif f.variadic:
            least = nargs - 1
            if least > got:
                self.error(
                    n.pos,
                    f"expected at least {least} argument(s) in call to {go_quote(f.name)}, "
                    f"got {got}",
                )
            elif f.variadic > 0 and least + f.variadic < got:
                self.error(
                    n.pos,
                    f"expected at most {least + f.variadic} argument(s) in call to "
                    f"{go_quote(f.name)}, got {got}",
                )
        for i, arg in enumerate(n.args):
            if i >= nargs:
                if f.variadic == 0:
                    break
                i = nargs - 1
            self.expect_type(arg, f.args[i], f"call to function {go_quote(f.name)}")

    def _check_Aggregate(self, n: Aggregate) -> None:
        assert n.expr is not None
        self.expect_type(n.expr, VECTOR, "aggregation expression")
        if n.op in ("topk", "bottomk", "quantile") and n.param is not None:
            self.expect_type(n.param, SCALAR, "aggregation parameter")
        if n.op == "count_values" and n.param is not None:
            self.expect_type(n.param, STRING, "aggregation parameter")

    def _check_Unary(self, n: Unary) -> None:
        got = self.check(n.expr)
        if got not in (SCALAR, VECTOR):
            self.error(
                n.pos,
                "unary expression only allowed on expressions of type scalar or instant "
                f"vector, got {go_quote(DOC_TYPE[got])}",
            )

    def _check_Binary(self, n: Binary) -> None:
        lt, rt = self.check(n.lhs), self.check(n.rhs)
        m = n.matching
        if n.bool_mod and n.op not in COMPARISON:
            self.error(n.op_pos, "bool modifier can only be used on comparison operators")
        if n.op in COMPARISON and not n.bool_mod and lt == SCALAR and rt == SCALAR:
            self.error(n.op_pos, "comparisons between scalars must use BOOL modifier")
        if m is not None and m.on:
            for label in m.labels:
                if label in m.include:
                    self.error(
                        n.op_pos,
                        f"label {go_quote(label)} must not occur in ON and GROUP clause at once",
                    )
        for side, t in ((n.lhs, lt), (n.rhs, rt)):
            if t not in (SCALAR, VECTOR):
                self.error(
                    side.pos, "binary expression must contain only scalar and instant vector types"
                )
        if (lt != VECTOR or rt != VECTOR) and m is not None:
            if m.labels:
                self.error(n.pos, "vector matching only allowed between instant vectors")
            n.matching = None
        elif n.op in SET_OPS and m is not None and m.card in ("many-to-one", "one-to-many"):
            self.error(n.pos, f"no grouping allowed for {go_quote(n.op)} operation")
        if SCALAR in (lt, rt) and n.op in SET_OPS:
            self.error(
                n.pos, f"set operator {go_quote(n.op)} not allowed in binary scalar expression"
            )


def regexp_error(e: re.error, value: str) -> str:
    """Go's regexp/syntax wording for the usual mistakes; Python's for the rest."""
    anchored = f"^(?:{value})$"
    if "missing ), unterminated subpattern" in e.msg:
        return f"missing closing ): `{anchored}`"
    if "unbalanced parenthesis" in e.msg:
        return f"unexpected ): `{anchored}`"
    if "unterminated character set" in e.msg:
        return f"missing closing ]: `{value[e.pos or 0 :]})$`"
    if "nothing to repeat" in e.msg:
        return f"missing argument to repetition operator: `{value[e.pos or 0]}`"
    return f"{e.msg}: `{value}`"
