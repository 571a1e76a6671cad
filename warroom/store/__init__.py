"""The store: an incident's hash-chained timeline and its side documents, behind two Protocols.

The use cases (room, outbox, evidence, CLI, console) see only `IncidentStore` and
`IncidentRepository`. TinyDB (tinydb.py, over journal.py) is the embedded single-host
backend; PostgreSQL (postgres.py, pg_repository.py) the shared one for responders on several
hosts; `open_repository` picks the backend.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from warroom.model import Event
from warroom.store.chain import GENESIS, ChainReport, verify_chain
from warroom.store.errors import DamagedIncident, IncidentNotFound, ReadOnlyStore, StoreError
from warroom.store.ids import check_id
from warroom.store.link import StoreLink

__all__ = [
    "GENESIS",
    "ChainReport",
    "DamagedIncident",
    "IncidentNotFound",
    "IncidentRepository",
    "IncidentStore",
    "ReadOnlyStore",
    "StoreError",
    "StoreLink",
    "check_id",
    "open_repository",
    "verify_chain",
]

DocChange = Callable[[dict[str, Any] | None], dict[str, Any] | None]


@runtime_checkable
class IncidentStore(Protocol):
    """One incident: its events (append-only, hash-chained) and side documents (the outbox)."""

    incident_id: str
    read_only: bool

    @property
    def evidence_dir(self) -> Path: ...

    def append(
        self,
        kind: str,
        text: str,
        *,
        actor: str,
        data: dict[str, Any] | None = None,
        ts: datetime | None = None,
    ) -> Event:
        """Add an event at the end of the chain; durable when it returns."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """Exclusive and caught up with every writer: reads inside stay true for the appends
        made inside (how two consoles avoid recording one alert twice)."""
        ...

    def events(self, since_seq: int = 0) -> list[Event]:
        """This object's appends at once; another host's once its notification arrives
        (milliseconds). transaction() is exact."""
        ...

    def refresh(self) -> list[Event]:
        """Events appended by anyone since this object's last refresh()/events()."""
        ...

    def last(self) -> Event | None: ...

    def get_doc(self, table: str, key: str) -> dict[str, Any] | None: ...

    def docs(self, table: str) -> dict[str, dict[str, Any]]: ...

    def put_doc(self, table: str, key: str, doc: dict[str, Any]) -> None: ...

    def update_doc(self, table: str, key: str, change: DocChange) -> dict[str, Any] | None:
        """Read-modify-write of one side document under the exclusive lock."""
        ...

    def put_summary(self, doc: dict[str, Any]) -> None:
        """Keep a summary of the timeline as it is now (warroom/summary.py says what is in it)."""
        ...

    def verify(self) -> ChainReport: ...

    def link(self) -> StoreLink:
        """Whether the data is reachable now, and what waits to be written."""
        ...

    def compact(self) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> IncidentStore: ...

    def __exit__(self, *exc: object) -> None: ...


@runtime_checkable
class IncidentRepository(Protocol):
    """Every incident of a data dir."""

    data_dir: Path

    def new_id(self, prefix: str = "INC", now: datetime | None = None) -> str: ...

    def create(self, incident_id: str) -> IncidentStore:
        """FileExistsError if the id is taken (one of two concurrent creators wins)."""
        ...

    def open(self, incident_id: str, read_only: bool = False) -> IncidentStore:
        """IncidentNotFound, DamagedIncident, or ValueError for an unsafe id."""
        ...

    def ids(self) -> list[str]:
        """Oldest first."""
        ...

    def newest_open(self) -> str | None:
        """The newest unresolved incident (damaged ones skipped), or None."""
        ...

    def restore(
        self, incident_id: str, events: list[Event], docs: dict[str, dict[str, dict[str, Any]]]
    ) -> IncidentStore:
        """A new incident holding exactly these events (their hashes as they are) and side
        documents (`warroom store copy`). FileExistsError if the id is taken."""
        ...

    def summary(self, incident_id: str) -> dict[str, Any] | None:
        """The incident's kept summary, if it still describes the timeline; else None."""
        ...

    def rebuild_summary(
        self, incident_id: str, summarize: Callable[[list[Event]], dict[str, Any]]
    ) -> dict[str, Any]:
        """Summarize the events afresh and keep it (DamagedIncident, StoreError if unreadable)."""
        ...


BACKENDS = ("tinydb", "postgres")


def open_repository(
    data_dir: Path | str,
    backend: str = "tinydb",
    dsn: str | None = None,
    spool_dir: Path | None = None,
) -> IncidentRepository:
    """The incidents of a data dir (TinyDB), or of the database `dsn` names (PostgreSQL)."""
    if backend == "postgres":
        if not dsn:
            raise StoreError("the postgres backend needs a DSN")
        from warroom.store.pg_repository import PostgresRepository

        return PostgresRepository(data_dir, dsn, spool_dir)
    if backend != "tinydb":
        raise StoreError(f"unknown store backend {backend!r}: use tinydb or postgres")
    from warroom.store.tinydb import TinyDBRepository

    return TinyDBRepository(data_dir)
