"""Cells and column definitions shared by the Table printers (meta.k8s.io/v1 Table)."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from warroom.drill.openapi import definitions


def parse_ts(s: str | None) -> datetime | None:
    if not s:
        return None
    return datetime.fromisoformat(s.replace("Z", "+00:00"))


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    m = s // 60
    if m < 10:
        return f"{m}m{s % 60}s" if s % 60 else f"{m}m"
    if m < 180:
        return f"{m}m"
    h = s // 3600
    if h < 8:
        return f"{h}h{m % 60}m" if m % 60 else f"{h}h"
    if h < 48:
        return f"{h}h"
    if h < 24 * 8:
        return f"{h // 24}d{h % 24}h" if h % 24 else f"{h // 24}d"
    if h < 24 * 365 * 2:
        return f"{h // 24}d"
    if h < 24 * 365 * 8:
        dy = (h // 24) % 365
        return f"{h // 24 // 365}y{dy}d" if dy else f"{h // 24 // 365}y"
    return f"{h // 24 // 365}y"


def age(ts: str | None, now: datetime) -> str:
    t = parse_ts(ts)
    return "<unknown>" if t is None else human_duration((now - t).total_seconds())


def col(
    name: str, typ: str = "string", priority: int = 0, fmt: str = "", desc: str = ""
) -> dict[str, Any]:
    return {
        "name": name,
        "type": typ,
        "format": fmt,
        "description": desc or name,
        "priority": priority,
    }


NAME = col("Name", fmt="name", desc="Name must be unique within a namespace.")
AGE = col(
    "Age",
    desc="CreationTimestamp is a timestamp representing the server time when this object was "
    "created.",
)


@functools.cache
def doc(definition: str, field: str) -> str:
    """A field's description as the API's OpenAPI gives it (what the printers' SwaggerDoc says)."""
    props = definitions()[definition].get("properties") or {}
    return str(props.get(field, {}).get("description", field))


def first_three(items: list[str]) -> str:
    """The printers' list cell: up to three items, then how many more."""
    if not items:
        return "<none>"
    out = ",".join(items[:3])
    return out + (f" + {len(items) - 3} more..." if len(items) > 3 else "")
