"""The parser's token cursor: look-ahead, Prometheus-worded syntax errors with their line and
column, and the literals (numbers, durations, strings) as Go reads them."""

from __future__ import annotations

import math

from warroom.drill.promql_lex import Lexer, Token, go_quote, parse_duration_ms, unquote


class ParseError(ValueError):
    """The first parse error, "line:col: parse error: message"."""


class _Abort(Exception):
    """Unwinds the parser at the first syntax error (collected in `errors`)."""


class TokenStream:
    """What every parsing rule uses: the tokens, where they stand, and how to fail."""

    def __init__(self, query: str) -> None:
        self.q = query
        self.toks = Lexer(query).run()
        self.i = 0
        self.errors: list[tuple[int, str]] = []
        self.in_aggregation = 0

    def _where(self, pos: int, msg: str) -> str:
        before = self.q[:pos]
        line = before.count("\n") + 1
        col = pos - (before.rfind("\n") + 1) + 1 if "\n" in before else pos + 1
        return f"{line}:{col}: parse error: {msg}"

    def peek(self, off: int = 0) -> Token:
        return self.toks[min(self.i + off, len(self.toks) - 1)]

    def take(self) -> Token:
        tok = self.peek()
        if tok.kind == "ERROR":
            self.fail(tok.pos, tok.val)
        self.i += 1
        return tok

    def fail(self, pos: int, msg: str) -> None:
        self.errors.append((pos, msg))
        raise _Abort

    def unexpected(self, tok: Token, context: str = "", expected: str = "") -> None:
        if tok.kind == "ERROR":  # the lexer's own message wins, as in Prometheus
            self.fail(tok.pos, tok.val)
        msg = f"unexpected {tok.desc()}"
        if not context and self.in_aggregation:
            context = "aggregation"  # the nearest error rule up the grammar is the aggregation's
        if context:
            msg += f" in {context}"
        if expected:
            msg += f", expected {expected}"
        self.fail(tok.pos, msg)

    def expect(self, val: str, context: str, expected: str = "") -> Token:
        tok = self.peek()
        if tok.kind in ("SYM", "OP") and tok.val == val:
            return self.take()
        self.unexpected(tok, context, expected or go_quote(val))
        raise AssertionError  # unreachable: unexpected() raises

    def duration(self, tok: Token) -> int:
        try:
            ms = parse_duration_ms(tok.val)
        except ValueError as e:
            self.fail(tok.pos, str(e))
            raise
        if ms == 0:
            self.fail(tok.pos, "duration must be greater than 0")
        return ms

    def number(self, tok: Token) -> float:
        text = tok.val
        low = text.lower()
        try:
            if low in ("inf", "+inf"):
                return math.inf
            if low == "nan":
                return math.nan
            if low.startswith("0x"):
                return float(int(low, 16))
            if len(low) > 1 and low.startswith("0") and low.isdigit():
                try:
                    return float(int(low, 8))
                except ValueError:
                    return float(low)  # Go: ParseInt fails on "09", ParseFloat reads 9
            return float(text)
        except ValueError:
            self.fail(
                tok.pos,
                f'error parsing number: strconv.ParseFloat: parsing "{text}": invalid syntax',
            )
            raise

    def string(self, tok: Token) -> str:
        try:
            return unquote(tok.val)
        except (ValueError, IndexError) as e:
            self.fail(tok.pos, str(e))
            raise
