"""The PostgreSQL repository: every incident of one database. Connections give up on a dead
peer in seconds; a database that is unreachable, or whose schema is not the one this warroom
needs, is one clear StoreError."""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from warroom.model import Event, incident_open, utcnow
from warroom.store.errors import IncidentNotFound, StoreError
from warroom.store.ids import check_id, natural_key, next_id
from warroom.store.pg_listen import CHANNEL, DOWN
from warroom.store.pg_schema import describe, require_current
from warroom.store.postgres import PostgresStore, fetch_bodies

log = logging.getLogger(__name__)


def connect(dsn: str, *, timeout: int = 3) -> psycopg.Connection:
    """An autocommit connection that gives up on a dead peer in seconds, not minutes."""
    return psycopg.connect(
        dsn,
        autocommit=True,
        connect_timeout=timeout,
        keepalives=1,
        keepalives_idle=5,
        keepalives_interval=2,
        keepalives_count=2,
        application_name="warroom",
    )


class PostgresRepository:
    """Every incident of one database (an IncidentRepository). `data_dir` still holds the
    evidence bundles and, under spool/, writes waiting for the database."""

    def __init__(self, data_dir: Path | str, dsn: str, spool_dir: Path | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.dsn = dsn
        self.where = describe(dsn)
        self.spool_dir = Path(spool_dir) if spool_dir else self.data_dir / "spool"
        self._checked = False

    def connect(self) -> psycopg.Connection:
        return connect(self.dsn)

    @contextlib.contextmanager
    def _conn(self) -> Iterator[psycopg.Connection]:
        try:
            conn = self.connect()
        except DOWN as exc:
            reason = (str(exc).strip().splitlines() or ["unreachable"])[0]
            raise StoreError(f"cannot reach PostgreSQL at {self.where}: {reason}") from None
        with conn:
            if not self._checked:
                require_current(conn, f"PostgreSQL at {self.where}")
                self._checked = True
            yield conn

    def _taken(self, incident_id: str) -> bool:
        with self._conn() as conn:
            return bool(
                conn.execute("SELECT 1 FROM incidents WHERE id = %s", (incident_id,)).fetchone()
            )

    def new_id(self, prefix: str = "INC", now: datetime | None = None) -> str:
        return next_id(prefix, now or utcnow(), self._taken)

    def create(self, incident_id: str) -> PostgresStore:
        check_id(incident_id)
        with self._conn() as conn:
            cur = conn.execute(
                "INSERT INTO incidents (id) VALUES (%s) ON CONFLICT DO NOTHING", (incident_id,)
            )
            if not cur.rowcount:
                raise FileExistsError(f"{incident_id} exists in {self.where}")
        return PostgresStore(self, incident_id, read_only=False)

    def open(self, incident_id: str, read_only: bool = False) -> PostgresStore:
        check_id(incident_id)
        if not self._taken(incident_id):
            raise IncidentNotFound(incident_id)
        try:
            return PostgresStore(self, incident_id, read_only=read_only)
        except DOWN as exc:
            raise StoreError(f"cannot reach PostgreSQL at {self.where}: {exc}") from None

    def ids(self) -> list[str]:
        with self._conn() as conn:
            rows = conn.execute("SELECT id FROM incidents").fetchall()
        return sorted((r[0] for r in rows), key=natural_key)

    def events_of(self, incident_id: str) -> list[Event]:
        with self._conn() as conn:
            rows = fetch_bodies(conn, incident_id)
        return [Event.from_dict(json.loads(body)) for _, body in rows]

    def newest_open(self) -> str | None:
        for incident_id in reversed(self.ids()):
            try:
                if incident_open(self.events_of(incident_id)):
                    return incident_id
            except (ValueError, KeyError, TypeError) as exc:
                log.warning("skipped incident %s: %s", incident_id, exc)
        return None

    def summary(self, incident_id: str) -> dict[str, Any] | None:
        """The kept summary while it covers the incident's last event (warroom stats)."""
        with self._conn() as conn:
            row = conn.execute(
                "SELECT s.doc FROM summaries s WHERE s.incident_id = %s AND s.last_seq = "
                "(SELECT coalesce(max(seq), 0) FROM events WHERE incident_id = %s)",
                (check_id(incident_id), incident_id),
            ).fetchone()
        return dict(row[0]) if row else None

    def rebuild_summary(
        self, incident_id: str, summarize: Callable[[list[Event]], dict[str, Any]]
    ) -> dict[str, Any]:
        events = self.events_of(check_id(incident_id))
        doc = summarize(events)
        last = events[-1].seq if events else 0
        with self._conn() as conn, conn.transaction():
            conn.execute(
                "INSERT INTO summaries (incident_id, last_seq, doc) VALUES (%s, %s, %s) "
                "ON CONFLICT (incident_id) DO UPDATE SET last_seq = excluded.last_seq, "
                "doc = excluded.doc",
                (incident_id, last, Jsonb(doc)),
            )
        return doc

    def restore(
        self, incident_id: str, events: list[Event], docs: dict[str, dict[str, dict[str, Any]]]
    ) -> PostgresStore:
        """A new incident holding exactly these events (hashes as they are) and documents:
        `warroom store copy`. FileExistsError if the id is taken."""
        check_id(incident_id)
        with self._conn() as conn, conn.transaction():
            cur = conn.execute(
                "INSERT INTO incidents (id) VALUES (%s) ON CONFLICT DO NOTHING", (incident_id,)
            )
            if not cur.rowcount:
                raise FileExistsError(f"{incident_id} exists in {self.where}")
            with conn.cursor() as c:
                c.executemany(
                    "INSERT INTO events (incident_id, seq, origin, kind, body)"
                    " VALUES (%s, %s, %s, %s, %s)",
                    [
                        (incident_id, e.seq, uuid.uuid4().hex, e.kind, json.dumps(e.to_dict()))
                        for e in events
                    ],
                )
                c.executemany(
                    "INSERT INTO docs (incident_id, tbl, key, doc) VALUES (%s, %s, %s, %s)",
                    [
                        (incident_id, t, k, Jsonb(d))
                        for t, kd in docs.items()
                        for k, d in kd.items()
                    ],
                )
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, incident_id))
        return PostgresStore(self, incident_id, read_only=False)
