"""The state of one list + watch stream (pods, workloads, nodes), and its retry pacing."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warroom.model import utcnow


class Expired(Exception):
    """410 Gone: our resourceVersion was compacted away; list again."""


@dataclass
class WatchStats:
    """Counters for tests and benchmarks."""

    lists: int = 0
    watches: int = 0
    expired: int = 0
    errors: int = 0
    events: int = 0
    snapshots: int = 0


class Stream:
    """List + watch of one resource in one namespace (None = all namespaces, or a resource
    without namespaces). Rows are any frozen dataclass with a `uid`."""

    def __init__(self, namespace: str | None, resource: Any = None) -> None:
        """`resource`: a kube_watch.Resource (how to list it, how an object becomes a row)."""
        self.namespace = namespace
        self.resource = resource
        self.rows: dict[str, Any] = {}
        self.unhealthy = 0  # kept as rows come and go: the summary never counts 100k rows
        self.rv = ""
        # The delta since the last snapshot; `full` until the first snapshot has been taken.
        self.full = True
        self.changed: set[str] = set()
        self.removed: set[str] = set()
        self.tried = False  # the first list finished, well or not
        self.listed = False
        self.live = False
        self.stale_since: datetime | None = None
        self.error: str | None = None

    @property
    def label(self) -> str:
        """How an error names this stream: the namespace, with the resource when not pods."""
        where = self.namespace or "all namespaces"
        name = self.resource.name if self.resource else "pods"
        return where if name == "pods" else f"{name} in {where}"

    def put(self, row: Any) -> bool:
        """Store a row; False if it equals what we had (e.g. only an annotation moved)."""
        old = self.rows.get(row.uid)
        if old == row:
            return False
        self.unhealthy += _sick(row) - (old is not None and _sick(old))
        self.rows[row.uid] = row
        self.changed.add(row.uid)
        self.removed.discard(row.uid)
        return True

    def drop(self, uid: str) -> bool:
        old = self.rows.pop(uid, None)
        if old is None:
            return False
        self.unhealthy -= _sick(old)
        self.removed.add(uid)
        self.changed.discard(uid)
        return True

    def replace(self, rows: dict[str, Any]) -> None:
        """A (re)list: the delta against what we had, keeping unchanged rows as they were."""
        for uid in [u for u in self.rows if u not in rows]:
            self.drop(uid)
        for row in rows.values():
            self.put(row)

    def lost(self, error: str) -> None:
        self.tried, self.live, self.error = True, False, error
        if self.listed and self.stale_since is None:
            self.stale_since = utcnow()


def _sick(row: Any) -> bool:
    """Counted in `unhealthy`: a row that says it is not healthy (node and load rows don't)."""
    return not getattr(row, "healthy", True)


class Backoff:
    """Exponential with jitter: 0.5 s, 1 s, 2 s ... capped at `cap`, each times [0.5, 1)."""

    def __init__(self, first: float = 0.5, cap: float = 10.0) -> None:
        self.first, self.cap, self.n = first, cap, 0

    def next(self) -> float:
        delay = min(self.cap, self.first * 2**self.n)
        self.n += 1
        return delay * random.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.n = 0
