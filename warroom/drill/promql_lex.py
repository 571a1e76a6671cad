"""PromQL lexer, following Prometheus 2.42's promql/parser/lex.go closely enough that its
errors (text and position) are the real server's: a client sees the same parse message from the
drill as from Prometheus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

AGGREGATORS = [
    "sum",
    "avg",
    "count",
    "min",
    "max",
    "group",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "count_values",
    "quantile",
]
KEYWORDS = ["offset", "by", "without", "on", "ignoring", "group_left", "group_right", "bool"]
SET_OPS = ("and", "or", "unless")
COMPARISONS = ("==", "!=", "<=", "<", ">=", ">")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # IDENT METRIC NUMBER STRING DURATION KEYWORD AGGR PREPROC OP SYM AT EOF ERROR
    val: str
    pos: int

    def desc(self) -> str:
        """How Prometheus names the item in "unexpected ..." (Item.desc in lex.go)."""
        if self.kind == "EOF":
            return "end of input"
        if self.kind == "AT":  # Go's desc() misses AT: it prints the raw item type number
            return '"<Item 57385>" <op:@>'
        if self.kind == "ERROR":
            return self.val
        names = {"IDENT": "identifier", "METRIC": "metric identifier", "NUMBER": "number"}
        names |= {"STRING": "string", "DURATION": "duration"}
        if self.kind in names:
            return f"{names[self.kind]} {self.show()}"
        return self.show()

    def show(self) -> str:
        """Item.String() in lex.go."""
        if self.kind in ("IDENT", "METRIC"):
            return go_quote(self.val)
        if self.kind == "KEYWORD":
            return f"<{self.val}>"
        if self.kind in ("OP", "AT"):
            return f"<op:{self.val}>"
        if self.kind == "AGGR":
            return f"<aggr:{self.val}>"
        if len(self.val) > 10:
            return go_quote(self.val[:10]) + "..."
        return go_quote(self.val)


def go_quote(s: str) -> str:
    """Go's %q for the plain strings that appear in PromQL error messages."""
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return "".join(out) + '"'


def go_rune(ch: str) -> str:
    """Go's %q of a rune: '}'; the end of input (Go's eof rune -1) prints as U+FFFD."""
    if not ch:
        return "'\ufffd'"
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    return "'" + go_quote(ch)[1:-1] + "'"


class LexError(Exception):
    def __init__(self, pos: int, msg: str) -> None:
        super().__init__(msg)
        self.pos, self.msg = pos, msg


def _is_alpha(c: str) -> bool:
    return c == "_" or ("a" <= c <= "z") or ("A" <= c <= "Z")


def _is_alnum(c: str) -> bool:
    return _is_alpha(c) or (c.isdigit() and c.isascii())


def _is_digit(c: str) -> bool:
    return "0" <= c <= "9"


