"""Incident ids become file names (and keys elsewhere): nothing path-like gets through."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def check_id(incident_id: Any) -> str:
    """The id itself, or ValueError naming the rule."""
    if (
        not isinstance(incident_id, str)
        or not SAFE_ID.fullmatch(incident_id)
        or ".." in incident_id
    ):
        raise ValueError(
            f"bad incident id {incident_id!r}: use letters, digits, '.', '_' and '-' "
            "(at most 80, no '..'), e.g. INC-20261122-223605"
        )
    return incident_id


def natural_key(incident_id: str) -> list[Any]:
    """INC-20261122-223605-2 sorts before INC-20261122-223605-10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", incident_id)]


def next_id(prefix: str, now: datetime, taken: Callable[[str], bool]) -> str:
    """<prefix>-<UTC time>, with -2, -3... while `taken` says the id is in use."""
    t = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
    base = check_id(f"{prefix}-{t:%Y%m%d-%H%M%S}")
    candidate, n = base, 1
    while taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate
