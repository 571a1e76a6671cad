"""Redaction of secrets in text bound for an evidence bundle (logs, API objects, timelines).

A bundle leaves the responder's hands (tickets, vendors, post-mortems), so credentials that
services print into their logs must not travel with it. Rules, in the order they run on a line:

  extra      explicit strings (the kubeconfig's own token, ...), wherever they appear
  pem        PEM private key blocks, on one line or over many (state kept between calls)
  auth       `Authorization: <scheme> <credential>` (header, JSON and `=` spellings)
  bearer     `Bearer <token>` anywhere
  url        the password of `scheme://user:password@host`
  jwt        JWT-looking strings (eyJ<header>.<payload>.<signature>)
  tokens     vendor tokens known by their shape (AKIA..., ghp_..., xoxb-..., sk_live_...: the
             table and its sources are in secret_patterns.py)
  cookie     the value of a `Cookie:` / `Set-Cookie:` header
  kv         `key=value`, `key: value`, `"key": "value"` whose key ends in password, passwd,
             passphrase, pass (DB_PASS), token, secret, api_key/apikey, access_key, private_key
             or secret_key

In JSON objects (`redact_json`) env entries and annotations are judged by their name as well:
one containing PASS, SECRET, TOKEN, _KEY, CREDENTIAL... hides its value whatever it looks like.

Every hit becomes `[REDACTED]` (the key, scheme or marker around it stays, so a reader still
sees *what* was there) and is counted per rule. Lines with none of the trigger words skip the
regexes entirely: that is what keeps a 200 MB log stream fast.

Text is processed in blocks of whole lines; `Redactor` keeps the only cross-line state (inside
a PEM block), so a log can be fed chunk by chunk as it streams. No I/O here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from warroom.actions.secret_patterns import TOKENS, TokenPattern

__all__ = ["REDACTED", "Redactor", "hide", "redact", "redact_json", "scrub"]

REDACTED = "[REDACTED]"
MIN_EXTRA = 6  # shorter explicit strings would shred ordinary words
MAX_PEM_LINES = 200  # a 16k-bit RSA key is ~100 lines: past this it was no key, stop eating

# Each rule is anchored on a word found with str.find in the ASCII-lower-cased text, and its
# regex is only `match`ed at those places: cost follows the number of hits, not line length.
# A line with none of these words is passed through as is.
_TRIGGERS = (
    "authorization",
    "bearer",
    "eyj",
    "pass",
    "token",
    "secret",
    "key",
    "cookie",
    "-----begin",
)
_URL_TRIGGER = "://"
_URL_CONFIRM = re.compile(r"://[^\s/@]+@")
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

# RSA, EC, OPENSSH, ENCRYPTED, bare PKCS#8, and PGP's "PRIVATE KEY BLOCK"
_PEM_ONE = re.compile(
    r"(-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK|)-----).*?(-----END \2PRIVATE KEY\3-----)"
)
_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END ((?:[A-Z0-9]+ )*)PRIVATE KEY(?: BLOCK)?-----")
_Q = r"""(?:\\?["'])?"""  # an optional quote, maybe JSON-escaped (inside an annotation)
# after "authorization": the separator, an optional scheme, the credential
_AUTH_TAIL = re.compile(
    rf"{_Q}[ \t]*[:=][ \t]*{_Q}(?:[A-Za-z][\w-]*[ \t]+)?(?P<cred>(?!\[REDACTED)[^\s\"'\\,;]+)"
)
_BEARER_TAIL = re.compile(r"[ \t]+(?P<tok>[A-Za-z0-9\-._~+/]{8,}=*)")
_URL_TAIL = re.compile(r"[^\s:/?#@]*:(?P<pw>[^\s@/?#]+)@")
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
# after a key ending in a keyword: the separator and the value
_KV_TAIL = re.compile(
    r"(?:\\?[\"'])?[ \t]*[:=][ \t]*"
    r"(?:(?:Bearer|Basic|Token)[ \t]+)?"
    r"(?P<val>"
    r'\\"(?:[^"\\]|\\(?!"))*\\"'  # \"escaped\" (JSON inside a JSON string)
    r'|"(?:[^"\\]|\\.)*"'  # "quoted"
    r"|'[^'\n]*'"  # 'quoted'
    r"|(?![\[{])[^\s\"'\\,;&})\]]+"  # bare, up to a delimiter
    r")",
    re.IGNORECASE,
)
_COOKIE_TAIL = re.compile(r"""(?:\\?["'])?[ \t]*[:=][ \t]*(?:\\?["'])?(?P<v>[^\r\n"'\\]+)""")
_KEY_PREFIX = re.compile(r"(?:api|access|private|secret)[_-]?$")  # before "key"
_HARMLESS = {"", "null", "none", "nil", "true", "false", "redacted", "<redacted>", "xxx"}


def _lower(s: str) -> str:
    """ASCII letters lowered, nothing else: same length, so indexes map back to `s`."""
    return s.lower() if s.isascii() else s.translate(_ASCII_LOWER)


def _word_char(c: str) -> bool:
    return c.isalnum() or c == "_"


def _looks_secret(token: str) -> bool:
    """`Bearer authentication` is prose; real tokens carry digits, punctuation or mixed case."""
    if any(c.isdigit() or c in "-._~+/=" for c in token):
        return True
    rest = token[1:]
    return any(c.isupper() for c in rest) and any(c.islower() for c in rest)


def _harmless(value: str) -> bool:
    v = value.strip()
    return v.lower() in _HARMLESS or v.startswith(REDACTED) or set(v) <= {"*"}


Span = tuple[int, int] | None  # what to replace with REDACTED


class Redactor:
    """Stateful redactor for one artifact: feed it text in order (whole lines per call; a final
    partial line is fine), read `counts` at the end."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self.counts: Counter[str] = Counter()
        self._in_pem = False
        self._pem_lines = 0
        # Multi-line extras (a PEM from a kubeconfig) are matched line by line.
        lines = (p.strip() for e in extra if e for p in str(e).splitlines())
        parts = {p for p in lines if len(p) >= MIN_EXTRA}
        extras = sorted(parts, key=len, reverse=True)  # longest first: no partial leftovers
        self._extra_re = re.compile("|".join(map(re.escape, extras))) if extras else None
        self._extra_low = [_lower(p) for p in extras]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def in_pem(self) -> bool:
        return self._in_pem

    def checkpoint(self) -> tuple[Counter[str], bool, int]:
        """State to roll back to when redacted text turns out not to be kept (a size cap)."""
        return Counter(self.counts), self._in_pem, self._pem_lines

    def rollback(self, cp: tuple[Counter[str], bool, int]) -> None:
        counts, self._in_pem, self._pem_lines = cp
        self.counts = Counter(counts)

    # ----- public ------------------------------------------------------------------------
    def redact(self, text: str) -> tuple[str, int]:
        """The text with secrets replaced, and how many were replaced by this call."""
        if not text:
            return text, 0
        before = self.total
        low = _lower(text)
        spans = self._candidate_lines(text, low)
        if self._in_pem or "-----begin" in low:
            # Line by line through the PEM state; a line outside a key with no trigger is kept.
            wanted = {start for start, _ in spans}
            out: list[str] = []
            pos = 0
            for line in _LINE.findall(text):  # "\n" only: the offsets of _candidate_lines
                out.append(self._line(line) if self._in_pem or pos in wanted else line)
                pos += len(line)
            return "".join(out), self.total - before
        if not spans:
            return text, 0
        parts: list[str] = []
        pos = 0
        for start, end in spans:
            parts.append(text[pos:start])
            parts.append(self._scrub(text[start:end]))
            pos = end
        parts.append(text[pos:])
        return "".join(parts), self.total - before

    # ----- finding the lines worth a look -------------------------------------------------
    def _candidate_lines(self, text: str, low: str) -> list[tuple[int, int]]:
        """(start, end) of each line holding a trigger, end excluding its newline; sorted."""
        starts: set[int] = set()
        words = [(low, w) for w in (*_TRIGGERS, *self._extra_low)]
        words += [(text, a) for a in _TOKEN_ANCHORS]  # token prefixes are case-sensitive
        for hay, word in words:
            i = hay.find(word)
            while i != -1:
                starts.add(low.rfind("\n", 0, i) + 1)
                e = low.find("\n", i)
                i = hay.find(word, e) if e != -1 else -1  # the rest of this line is covered
        i = low.find(_URL_TRIGGER)
        while i != -1:
            if _URL_CONFIRM.match(low, i):
                starts.add(low.rfind("\n", 0, i) + 1)
            i = low.find(_URL_TRIGGER, i + 3)
        spans = []
        for s in sorted(starts):
            e = low.find("\n", s)
            spans.append((s, len(low) if e == -1 else e))
        return spans

    # ----- one line ----------------------------------------------------------------------
    def _line(self, line: str) -> str:
        """One line (with its newline) through the PEM state machine, then the rules."""
        if self._in_pem:
            self._pem_lines += 1
            m = _PEM_END.search(line)
            if m:
                self._in_pem = False
                return self._scrub(line[m.start() :])
            if self._pem_lines > MAX_PEM_LINES:
                self._in_pem = False
            return ""  # key material: the line goes entirely (its marker is on the BEGIN line)
        nl = "\n" if line.endswith("\n") else ""
        scrubbed = self._scrub(line[:-1] if nl else line)
        m = _PEM_BEGIN.search(scrubbed)
        if m and not _PEM_END.search(scrubbed, m.end()):
            self.counts["pem"] += 1
            if not scrubbed[m.end() :].strip():  # the key follows on the next lines
                self._in_pem, self._pem_lines = True, 0
            return scrubbed[: m.end()] + REDACTED + nl  # (or goes on, escaped, on this one)
        return scrubbed + nl

    def _scrub(self, line: str) -> str:
        """All single-line rules, in order; each looks only where its word is."""
        low = _lower(line)
        if self._extra_re is not None and any(e in low for e in self._extra_low):
            line, n = self._extra_re.subn(REDACTED, line)
            if n:
                self.counts["extra"] += n
                low = _lower(line)
        if "-----begin" in low:
            line, n = _PEM_ONE.subn(lambda m: f"{m[1]}{REDACTED}{m[4]}", line)
            if n:
                self.counts["pem"] += n
                low = _lower(line)
        for tok in TOKENS:
            if tok.prefix in line:
                line = self._token(line, tok)
        low = _lower(line)
        for word, rule, at in _RULES:
            if word in low:
                line, low = self._each(line, low, word, rule, at)
        return line

    def _each(
        self, line: str, low: str, word: str, rule: str, at: Callable[[str, str, int], Span]
    ) -> tuple[str, str]:
        """Replace the span `at` finds at each occurrence of `word`, left to right."""
        i = low.find(word)
        parts: list[str] = []
        pos = 0
        while i != -1:
            span = at(line, low, i)
            if span is not None and span[0] >= pos:
                parts += [line[pos : span[0]], REDACTED]
                pos = span[1]
                self.counts[rule] += 1
            i = low.find(word, max(i + 1, pos))
        if not parts:
            return line, low
        parts.append(line[pos:])
        line = "".join(parts)
        return line, _lower(line)

    def _token(self, line: str, tok: TokenPattern) -> str:
        """Each `tok` at a word start in `line` replaced (its `v` group only, when it has one)."""
        parts: list[str] = []
        pos = 0
        i = line.find(tok.prefix)
        while i != -1:
            m = None if i and _word_char(line[i - 1]) else tok.regex.match(line, i)
            if m is not None:
                s, e = m.span("v") if "v" in tok.regex.groupindex else m.span()
                parts += [line[pos:s], REDACTED]
                pos = e
                self.counts[tok.rule] += 1
            i = line.find(tok.prefix, max(i + 1, pos))
        return "".join([*parts, line[pos:]]) if parts else line

    @staticmethod
    def _cookie_at(line: str, low: str, i: int) -> Span:
        if i and _word_char(low[i - 1]):  # "-" may precede: Set-Cookie
            return None
        m = _COOKIE_TAIL.match(line, i + len("cookie"))
        if m is None or _harmless(m["v"]):
            return None
        s = m.start("v")
        return s, s + len(m["v"].rstrip())

    @staticmethod
    def _auth_at(line: str, low: str, i: int) -> Span:
        if i and _word_char(low[i - 1]):  # "-" may precede: Proxy-Authorization
            return None
        m = _AUTH_TAIL.match(line, i + len("authorization"))
        return m.span("cred") if m else None

    @staticmethod
    def _bearer_at(line: str, low: str, i: int) -> Span:
        if i and _word_char(low[i - 1]):
            return None
        m = _BEARER_TAIL.match(line, i + len("bearer"))
        return m.span("tok") if m and _looks_secret(m["tok"]) else None

    @staticmethod
    def _url_at(line: str, low: str, i: int) -> Span:
        if not i or not low[i - 1].isalnum():  # a scheme comes first
            return None
        m = _URL_TAIL.match(line, i + 3)
        return m.span("pw") if m and m["pw"] != REDACTED else None

    @staticmethod
    def _jwt_at(line: str, low: str, i: int) -> Span:
        if i and _word_char(low[i - 1]):
            return None
        m = _JWT.match(line, i)
        return m.span() if m else None

    @staticmethod
    def _kv_at(line: str, low: str, i: int) -> Span:
        """`i` is a keyword; the key ends with it when a separator follows."""
        if low.startswith("password", i):
            end = i + 8
        elif low.startswith("passwd", i):
            end = i + 6
        elif low.startswith("passphrase", i):
            end = i + 10
        elif low.startswith("pass", i) and not (i and low[i - 1].isalpha()):  # DB_PASS, not bypass
            end = i + 4
        elif low.startswith("token", i):
            end = i + 5
        elif low.startswith("secret", i):
            end = i + 6
        elif low.startswith("key", i) and _KEY_PREFIX.search(low, max(0, i - 8), i):
            end = i + 3
        else:
            return None
        m = _KV_TAIL.match(line, end)
        if m is None:
            return None
        s, e = m.span("val")
        val = m["val"]
        q = 2 if val.startswith('\\"') else 1 if val[:1] in "\"'" else 0
        if _harmless(val[q : len(val) - q]):
            return None
        return s + q, e - q


# (word, rule, where) in the order they run: the header form before a bare Bearer, a JWT before
# the key=value that holds it, so one secret is counted once.
_RULES: tuple[tuple[str, str, Callable[[str, str, int], Span]], ...] = (
    ("authorization", "auth", Redactor._auth_at),
    ("bearer", "bearer", Redactor._bearer_at),
    ("://", "url", Redactor._url_at),
    ("eyj", "jwt", Redactor._jwt_at),
    ("cookie", "cookie", Redactor._cookie_at),
    ("pass", "kv", Redactor._kv_at),
    ("token", "kv", Redactor._kv_at),
    ("secret", "kv", Redactor._kv_at),
    ("key", "kv", Redactor._kv_at),
)


# What the whole-text scan looks for: each prefix holds one of these, so a line with a token is
# found; prefixes of a family share one scan (xoxa- ... xoxe- are "xox"): fewer passes over 5 MB.
_TOKEN_ANCHORS = (
    *("AKIA", "ASIA", "ABIA", "ACCA", "A3T", "gh", "github_pat_", "gl", "xox", "xapp-"),
    *("hooks.slack.com/", "k_live_", "k_test_", "whsec_", "AIza", "npm_", "pypi-AgE", "SK"),
    *("SG.", "AccountKey=", "SharedAccess", "sk-", "hvs."),
)


def hide(text: str, secrets: Iterable[str | None], mark: str = REDACTED) -> str:
    """Only the given secrets replaced (longest first), nothing else touched: for texts whose
    other words must stay as written (an export, a log line, an error from a service)."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, mark)
    return text


def redact(text: str, extra: Iterable[str] = ()) -> tuple[str, int]:
    """Redact a whole text at once: (text, number of secrets replaced)."""
    return Redactor(extra).redact(text)


def scrub(text: str, extra: Iterable[str] = ()) -> str:
    """The one pass every text leaving the store takes (export, update, log, web view)."""
    return Redactor(extra).redact(text)[0]


# ----- structured objects (Kubernetes JSON) ----------------------------------------------
# A name that holds a secret's value (env vars, annotations): *PASS*, *SECRET*, *TOKEN*, *_KEY*
_SECRET_NAME = re.compile(
    r"pass(?:word|wd|phrase)?(?![a-z])|secret|token(?!iz)|credential|cookie"
    r"|(?:^|[_.-]|api|private|access)key(?![a-z])",
    re.IGNORECASE,
)


def _secret_value(name: Any, value: Any) -> bool:
    return (
        isinstance(name, str)
        and isinstance(value, str)
        and bool(_SECRET_NAME.search(name))
        and not _harmless(value)
    )


def _walk(obj: Any, counts: Counter[str]) -> Any:
    if isinstance(obj, dict):
        out = {k: _walk(v, counts) for k, v in obj.items()}
        # env entries: {"name": "DB_PASSWORD", "value": "hunter2"} hide the key in "name"
        if _secret_value(out.get("name"), out.get("value")):
            out["value"] = REDACTED
            counts["env"] += 1
        notes = out.get("annotations")
        if isinstance(notes, dict):  # metadata.annotations: {"example.com/db-pass": "..."}
            for k, v in notes.items():
                if _secret_value(k, v):
                    notes[k] = REDACTED
                    counts["annotation"] += 1
        return out
    if isinstance(obj, list):
        return [_walk(v, counts) for v in obj]
    if isinstance(obj, str) and obj[:1] in "{[" and len(obj) > 2:
        # JSON kept in a string (last-applied-configuration): redact inside, re-encode if hit
        try:
            inner = json.loads(obj)
        except ValueError:
            return obj
        before = sum(counts.values())
        walked = _walk(inner, counts)
        return json.dumps(walked, separators=(",", ":")) if sum(counts.values()) > before else obj
    return obj


def redact_json(obj: Any, redactor: Redactor) -> tuple[str, int]:
    """Pretty JSON of `obj` with env-style name/value secrets hidden, then the text rules.
    The count lands in `redactor.counts` too."""
    before = redactor.total
    counts: Counter[str] = Counter()
    walked = _walk(obj, counts)
    redactor.counts.update(counts)
    text, _ = redactor.redact(json.dumps(walked, indent=2, ensure_ascii=False) + "\n")
    return text, redactor.total - before