class Lexer:
    """Tokenises a whole query up front; a lexer error becomes a final ERROR token (as
    Prometheus replaces the item being scanned with its error item)."""

    def __init__(self, text: str) -> None:
        self.s, self.pos = text, 0
        self.tokens: list[Token] = []
        self.paren_depth, self.brace_open, self.bracket_open = 0, False, False
        self.got_colon = False

    def run(self) -> list[Token]:
        try:
            while not self.tokens or self.tokens[-1].kind != "EOF":
                self._step()
        except LexError as e:
            self.tokens.append(Token("ERROR", e.msg, e.pos))
        return self.tokens

    def _emit(self, kind: str, start: int, val: str | None = None) -> None:
        self.tokens.append(Token(kind, self.s[start : self.pos] if val is None else val, start))

    def _peek(self, off: int = 0) -> str:
        i = self.pos + off
        return self.s[i] if i < len(self.s) else ""

    def _skip_space_and_comments(self) -> None:
        while self.pos < len(self.s):
            c = self.s[self.pos]
            if c in " \t\n\r":
                self.pos += 1
            elif c == "#":
                while self.pos < len(self.s) and self.s[self.pos] != "\n":
                    self.pos += 1
            else:
                return

    def _step(self) -> None:
        self._skip_space_and_comments()
        if self.brace_open:
            return self._inside_braces()
        start = self.pos
        if start >= len(self.s):
            if self.paren_depth:
                raise LexError(start, "unclosed left parenthesis")
            if self.bracket_open:
                raise LexError(start, "unclosed left bracket")
            return self._emit("EOF", start, "")
        c = self.s[start]
        self.pos += 1
        two = self.s[start : start + 2]
        if c in ",*/%+-^":
            self._emit("SYM" if c == "," else "OP", start)
        elif c == "=":
            if self._peek() == "=":
                self.pos += 1
                self._emit("OP", start)
            elif self._peek() == "~":
                raise LexError(start, f"unexpected character after '=': {go_rune('~')}")
            else:
                self._emit("SYM", start)
        elif c == "!":
            if self._peek() != "=":
                raise LexError(start, f"unexpected character after '!': {go_rune(self._peek())}")
            self.pos += 1
            self._emit("OP", start)
        elif c in "<>":
            if self._peek() == "=":
                self.pos += 1
            self._emit("OP", start, two if self.pos - start == 2 else c)
        elif _is_digit(c) or (c == "." and _is_digit(self._peek())):
            self.pos = start
            self._number_or_duration()
        elif c in "\"'":
            self._string(c, start)
        elif c == "`":
            end = self.s.find("`", self.pos)
            if end < 0:
                raise LexError(start, "unterminated raw string")
            self.pos = end + 1
            self._emit("STRING", start)
        elif _is_alpha(c) or c == ":":
            if self.bracket_open:
                if self.got_colon:
                    raise LexError(start, f"unexpected colon {go_rune(c)}")
                self._emit("SYM", start, ":")
                self.got_colon = True
                return None
            self.pos = start
            self._word()
        elif c == "(":
            self._emit("SYM", start)
            self.paren_depth += 1
        elif c == ")":
            self.paren_depth -= 1
            if self.paren_depth < 0:
                raise LexError(self.pos, f"unexpected right parenthesis {go_rune(c)}")
            self._emit("SYM", start)
        elif c == "{":
            self._emit("SYM", start)
            self.brace_open = True
        elif c == "[":
            if self.bracket_open:
                raise LexError(start, f"unexpected left bracket {go_rune(c)}")
            self._emit("SYM", start)
            self.bracket_open, self.got_colon = True, False
            self._skip_space_and_comments()
            self._duration(self.pos)
        elif c == "]":
            if not self.bracket_open:
                raise LexError(start, f"unexpected right bracket {go_rune(c)}")
            self._emit("SYM", start)
            self.bracket_open = False
        elif c == "@":
            self._emit("AT", start)
        else:
            raise LexError(start, f"unexpected character: {go_rune(c)}")
        return None

    def _inside_braces(self) -> None:
        start = self.pos
        if start >= len(self.s):
            raise LexError(start, "unexpected end of input inside braces")
        c = self.s[start]
        self.pos += 1
        if _is_alpha(c):
            while _is_alnum(self._peek()):
                self.pos += 1
            self._emit("IDENT", start)
        elif c == ",":
            self._emit("SYM", start)
        elif c in "\"'":
            self._string(c, start)
        elif c == "`":
            end = self.s.find("`", self.pos)
            if end < 0:
                raise LexError(start, "unterminated raw string")
            self.pos = end + 1
            self._emit("STRING", start)
        elif c == "=":
            if self._peek() == "~":
                self.pos += 1
            self._emit("SYM" if self.pos - start == 1 else "OP", start)
        elif c == "!":
            if not self._peek() or self._peek() not in "~=":
                msg = f"unexpected character after '!' inside braces: {go_rune(self._peek())}"
                raise LexError(start, msg)
            self.pos += 1
            self._emit("OP", start)
        elif c == "{":
            raise LexError(start, f"unexpected left brace {go_rune(c)}")
        elif c == "}":
            self._emit("SYM", start)
            self.brace_open = False
        else:
            raise LexError(start, f"unexpected character inside braces: {go_rune(c)}")

    def _word(self) -> None:
        start = self.pos
        while _is_alnum(self._peek()) or self._peek() == ":":
            self.pos += 1
        word = self.s[start : self.pos]
        low = word.lower()
        if low in SET_OPS or low == "atan2":
            self._emit("OP", start, low)
        elif low in AGGREGATORS:
            self._emit("AGGR", start, low)
        elif low in KEYWORDS:
            self._emit("KEYWORD", start, low)
        elif low in ("start", "end"):
            self._emit("PREPROC", start, low)
        elif low in ("inf", "nan"):
            self._emit("NUMBER", start)
        else:
            self._emit("METRIC" if ":" in word else "IDENT", start)

    def _scan_number(self) -> bool:
        digits = "0123456789"
        if self._peek() == "0" and self._peek(1) in "xX" and self._peek(1):
            self.pos += 2
            digits = "0123456789abcdefABCDEF"
        while self._peek() and self._peek() in digits:
            self.pos += 1
        if self._peek() == ".":
            self.pos += 1
            while self._peek() and self._peek() in digits:
                self.pos += 1
        if self._peek() and self._peek() in "eE":
            self.pos += 1
            if self._peek() and self._peek() in "+-":
                self.pos += 1
            while self._peek() and self._peek() in "0123456789":
                self.pos += 1
        return not _is_alnum(self._peek())

    def _accept(self, chars: str) -> bool:
        if self._peek() and self._peek() in chars:
            self.pos += 1
            return True
        return False

    def _accept_remaining_duration(self) -> bool:
        """The units after a duration's first digits: 5m, 1h30m, 250ms (acceptRemainingDuration)."""
        if not self._accept("smhdwy"):
            return False
        self._accept("s")
        while self._accept("0123456789"):
            while self._accept("0123456789"):
                pass
            if not self._accept("smhdw"):
                return False
            self._accept("s")
        # Go reads one more rune to check it, so a bad duration's text includes it ("1ma").
        nxt = self._peek()
        self.pos += len(nxt)
        if _is_alnum(nxt):
            return False
        self.pos -= len(nxt)
        return True

    def _number_or_duration(self) -> None:
        start = self.pos
        if self._scan_number():
            return self._emit("NUMBER", start)
        if self._accept_remaining_duration():
            return self._emit("DURATION", start)
        raise LexError(
            start, f"bad number or duration syntax: {go_quote(self.s[start : self.pos])}"
        )

    def _duration(self, start: int) -> None:
        if self._scan_number():
            raise LexError(start, "missing unit character in duration")
        if not self._accept_remaining_duration():
            raise LexError(start, f"bad duration syntax: {go_quote(self.s[start : self.pos])}")
        self._emit("DURATION", start)

    def _string(self, quote: str, start: int) -> None:
        while True:
            c = self._peek()
            if c in ("", "\n"):
                raise LexError(start, "unterminated quoted string")
            self.pos += 1
            if c == "\\":
                self._escape(quote, start)
            elif c == quote:
                break
        self._emit("STRING", start)

    def _escape(self, quote: str, start: int) -> None:
        """lexEscape: the escape after a backslash, validated as Prometheus does."""
        c = self._peek()
        self.pos += len(c)
        if c == "":
            raise LexError(start, "escape sequence not terminated")
        if c in "abfnrtv\\" or c == quote:
            return
        sizes = {"x": (2, 16, 255), "u": (4, 16, 0x10FFFF), "U": (8, 16, 0x10FFFF)}
        if c in "01234567":
            n, base, top = 3, 8, 255
            self.pos -= 1
        elif c in sizes:
            n, base, top = sizes[c]
        else:
            raise LexError(start, f"unknown escape sequence {go_unicode(c)}")
        value = 0
        for _ in range(n):
            d = self._peek()
            digit = int(d, 16) if d and d in "0123456789abcdefABCDEF" else 99
            if digit >= base:
                if d == "":
                    raise LexError(start, "escape sequence not terminated")
                raise LexError(start, f"illegal character {go_unicode(d)} in escape sequence")
            self.pos += 1
            value = value * base + digit
        if value > top or 0xD800 <= value < 0xE000:
            raise LexError(start, "escape sequence is an invalid Unicode code point")


