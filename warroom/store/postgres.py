"""The PostgreSQL backend (psycopg 3): one database shared by the responders' hosts.

Same semantics as the TinyDB store: one total order of events per incident, hash-chained (the
exact JSON that was hashed is kept in `body`), appends serialised per incident by a
transaction-scoped advisory lock, side documents changed in place (`update_doc` claims a row
with FOR UPDATE SKIP LOCKED, so one outbox item is sent by one host), and live follow through
LISTEN/NOTIFY: every append notifies channel `warroom_events` with the incident id, and a
listener thread per open store marks it stale, so refresh() only queries when something came.

Offline: writes go to the local spool (spool.py) with provisional numbers, reads come from what
was seen, link() says since when; refresh() retries once a second; back online the spool is
replayed in order under the incident's lock between two events that record the gap, and the
generation is bumped so the room folds the timeline again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from warroom.model import Event, event_hash, format_ts, utcnow
from warroom.store.chain import GENESIS, ChainReport, verify_chain
from warroom.store.errors import ReadOnlyStore, StoreError
from warroom.store.ids import check_id
from warroom.store.link import StoreLink
from warroom.store.pg_listen import CHANNEL, DOWN, RETRY_EVERY, Listener
from warroom.store.pg_schema import LOCK_CLASS
from warroom.store.spool import Spool, batches, moved_docs, replay_batch

log = logging.getLogger(__name__)
RECHECK_EVERY = 5.0  # with a live listener, query anyway this often (a lost notification)
_HOST = socket.gethostname()


def fetch_bodies(conn: psycopg.Connection, incident_id: str) -> list[tuple[int, str]]:
    """(seq, exact JSON) of an incident's events, in order: what verify reads."""
    return conn.execute(
        "SELECT seq, body FROM events WHERE incident_id = %s ORDER BY seq", (incident_id,)
    ).fetchall()


def body_of(seq: int, prev: str, kind: str, text: str, actor: str, data: Any, ts: str) -> dict:
    body = {"seq": seq, "ts": ts, "actor": actor, "kind": kind, "text": text, "data": data}
    body["prev"] = prev
    return {**body, "hash": event_hash(body)}


