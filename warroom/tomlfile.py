"""Where in a TOML file: the line of a dotted key, tomllib's error as "line N: ...", and the
deep merge of defaults and a user's file. Used by settings, so errors point at file and line."""

from __future__ import annotations

import re
import tomllib
from typing import Any


def toml_error_line(exc: tomllib.TOMLDecodeError) -> str:
    # tomllib says "Invalid value (at line 7, column 12)"; turn it into "line 7: invalid value".
    msg = str(exc)
    m = re.search(r"\(at line (\d+), column (\d+)\)", msg)
    if m:
        what = msg[: m.start()].strip()
        return f"line {m.group(1)}: {what[:1].lower()}{what[1:]} (column {m.group(2)})"
    return msg


def deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"']+)\s*=")


def toml_line(text: str, dotted_key: str) -> int | None:
    """Best-effort line number of `a.b.c` (or `a.list[2].key`) in a TOML text.

    Good enough for error messages: it follows [table] and [[array]] headers and plain keys.
    """
    parts = dotted_key.split(".")
    # "health.checks[2].query" -> table "health.checks", index 2, key "query"
    index: int | None = None
    table_parts: list[str] = []
    leaf = parts[-1]
    for i, part in enumerate(parts[:-1]):
        m = re.fullmatch(r"(.+)\[(\d+)\]", part)
        if m:
            table_parts = [*parts[:i], m.group(1)]
            index = int(m.group(2))
            leaf = ".".join(parts[i + 1 :])
            break
    else:
        table_parts = parts[:-1]
    m_leaf = re.fullmatch(r"(.+)\[(\d+)\]", leaf)
    if m_leaf and index is None:
        table_parts, index, leaf = [*table_parts, m_leaf.group(1)], int(m_leaf.group(2)), ""

    want_table = ".".join(table_parts)
    current = ""
    seen_array = -1
    table_line: int | None = None
    for n, line in enumerate(text.splitlines(), start=1):
        h = _HEADER.match(line)
        if h:
            current = h.group(2).strip()
            if current == dotted_key:
                return n
            if current == want_table:
                if h.group(1) == "[[":
                    seen_array += 1
                    if index is not None and seen_array == index:
                        table_line = n
                elif index is None:
                    table_line = n
            continue
        k = _KEY.match(line)
        if not k:
            continue
        key = k.group(1).strip("\"'")
        in_table = current == want_table and (index is None or seen_array == index)
        if in_table and key == leaf:
            return n
        # dotted keys written inline: `P0.respond_within = ...` under [severity]
        full = f"{current}.{key}" if current else key
        if full == dotted_key:
            return n
        if not current and want_table == "" and key == leaf:
            return n
    return table_line
