"""Typed, bounded reads of a document loaded by yaml_lines, shared by the scenario, objectives
and script parsers. Every failure is one line, `file:line: key: problem`, of the caller's error
type; the line comes from the key path, so call sites only name the key."""

from __future__ import annotations

import builtins
import difflib
import math
import re
import reprlib
from collections.abc import Callable, Collection, Iterable
from typing import Any

from warroom.drill.yaml_lines import line_of
from warroom.model import parse_duration

# Kubernetes object names (DNS subdomain, RFC 1123) and namespaces (DNS label).
_NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
MAX_NAME_LEN, MAX_LABEL_LEN = 253, 63


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the nearest option, or nothing if none is near."""
    opts = sorted(set(options))
    close = difflib.get_close_matches(word, opts, n=1, cutoff=0.7)
    # Swapped letters ("akc") score low on similarity but are the commonest slip of all.
    close = close or [o for o in opts if len(word) > 2 and sorted(o) == sorted(word)][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""


def suggest(word: str, options: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the nearest option, else the options themselves."""
    opts = sorted(set(options))
    close = did_you_mean(word, opts)
    if close:
        return close
    if not opts:
        return ""
    shown = ", ".join(opts[:20]) + (", ..." if len(opts) > 20 else "")
    return f" (known: {shown})"