class PostgresStore:
    """One incident in PostgreSQL (an IncidentStore). Thread-safe: one connection under a
    lock, plus the listener's."""

    def __init__(self, repo: Any, incident_id: str, read_only: bool) -> None:
        self.incident_id = check_id(incident_id)
        self.repo = repo
        self.read_only = read_only
        self._mutex = threading.RLock()
        self._conn: psycopg.Connection | None = repo.connect()
        self._depth = 0  # nesting of _locked() in the thread holding the mutex
        self._pending: list[tuple[Event, str]] = []  # appended in the open transaction
        self._events: list[Event] = []
        self._docs: dict[str, dict[str, dict[str, Any]]] = {}  # as last seen (offline reads)
        self._delivered = 0
        self._provisional: dict[int, str] = {}  # spooled seq -> origin, until replayed
        self._offline_since: datetime | None = None
        self._batch = ""
        self._next_try = 0.0
        self._generation = 0
        self.spool = Spool(repo.spool_dir, incident_id)
        self._listener = Listener(repo.connect, incident_id)
        self._checked = 0.0
        with self._mutex:
            self._catch_up()
            if not read_only and self.spool.records():  # left by a process that went away
                try:
                    self._replay()
                except DOWN as exc:
                    self._go_offline(exc)

    # ----- the connection --------------------------------------------------------------------
    def _db(self) -> psycopg.Connection:
        if self._conn is None:
            raise psycopg.OperationalError("offline")
        return self._conn

    def _go_offline(self, exc: BaseException) -> None:
        if self._offline_since is None:
            self._offline_since = utcnow()
            self._batch = uuid.uuid4().hex
            log.warning("%s: database unreachable, spooling: %s", self.incident_id, exc)
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None
        self._next_try = time.monotonic() + RETRY_EVERY

    def _try_online(self) -> None:
        """Offline and due: reconnect, replay the spool, fold the timeline again."""
        if self._conn is not None or self._depth or time.monotonic() < self._next_try:
            return
        try:
            self._conn = self.repo.connect()
        except DOWN:
            self._next_try = time.monotonic() + RETRY_EVERY
            return
        try:
            if not self.read_only:
                self._replay()
            self._rollback_provisional()
            self._catch_up()
        except DOWN as exc:
            self._go_offline(exc)
            return
        log.warning("%s: database back (offline since %s)", self.incident_id, self._offline_since)
        self._offline_since = None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[psycopg.Connection | None]:
        """The mutex and, online, a transaction holding the incident's advisory lock, caught
        up with every writer. Yields the connection, or None while offline."""
        with self._mutex:
            if self._depth:
                self._depth += 1
                try:
                    yield self._conn
                finally:
                    self._depth -= 1
                return
            self._try_online()
            conn = self._conn
            if conn is not None:
                try:
                    conn.execute("BEGIN")
                    conn.execute(
                        "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                        (LOCK_CLASS, self.incident_id),
                    )
                    self._catch_up()
                except DOWN as exc:
                    self._go_offline(exc)
                    conn = None
            self._depth = 1
            try:
                yield conn
            finally:
                # Appends are kept even when the block raised afterwards (each is durable).
                self._depth = 0
                self._commit(conn)

    def _commit(self, conn: psycopg.Connection | None) -> None:
        if conn is None:
            return
        try:
            if self._conn is not conn:
                raise psycopg.OperationalError("connection lost during the transaction")
            conn.execute("COMMIT")
            self._pending.clear()
        except DOWN as exc:  # the commit may or may not have landed
            self._go_offline(exc)
            self._spool_pending()  # their origins make the replay skip what did land

    # ----- writing -------------------------------------------------------------------------
    def _writable(self) -> None:
        if self.read_only:
            raise ReadOnlyStore(f"{self.incident_id} is open read-only")

    def append(
        self,
        kind: str,
        text: str,
        *,
        actor: str,
        data: dict[str, Any] | None = None,
        ts: datetime | None = None,
    ) -> Event:
        """Add an event at the end of the chain: committed (or spooled and fsynced) when the
        outermost transaction returns."""
        self._writable()
        stamp = format_ts(ts or utcnow())
        payload = json.loads(json.dumps(dict(data or {})))
        origin = uuid.uuid4().hex
        with self._locked() as conn:
            last = self._events[-1] if self._events else None
            doc = body_of(
                (last.seq + 1) if last else 1,
                last.hash if last else GENESIS,
                str(kind),
                str(text),
                str(actor),
                payload,
                stamp,
            )
            ev = Event.from_dict(doc)
            if conn is not None:
                try:
                    self._insert(conn, ev, origin)
                    self._pending.append((ev, origin))
                except DOWN as exc:
                    self._go_offline(exc)
                    conn = None
            if conn is None:
                self._spool_event(ev, origin)
            self._events.append(ev)
            return ev

    def _insert(self, conn: psycopg.Connection, ev: Event, origin: str) -> bool:
        """False when an event with this origin is in the database already (a replay)."""
        cur = conn.execute(
            "INSERT INTO events (incident_id, seq, origin, kind, body) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (origin) DO NOTHING",
            (self.incident_id, ev.seq, origin, ev.kind, json.dumps(ev.to_dict())),
        )
        if cur.rowcount:
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, self.incident_id))
        return bool(cur.rowcount)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Exclusive across hosts (the advisory lock) and caught up with every writer; while
        offline, exclusive within this process only."""
        self._writable()
        with self._locked():
            yield

    def put_doc(self, table: str, key: str, doc: dict[str, Any]) -> None:
        self._writable()
        if table == "events":
            raise StoreError("events are appended, never put")
        stored = json.loads(json.dumps(dict(doc)))
        with self._locked() as conn:
            if conn is not None:
                try:
                    self._upsert(conn, table, str(key), stored)
                except DOWN as exc:
                    self._go_offline(exc)
                    conn = None
            if conn is None:
                self._spool_write({"type": "doc", "table": table, "key": str(key), "doc": stored})
            self._docs.setdefault(table, {})[str(key)] = stored

    def _upsert(self, conn: psycopg.Connection, table: str, key: str, doc: dict) -> None:
        conn.execute(
            "INSERT INTO docs (incident_id, tbl, key, doc) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (incident_id, tbl, key) DO UPDATE SET doc = EXCLUDED.doc",
            (self.incident_id, table, key, Jsonb(doc)),
        )

    def update_doc(
        self,
        table: str,
        key: str,
        change: Callable[[dict[str, Any] | None], dict[str, Any] | None],
    ) -> dict[str, Any] | None:
        """Read-modify-write of one side document, its row locked FOR UPDATE SKIP LOCKED: a
        row another host holds this instant is left to it (None, as when `change` declines).
        Offline, nothing is changed (None): claims need the database."""
        self._writable()
        if table == "events":
            raise StoreError("events are appended, never put")
        with self._mutex:
            self._try_online()
            conn = self._conn
            if conn is None:
                return None
            try:
                if self._depth:  # inside transaction(): its BEGIN holds
                    return self._update_row(conn, table, str(key), change)
                with conn.transaction():
                    return self._update_row(conn, table, str(key), change)
            except DOWN as exc:
                self._go_offline(exc)
                return None

    def _update_row(self, conn: psycopg.Connection, table: str, key: str, change: Any) -> Any:
        args = (self.incident_id, table, key)
        where = "incident_id = %s AND tbl = %s AND key = %s"
        row = conn.execute(f"SELECT doc FROM docs WHERE {where} FOR UPDATE SKIP LOCKED", args)
        found = row.fetchone()
        if found is None and conn.execute(f"SELECT 1 FROM docs WHERE {where}", args).fetchone():
            return None  # held by another host's transaction right now
        new = change(found[0] if found else None)
        if new is None:
            return None
        stored = json.loads(json.dumps(dict(new)))
        if found:
            conn.execute(f"UPDATE docs SET doc = %s WHERE {where}", (Jsonb(stored), *args))
        else:
            cur = conn.execute(
                "INSERT INTO docs (incident_id, tbl, key, doc) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT DO NOTHING",
                (*args, Jsonb(stored)),
            )
            if not cur.rowcount:
                return None  # created by another host meanwhile
        self._docs.setdefault(table, {})[key] = stored
        return stored

    # ----- the spool -------------------------------------------------------------------------
    def _spool_write(self, record: dict[str, Any]) -> None:
        since = format_ts(self._offline_since or utcnow())
        self.spool.write({**record, "batch": self._batch, "since": since, "host": _HOST})

    def _spool_event(self, ev: Event, origin: str) -> None:
        rec = {k: v for k, v in ev.to_dict().items() if k not in ("prev", "hash")}
        self._spool_write({"type": "event", "origin": origin, **rec})
        self._provisional[ev.seq] = origin

    def _spool_pending(self) -> None:
        for ev, origin in self._pending:
            self._spool_event(ev, origin)
        self._pending.clear()

    def _rollback_provisional(self) -> None:
        if self._provisional:
            first = min(self._provisional)
            self._events = [e for e in self._events if e.seq < first]
            self._delivered = min(self._delivered, first - 1)
            self._provisional.clear()
            self._generation += 1

    def _replay(self) -> None:
        """Append what the spool holds, in order, between two system events (online, mutex
        held). The file is emptied only after the database committed."""
        conn = self._db()
        with self.spool.draining() as records:
            if not records:
                return
            saved = (list(self._events), dict(self._provisional), self._delivered)
            conn.execute("BEGIN")
            try:
                conn.execute(
                    "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
                    (LOCK_CLASS, self.incident_id),
                )
                self._rollback_provisional()
                self._catch_up()
                for batch in batches(records):
                    moved = replay_batch(batch, partial(self._append_raw, conn))
                    for table, key, doc in moved_docs(batch, moved):
                        self._upsert(conn, table, key, doc)
                        self._docs.setdefault(table, {})[key] = doc
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(*DOWN):
                    conn.execute("ROLLBACK")
                self._events, self._provisional, self._delivered = saved
                raise
        self._generation += 1

    def _append_raw(self, conn: psycopg.Connection, rec: dict[str, Any], origin: str) -> int:
        """Replay one event at the head; returns its final seq (the existing one if its
        origin landed before)."""
        found = conn.execute("SELECT seq FROM events WHERE origin = %s", (origin,)).fetchone()
        if found:
            return int(found[0])
        last = self._events[-1] if self._events else None
        doc = body_of(
            (last.seq + 1) if last else 1,
            last.hash if last else GENESIS,
            str(rec["kind"]),
            str(rec["text"]),
            str(rec["actor"]),
            rec.get("data") or {},
            str(rec["ts"]),
        )
        ev = Event.from_dict(doc)
        self._insert(conn, ev, origin)
        self._events.append(ev)
        return ev.seq

    # ----- reading ---------------------------------------------------------------------------
    def _catch_up(self) -> None:
        """Events committed by anyone after our last one (mutex held, online)."""
        if self._conn is None:
            return
        try:
            self._listener.stale.clear()
            head = self._events[-1].seq if self._events else 0
            rows = self._conn.execute(
                "SELECT body FROM events WHERE incident_id = %s AND seq > %s ORDER BY seq",
                (self.incident_id, head),
            ).fetchall()
        except DOWN as exc:
            self._go_offline(exc)
            return
        self._checked = time.monotonic()
        for (body,) in rows:
            try:
                self._events.append(Event.from_dict(json.loads(body)))
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # verify() names it

    def _follow(self) -> None:
        with self._mutex:
            if self._conn is None:
                self._try_online()
                return
            live = self._listener.live and time.monotonic() - self._checked < RECHECK_EVERY
            if self._listener.stale.is_set() or not live:
                self._catch_up()

    def events(self, since_seq: int = 0) -> list[Event]:
        with self._mutex:
            self._follow()
            if self._events:
                self._delivered = max(self._delivered, self._events[-1].seq)
            return [e for e in self._events if e.seq > since_seq]

    def refresh(self) -> list[Event]:
        """Events appended by anyone since the last refresh()/events(). Starts the listener."""
        self._listener.start()
        with self._mutex:
            self._follow()
            new = [e for e in self._events if e.seq > self._delivered]
            if new:
                self._delivered = new[-1].seq
            return new

    def last(self) -> Event | None:
        with self._mutex:
            self._follow()
            return self._events[-1] if self._events else None

    def put_summary(self, doc: dict[str, Any]) -> None:  # kept on demand: repository.summary
        pass

    def docs(self, table: str) -> dict[str, dict[str, Any]]:
        with self._mutex:
            self._try_online()
            if self._conn is not None:
                try:
                    rows = self._conn.execute(
                        "SELECT key, doc FROM docs WHERE incident_id = %s AND tbl = %s",
                        (self.incident_id, table),
                    ).fetchall()
                    self._docs[table] = {str(k): d for k, d in rows}
                except DOWN as exc:
                    self._go_offline(exc)
            return json.loads(json.dumps(self._docs.get(table, {})))

    def get_doc(self, table: str, key: str) -> dict[str, Any] | None:
        return self.docs(table).get(str(key))

    def link(self) -> StoreLink:
        with self._mutex:
            return StoreLink(
                "postgres", self._offline_since, len(self._provisional), self._generation
            )

    @property
    def evidence_dir(self) -> Path:
        path = self.repo.data_dir / "incidents" / f"{self.incident_id}.evidence"
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path

    def verify(self) -> ChainReport:
        """Recompute the chain from the database (not from memory)."""
        with self._mutex:
            try:
                rows = fetch_bodies(self._db(), self.incident_id)
            except DOWN as exc:
                raise StoreError(f"{self.incident_id}: cannot verify offline ({exc})") from None
        docs, keys = [], []
        for seq, body in rows:
            try:
                docs.append(json.loads(body))
            except ValueError:
                docs.append(None)
            keys.append(seq)
        return verify_chain(docs, keys)

    # ----- closing -----------------------------------------------------------------------------
    def compact(self) -> None:
        """Nothing to fold: PostgreSQL keeps its own files."""

    def close(self) -> None:
        self._listener.stop()
        with self._mutex:
            if self._conn is not None:
                with contextlib.suppress(Exception):
                    self._conn.close()
                self._conn = None

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
