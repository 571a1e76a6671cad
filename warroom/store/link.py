"""How a store reaches its data: what the console's header says about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class StoreLink:
    backend: str  # "tinydb" or "postgres"
    offline_since: datetime | None = None  # the shared database is unreachable since then
    spooled: int = 0  # events written to the local spool, waiting for the database
    # Bumped when events this process already handed out were replaced (spooled events given
    # their final place in the chain): whoever folded them must fold the timeline again.
    generation: int = 0
