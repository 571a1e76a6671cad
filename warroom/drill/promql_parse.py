"""PromQL parser: tokens (promql_lex) to a syntax tree (promql_ast), then Prometheus' type
checks. Errors read as Prometheus 2.42 words them, "1:5: parse error: ...", so a drill answers a
mistyped query the way the real server would.
"""

from __future__ import annotations

import math
import re

from warroom.drill.promql_ast import (
    FUNCTIONS,
    PARAM_AGGREGATORS,
    Aggregate,
    Binary,
    Call,
    Matcher,
    Matching,
    MatrixSelector,
    Node,
    NumberLiteral,
    Paren,
    StringLiteral,
    Subquery,
    Unary,
    VectorSelector,
    unparen,
)
from warroom.drill.promql_check import TypeChecker, regexp_error
from warroom.drill.promql_lex import Token, go_quote
from warroom.drill.promql_stream import ParseError, TokenStream, _Abort

# Binary operators by precedence, lowest first (generated_parser.y's %left/%right lines).
PRECEDENCE = {"or": 1, "and": 2, "unless": 2, "+": 4, "-": 4, "*": 5, "/": 5, "%": 5}
PRECEDENCE |= {"atan2": 5, "^": 6} | dict.fromkeys(("==", "!=", "<=", "<", ">=", ">"), 3)
COMPARISON = ("==", "!=", "<=", "<", ">=", ">")
SET_OPS = ("and", "or", "unless")
_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse(query: str) -> Node:
    return _Parser(query).parse()


def parse_selector(text: str) -> VectorSelector:
    """A series selector alone, as the match[] parameters take it (ParseMetricSelector)."""
    return _Parser(text).parse_selector()


class _Parser(TokenStream):
    """Recursive descent over the tokens, precedence climbing for binary operators."""

    def parse(self) -> Node:
        try:
            if self.peek().kind == "EOF":
                self.fail(0, "no expression found in input")
            node = self.expr(0)
            tok = self.peek()
            if tok.kind != "EOF":
                self.unexpected(tok)
        except _Abort:
            pass
        if not self.errors:
            checker = TypeChecker()
            checker.check(node)
            self.errors = checker.errors
        if self.errors:
            # Prometheus reports only the first error (ParseErrors.Error).
            raise ParseError(self._where(*self.errors[0]))
        return node

    def parse_selector(self) -> VectorSelector:
        try:
            tok = self.peek()
            if tok.kind in ("IDENT", "METRIC"):
                self.take()
                node = self.selector(tok.val, tok.pos)
            elif tok.kind == "SYM" and tok.val == "{":
                node = self.selector("", tok.pos)
            else:
                self.unexpected(tok)
            if self.peek().kind != "EOF":
                self.unexpected(self.peek())
        except _Abort:
            pass
        if not self.errors:
            checker = TypeChecker()
            checker.check(node)
            self.errors = checker.errors
        if self.errors:
            raise ParseError(self._where(*self.errors[0]))
        return node

    # --- expressions -------------------------------------------------------------------

    def _binop(self) -> str | None:
        tok = self.peek()
        if tok.kind == "OP" and tok.val in PRECEDENCE:
            return tok.val
        return None

    def expr(self, min_prec: int) -> Node:
        lhs = self.unary()
        while (op := self._binop()) is not None and PRECEDENCE[op] >= min_prec:
            op_tok = self.take()
            bool_mod, matching = self.binary_modifiers(op)
            prec = PRECEDENCE[op]
            rhs = self.expr(prec if op == "^" else prec + 1)
            lhs = Binary(
                op, lhs, rhs, bool_mod, matching, op_pos=op_tok.pos, pos=lhs.pos, end=rhs.end
            )
        return lhs

    def binary_modifiers(self, op: str) -> tuple[bool, Matching | None]:
        bool_mod = False
        if self.peek().kind == "KEYWORD" and self.peek().val == "bool":
            self.take()
            bool_mod = True
        matching = Matching(card="many-to-many" if op in SET_OPS else "one-to-one")
        tok = self.peek()
        if tok.kind == "KEYWORD" and tok.val in ("on", "ignoring"):
            self.take()
            matching.on = tok.val == "on"
            matching.labels = self.label_list("grouping opts")
            tok = self.peek()
            if tok.kind == "KEYWORD" and tok.val in ("group_left", "group_right"):
                self.take()
                matching.card = "many-to-one" if tok.val == "group_left" else "one-to-many"
                nxt = self.peek()
                if nxt.kind == "SYM" and nxt.val == "(":
                    matching.include = self.label_list("grouping opts")
                elif not _starts_expr(nxt):
                    self.unexpected(nxt, "grouping opts", '"("')
        return bool_mod, matching

    def label_list(self, context: str) -> list[str]:
        self.expect("(", context)
        out: list[str] = []
        while True:
            tok = self.peek()
            if tok.kind == "SYM" and tok.val == ")":
                self.take()
                return out
            if tok.kind in ("IDENT", "KEYWORD", "AGGR", "PREPROC") or (
                tok.kind == "OP" and _WORD.match(tok.val)
            ):
                out.append(self.take().val)
            else:
                self.unexpected(tok, context, "label")
            tok = self.peek()
            if tok.kind == "SYM" and tok.val == ",":
                self.take()
            elif not (tok.kind == "SYM" and tok.val == ")"):
                self.unexpected(tok, context, '"," or ")"')

    def unary(self) -> Node:
        tok = self.peek()
        if tok.kind == "OP" and tok.val in ("+", "-"):
            self.take()
            operand = self.expr(PRECEDENCE["^"])
            if isinstance(operand, NumberLiteral):
                if tok.val == "-":
                    operand.value = -operand.value
                operand.pos = tok.pos
                return operand
            return Unary(tok.val, operand, pos=tok.pos, end=operand.end)
        return self.postfix(self.primary())

    def postfix(self, node: Node) -> Node:
        while True:
            tok = self.peek()
            if tok.kind == "SYM" and tok.val == "[":
                node = self.range_or_subquery(node)
            elif tok.kind == "KEYWORD" and tok.val == "offset":
                node = self.offset(node)
            elif tok.kind == "AT":
                node = self.at(node)
            else:
                return node

    def range_or_subquery(self, node: Node) -> Node:
        open_tok = self.take()
        tok = self.peek()
        if tok.kind != "DURATION":
            self.unexpected(tok, "subquery selector" if self._colon_ahead() else "", "duration")
        rng = self.duration(self.take())
        tok = self.peek()
        if tok.kind == "SYM" and tok.val == ":":
            self.take()
            step = 0
            tok = self.peek()
            if tok.kind == "DURATION":
                step = self.duration(self.take())
            elif not (tok.kind == "SYM" and tok.val == "]"):
                self.unexpected(tok, "subquery selector", 'duration or "]"')
            close = self.expect("]", "subquery selector")
            return Subquery(node, rng, step, pos=node.pos, end=close.pos + 1)
        close = self.expect("]", "subquery or range", '":" or "]"')
        vs = unparen(node) if isinstance(node, Paren) else node
        if not isinstance(vs, VectorSelector) or isinstance(node, Paren):
            self.fail(open_tok.pos, "ranges only allowed for vector selectors")
        assert isinstance(vs, VectorSelector)
        if vs.offset_ms:
            self.fail(open_tok.pos, "no offset modifiers allowed before range")
        if vs.at is not None or vs.at_preproc:
            self.fail(open_tok.pos, "no @ modifiers allowed before range")
        return MatrixSelector(vs, rng, pos=node.pos, end=close.pos + 1)

    def _colon_ahead(self) -> bool:
        t = self.peek(1)
        return t.kind == "SYM" and t.val == ":"

    def _modifiable(self, node: Node, what: str) -> VectorSelector | Subquery:
        target = node.selector if isinstance(node, MatrixSelector) else node
        if not isinstance(target, VectorSelector | Subquery):
            self.fail(
                node.pos,
                f"{what} modifier must be preceded by an instant vector selector or range "
                "vector selector or a subquery",
            )
        assert isinstance(target, VectorSelector | Subquery)
        return target

    def offset(self, node: Node) -> Node:
        self.take()
        sign = 1
        tok = self.peek()
        if tok.kind == "OP" and tok.val == "-":
            self.take()
            sign = -1
            tok = self.peek()
        if tok.kind != "DURATION":
            self.unexpected(tok, "offset", "duration")
        ms = self.duration(self.take()) * sign
        target = self._modifiable(node, "offset")
        if target.offset_ms:
            self.fail(node.pos, "offset may not be set multiple times")
        target.offset_ms = ms
        node.end = tok.pos + len(tok.val)
        return node

    def at(self, node: Node) -> Node:
        self.take()
        tok = self.peek()
        preproc, value = "", None
        if tok.kind == "PREPROC":
            self.take()
            self.expect("(", "@", "timestamp")
            self.expect(")", "@", "timestamp")
            preproc = tok.val
        else:
            sign = 1.0
            if tok.kind == "OP" and tok.val in ("+", "-"):
                self.take()
                sign = -1.0 if tok.val == "-" else 1.0
                tok = self.peek()
            if tok.kind != "NUMBER":
                self.unexpected(tok, "@", "timestamp")
            value = sign * self.number(self.take())
            if math.isinf(value) or math.isnan(value) or abs(value) > 9.2e15:
                self.fail(tok.pos, f"timestamp out of bounds for @ modifier: {value:f}")
        target = self._modifiable(node, "@")
        if target.at is not None or target.at_preproc:
            self.fail(node.pos, "@ <timestamp> may not be set multiple times")
        target.at, target.at_preproc = value, preproc
        return node

    def primary(self) -> Node:
        tok = self.peek()
        if tok.kind == "NUMBER":
            self.take()
            return NumberLiteral(self.number(tok), pos=tok.pos, end=tok.pos + len(tok.val))
        if tok.kind == "STRING":
            self.take()
            return StringLiteral(self.string(tok), pos=tok.pos, end=tok.pos + len(tok.val))
        if tok.kind == "SYM" and tok.val == "(":
            self.take()
            inner = self.expr(0)
            close = self.peek()
            if not (close.kind == "SYM" and close.val == ")"):
                self.unexpected(close)
            self.take()
            return Paren(inner, pos=tok.pos, end=close.pos + 1)
        if tok.kind == "SYM" and tok.val == "{":
            return self.selector("", tok.pos)
        if tok.kind == "AGGR":
            nxt = self.peek(1)
            if (nxt.kind == "SYM" and nxt.val == "(") or (
                nxt.kind == "KEYWORD" and nxt.val in ("by", "without")
            ):
                return self.aggregate()
            return self._keyword_metric(tok)
        if tok.kind == "PREPROC" or (
            (tok.kind == "KEYWORD" and tok.val in ("by", "without", "offset"))
            or (tok.kind == "OP" and tok.val in SET_OPS)
        ):
            return self._keyword_metric(tok)
        if tok.kind == "IDENT":
            nxt = self.peek(1)
            if nxt.kind == "SYM" and nxt.val == "(":
                return self.call()
            self.take()
            return self.selector(tok.val, tok.pos)
        if tok.kind == "METRIC":
            self.take()
            return self.selector(tok.val, tok.pos)
        self.unexpected(tok)
        raise AssertionError

    def _keyword_metric(self, tok: Token) -> VectorSelector:
        """sum, by, offset, and, ... are metric names where no operator can stand (the
        grammar's metric_identifier), written as typed."""
        self.take()
        return self.selector(self.q[tok.pos : tok.pos + len(tok.val)], tok.pos)

    def selector(self, name: str, pos: int) -> VectorSelector:
        matchers: list[Matcher] = []
        end = pos + len(name)
        tok = self.peek()
        if tok.kind == "SYM" and tok.val == "{":
            self.take()
            matchers, end = self.matchers()
        if name:
            matchers.append(Matcher("__name__", "=", name))
        return VectorSelector(name, matchers, pos=pos, end=end)

    def matchers(self) -> tuple[list[Matcher], int]:
        ctx = "label matching"
        out: list[Matcher] = []
        while True:
            tok = self.peek()
            if tok.kind == "SYM" and tok.val == "}":
                self.take()
                return out, tok.pos + 1
            if tok.kind != "IDENT":
                self.unexpected(tok, ctx, 'identifier or "}"')
            name = self.take()
            op = self.peek()
            if op.val not in ("=", "!=", "=~", "!~") or op.kind not in ("SYM", "OP"):
                self.unexpected(op, ctx, "label matching operator")
            self.take()
            val = self.peek()
            if val.kind != "STRING":
                self.unexpected(val, ctx, "string")
            self.take()
            value = self.string(val)
            if "~" in op.val:
                try:
                    re.compile(value)
                except re.error as e:
                    self.fail(name.pos, f"error parsing regexp: {regexp_error(e, value)}")
            out.append(Matcher(name.val, op.val, value))
            tok = self.peek()
            if tok.kind == "SYM" and tok.val == ",":
                self.take()
            elif not (tok.kind == "SYM" and tok.val == "}"):
                self.unexpected(tok, ctx, '"," or "}"')

    def args(self) -> tuple[list[Node], int]:
        self.expect("(", "")
        out: list[Node] = []
        tok = self.peek()
        if tok.kind == "SYM" and tok.val == ")":
            self.take()
            return out, tok.pos + 1
        while True:
            out.append(self.expr(0))
            tok = self.peek()
            if tok.kind == "SYM" and tok.val == ")":
                self.take()
                return out, tok.pos + 1
            if not (tok.kind == "SYM" and tok.val == ","):
                self.unexpected(tok)
            comma = self.take()
            if not _starts_expr(self.peek()):
                self.fail(comma.pos, "trailing commas not allowed in function call args")

    def call(self) -> Node:
        name = self.take()
        args, end = self.args()  # Prometheus looks the name up once the call is parsed
        func = FUNCTIONS.get(name.val)
        if func is None:
            self.fail(name.pos, f"unknown function with name {go_quote(name.val)}")
        assert func is not None
        return Call(func, args, pos=name.pos, end=end)

    def aggregate(self) -> Node:
        op = self.take()
        grouping: list[str] = []
        without = has = False

        def modifier() -> None:
            nonlocal grouping, without, has
            tok = self.peek()
            if tok.kind == "KEYWORD" and tok.val in ("by", "without"):
                self.take()
                without, has = tok.val == "without", True
                grouping = self.label_list("grouping opts")

        self.in_aggregation += 1
        modifier()
        if not (self.peek().kind == "SYM" and self.peek().val == "("):
            self.unexpected(self.peek())
        args, end = self.args()
        if self.peek().kind == "ERROR":  # yacc reads one token ahead before it reduces
            self.take()
        if not has:
            modifier()
        self.in_aggregation -= 1
        node = Aggregate(op.val, None, None, grouping, without, has, pos=op.pos, end=end)
        if not args:
            self.fail(op.pos, "no arguments for aggregate expression provided")
        want = 2 if op.val in PARAM_AGGREGATORS else 1
        if len(args) != want:
            self.fail(
                op.pos,
                "wrong number of arguments for aggregate expression provided, "
                f"expected {want}, got {len(args)}",
            )
        node.param = args[0] if want == 2 else None
        node.expr = args[-1]
        return node


def _starts_expr(tok: Token) -> bool:
    """Can this token begin an expression (else a comma before it is a trailing comma)?"""
    if tok.kind in ("NUMBER", "STRING", "IDENT", "METRIC", "AGGR", "PREPROC", "ERROR"):
        return True
    if tok.kind == "SYM":
        return tok.val in ("(", "{")
    if tok.kind == "KEYWORD":
        return tok.val in ("by", "without", "offset")
    return tok.kind == "OP" and tok.val in ("+", "-", *SET_OPS)