def go_unicode(ch: str) -> str:
    """Go's %#U: U+0071 'q' (the character only when printable)."""
    shown = f" '{ch}'" if ch.isprintable() else ""
    return f"U+{ord(ch):04X}{shown}"


_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)


def parse_duration_ms(text: str) -> int:
    """Milliseconds of a PromQL duration (Prometheus' model.ParseDuration)."""
    m = _DURATION.match(text)
    if not m or not text:
        raise ValueError(f"not a valid duration string: {go_quote(text)}")
    sizes = (31_536_000_000, 604_800_000, 86_400_000, 3_600_000, 60_000, 1000, 1)
    return sum(int(g) * size for g, size in zip(m.groups(), sizes, strict=True) if g)


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def unquote(tok: str) -> str:
    """Go's strconv.Unquote for PromQL strings ("...", '...', `...`)."""
    q, body = tok[0], tok[1:-1]
    if q == "`":
        return body
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        n = body[i + 1]
        if n in _ESCAPES:
            out.append(_ESCAPES[n])
            i += 2
        elif n in "\\'\"":
            out.append(n)
            i += 2
        elif n in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[n]
            out.append(chr(int(body[i + 2 : i + 2 + width], 16)))
            i += 2 + width
        elif n in "01234567":
            out.append(chr(int(body[i + 1 : i + 4], 8)))
            i += 4
        else:
            raise ValueError(f"unknown escape sequence U+{ord(n):04X} '{n}'")
    return "".join(out)
