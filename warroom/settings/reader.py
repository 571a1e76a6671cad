"""Typed reading of the merged settings: every value checked where it is read, every error
naming file, line and key, and every key of the user's file accounted for."""

from __future__ import annotations

import difflib
import math
import re
from datetime import timedelta
from typing import Any

from warroom.destinations import url_problem
from warroom.model import parse_duration
from warroom.tomlfile import toml_line


class SettingsError(ValueError):
    """A broken settings file or value. str() is the one line the user sees."""


def error(source: str, line: int | None, key: str, problem: str) -> SettingsError:
    where = f"{source}:{line}" if line else source
    return SettingsError(f"{where}: {key}: {problem}")


_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")
PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,19}")


def env_bool(name: str, value: str) -> bool:
    """A boolean from the environment: a typo must not quietly mean "no"."""
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise SettingsError(f"${name}: expected true or false (or 1/0, yes/no), got {value!r}")


def _leaves(doc: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key, value in doc.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out += _leaves(value, path + ".")
        else:
            out.append(path)
    return out


def refuse_unknown(user: dict[str, Any], r: Reader) -> None:
    """Every key of the user's file must be one warroom reads: a misspelled `readonly` or
    `[promethues]` would otherwise be ignored without a word (and leave a console
    read-write). The error names file, line, key and the nearest valid key."""
    whole = {k[:-2] for k in r.read if k.endswith(".*")}
    known = {k for k in r.read if not k.endswith(".*")}
    for path in _leaves(user):
        if path in known or any(path == w or path.startswith(w + ".") for w in whole):
            continue
        if any(k.startswith(path + ".") for k in known):
            continue  # an empty table of known keys
        near = difflib.get_close_matches(path, sorted(known | whole), n=1, cutoff=0.6)
        hint = f" (did you mean {near[0]}?)" if near else ""
        raise r.fail(path, f"unknown setting{hint}")


_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMG]i?B|B)?", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}


class Reader:
    """Typed access to the merged settings with errors that point at the file and line."""

    def __init__(self, data: dict[str, Any], source: str, text: str) -> None:
        self.data = data
        self.source = source
        self.text = text
        self.read: set[str] = set()  # every key asked for: what the file may contain

    def table(self, key: str) -> Any:
        """A table handed whole to its own parser (health, notify, keymap), which checks its
        keys itself."""
        self.read.add(key + ".*")
        return self.get(key)

    def fail(self, key: str, problem: str) -> SettingsError:
        line = toml_line(self.text, key) if self.text else None
        return error(self.source, line, key, problem)

    def get(self, key: str, default: Any = None) -> Any:
        self.read.add(key)
        node: Any = self.data
        parts = key.split(".")
        for i, part in enumerate(parts):
            if not isinstance(node, dict):  # `prometheus = 5` where [prometheus] belongs
                parent = ".".join(parts[:i])
                raise self.fail(parent, f"expected a table [{parent}], got {node!r}")
            if part not in node:
                return default
            node = node[part]
        return node

    def str_(self, key: str, default: str | None = None) -> str | None:
        value = self.get(key, default)
        if value is not None and not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {type(value).__name__}")
        return value

    def bool_(self, key: str, default: bool) -> bool:
        value = self.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {value!r}")
        return value

    def number(self, key: str, default: float) -> float:
        value = self.get(key, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise self.fail(key, f"expected a positive number, got {value!r}")
        return float(value)

    def url(self, key: str) -> str | None:
        """An http(s) URL with a host: anything else is a typo now, not an outage later."""
        value = self.str_(key)
        if value is None or not value.strip():
            return None
        problem = url_problem(value.strip())
        if problem:
            raise self.fail(key, f"{problem}, got {value!r}")
        return value.strip()

    def whole(self, key: str, default: int, at_most: int | None = None) -> int:
        value = self.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(key, f"expected a positive whole number, got {value!r}")
        if at_most is not None and value > at_most:
            raise self.fail(key, f"expected at most {at_most:,}, got {value:,}")
        return value

    def size(self, key: str, default: int, at_most: int | None = None) -> int:
        """Bytes: a whole number, or a string such as "5MiB", "512KiB", "2MB"."""
        value = self.get(key, default)
        if isinstance(value, str):
            m = _SIZE.fullmatch(value.strip())
            if not m:
                raise self.fail(key, f'expected a size such as "5MiB", got {value!r}')
            value = int(float(m.group(1)) * _SIZE_UNITS[(m.group(2) or "b").lower()])
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(key, f"expected a positive size in bytes, got {value!r}")
        if at_most is not None and value > at_most:
            raise self.fail(key, f"expected at most {at_most:,} bytes, got {value:,}")
        return value

    def duration(self, key: str, default: str | None = None) -> timedelta:
        value = self.get(key, default)
        if value is None:
            raise self.fail(key, "missing duration")
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise self.fail(key, str(exc)) from None

    def str_list(self, key: str) -> tuple[str, ...]:
        value = self.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "expected a list of strings")
        return tuple(value)