def one_line(text: str) -> str:
    """Control characters (a newline in a key or a file name) escaped: one inert line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


_SHORT = reprlib.Repr()  # keyword arguments arrive in Python 3.12
_SHORT.maxlevel, _SHORT.maxstring, _SHORT.maxother, _SHORT.maxlist, _SHORT.maxdict = 3, 60, 60, 4, 4


def shown(v: Any) -> str:
    """A value for an error message: short and shallow (a list nested 900 deep, or an alias
    bomb, must not become a megabyte or a RecursionError)."""
    text = _SHORT.repr(v)
    return text if len(text) <= 60 else text[:57] + "..."


class FieldReader:
    """Reads fields of the mappings and lists of one document, failing with file and line."""

    def __init__(self, source: str, root: Any, error: Callable[[str], Exception]) -> None:
        self.source, self.root, self.error = source, root, error

    def fail(self, key: str, problem: str) -> Exception:
        where = f"{self.source}:{line_of(self.root, key)}"
        shown_key = key if len(key) <= 100 else key[:97] + "..."
        return self.error(
            one_line(f"{where}: {shown_key}: {problem}" if key else f"{where}: {problem}")
        )

    @staticmethod
    def at(key: str, name: str) -> str:
        return f"{key}.{name}" if key else name

    # --- containers ------------------------------------------------------------------------

    def map(self, v: Any, key: str) -> dict[str, Any]:
        if v is None:
            return {}
        if not isinstance(v, dict):
            raise self.fail(key, f"must be a mapping, got {_kind(v)}")
        return v

    def list(self, v: Any, key: str, *, most: int | None = None) -> list[Any]:
        if v is None:
            return []
        if not isinstance(v, list):
            raise self.fail(key, f"must be a list, got {_kind(v)}")
        if most is not None and len(v) > most:
            raise self.fail(key, f"has {len(v)} items; the limit is {most}")
        return v

    def known(self, d: dict[str, Any], allowed: Collection[str], key: str) -> None:
        for k in d:
            if k not in allowed:
                raise self.fail(self.at(key, k), "unknown key" + suggest(k, allowed))

    def one_of_keys(self, d: dict[str, Any], kinds: Collection[str], key: str) -> str:
        """The single key of `kinds` present in `d` (an action, a trigger, a rule)."""
        present = [k for k in kinds if k in d]
        if len(present) != 1:
            found = f"found {', '.join(present)}" if present else "found none"
            raise self.fail(key, f"needs exactly one of {', '.join(kinds)}; {found}")
        return present[0]

    # --- scalars ---------------------------------------------------------------------------

    def scalar_text(self, v: Any, key: str) -> str:
        """A string; a number is accepted as its text (`image: 1.25` is an easy slip)."""
        if isinstance(v, str):
            return v
        if isinstance(v, int) and not isinstance(v, bool):
            return str(v)
        if isinstance(v, float) and math.isfinite(v):
            return str(v)
        raise self.fail(key, f"must be a string, got {_kind(v)}")

    def text(
        self,
        d: dict[str, Any],
        name: str,
        key: str,
        default: str | None = None,
        *,
        empty: bool = True,
    ) -> str:
        v = _get(d, name, default)
        k = self.at(key, name)
        if v is None:
            raise self.fail(k, "is required")
        s = self.scalar_text(v, k)
        if not empty and not s.strip():
            raise self.fail(k, "must not be empty")
        return s

    def number(
        self,
        d: dict[str, Any],
        name: str,
        key: str,
        default: float | None = None,
        *,
        lo: float | None = None,
        hi: float | None = None,
    ) -> float:
        v = _get(d, name, default)
        return self.finite(v, self.at(key, name), lo=lo, hi=hi)

    def finite(
        self, v: Any, key: str, *, lo: float | None = None, hi: float | None = None
    ) -> float:
        if v is None:
            raise self.fail(key, "is required")
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise self.fail(key, f"must be a number, got {_kind(v)}")
        try:
            x = float(v)
        except OverflowError:  # an int too large for a float
            limit = f" (at most {hi:g})" if hi is not None and v > 0 else ""
            raise self.fail(key, f"{shown(v)} is out of range{limit}") from None
        if not math.isfinite(x):
            raise self.fail(key, f"must be a finite number, got {v}")
        if lo is not None and x < lo:
            raise self.fail(key, f"must be at least {lo:g}, got {x:g}")
        if hi is not None and x > hi:
            raise self.fail(key, f"must be at most {hi:g}, got {x:g}")
        return x

    def count(
        self, d: dict[str, Any], name: str, key: str, default: int | None, *, hi: int, lo: int = 0
    ) -> int:
        v = _get(d, name, default)
        return self.whole(v, self.at(key, name), hi=hi, lo=lo)

    def whole(self, v: Any, key: str, *, hi: int, lo: int = 0) -> int:
        if v is None:
            raise self.fail(key, "is required")
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(key, f"must be a whole number, got {_kind(v)}")
        if v < lo:
            raise self.fail(key, f"must be at least {lo}, got {v}")
        if v > hi:
            raise self.fail(key, f"{shown(v)} is over the limit of {hi}")
        return v

    def duration(self, v: Any, key: str, *, hi: float) -> float:
        """Seconds, from a number or text such as 90s, 15m, 1h30m, 2d."""
        if isinstance(v, int | float) and not isinstance(v, bool):
            return self.finite(v, key, lo=0, hi=hi)
        if not isinstance(v, str):
            raise self.fail(key, f"must be a duration such as 90s or 1h30m, got {_kind(v)}")
        try:
            seconds = parse_duration(v).total_seconds()
        except OverflowError:  # "99999999999999d": beyond timedelta
            raise self.fail(key, f"{shown(v)} is too long (at most {hi:g} seconds)") from None
        except ValueError:  # "soon", "1.2.3s"
            raise self.fail(
                key, f"{shown(v)} is not a duration (use e.g. 90s, 15m, 1h30m, 2d)"
            ) from None
        if seconds > hi:
            raise self.fail(key, f"must be at most {hi:g} seconds, got {shown(v)}")
        return seconds

    def flag(self, d: dict[str, Any], name: str, key: str, default: bool) -> bool:
        v = _get(d, name, default)
        if not isinstance(v, bool):
            raise self.fail(self.at(key, name), f"must be true or false, got {_kind(v)}")
        return v

    def choice(self, v: Any, options: Collection[str], key: str, what: str = "value") -> str:
        s = self.scalar_text(v, key)
        if s not in options:
            raise self.fail(key, f"unknown {what} {shown(s)}" + suggest(s, options))
        return s

    def option(
        self,
        d: dict[str, Any],
        name: str,
        key: str,
        options: Collection[str],
        default: str | None = None,
        what: str = "value",
    ) -> str:
        """A field whose value is one of `options` (a kind, a direction, a known reference)."""
        v = _get(d, name, default)
        k = self.at(key, name)
        if v is None:
            raise self.fail(k, "is required")
        return self.choice(v, options, k, what)

    # --- names and labels ------------------------------------------------------------------

    def name(self, d: dict[str, Any], key: str, field: str = "name") -> str:
        n = self.text(d, field, key)
        k = self.at(key, field)
        if len(n) > MAX_NAME_LEN:
            raise self.fail(k, f"is {len(n)} characters; a Kubernetes name has at most 253")
        if not _NAME_RE.match(n):
            raise self.fail(
                k, f"{shown(n)} is not a valid Kubernetes name (lower case, digits, '-' and '.')"
            )
        return n

    def dns_label(self, v: str, key: str) -> str:
        if len(v) > MAX_LABEL_LEN or not _LABEL_RE.match(v):
            raise self.fail(
                key, f"{shown(v)} is not a valid DNS label (lower case, digits, '-'; at most 63)"
            )
        return v

    def strings(self, v: Any, key: str) -> dict[str, str]:
        """A mapping of names to scalar values (labels, annotations), as strings."""
        out = {}
        for k, x in self.map(v, key).items():
            if isinstance(x, bool):
                out[k] = "true" if x else "false"
            else:
                out[k] = self.scalar_text(x, self.at(key, k))
        return out

    def unique(self, names: builtins.list[tuple[str, str]], what: str) -> None:
        """`names` are (name, key) pairs; the second use of a name fails at its key."""
        first: dict[str, str] = {}
        for n, k in names:
            if n in first:
                raise self.fail(k, f"duplicate {what} {shown(n)} (first at {first[n]})")
            first[n] = k


def _get(d: dict[str, Any], name: str, default: Any) -> Any:
    """An optional field's value; an explicit null (`title:` left empty) means the default."""
    v = d.get(name)
    return default if v is None else v


def _kind(v: Any) -> str:
    if v is None:
        return "nothing (null)"
    if isinstance(v, bool):
        return f"a boolean ({str(v).lower()})"
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, int | float):
        return f"a number ({shown(v)})"
    if isinstance(v, str):
        return f"a string ({shown(v)})"
    return f"a {type(v).__name__} ({shown(v)})"
