"""The TinyDB backend: one TinyDB file per incident, crash-safe, flat append cost, many writers.

Files of incident <id>, in <data_dir>/incidents/: `<id>.json`, `<id>.journal` and `<id>.lock`
(see journal.py), and `<id>.evidence/` for collected evidence (mode 0700, created on first use).

Events live in the table "events" with doc_id == seq and are hash-chained (chain.py). The store
has no update or delete of events: an edit is a new event. Side documents (the outbox) live in
other tables and are changed under the same lock, read-modify-write (update_doc).
"""

from __future__ import annotations

import bisect
import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from datetime import datetime
from operator import attrgetter
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB
from tinydb.table import Table

from warroom.model import Event, event_hash, format_ts, incident_open, utcnow
from warroom.store import summary
from warroom.store.chain import GENESIS, ChainReport, as_int, stored_order, verify_chain
from warroom.store.errors import IncidentNotFound, ReadOnlyStore, StoreError
from warroom.store.ids import SAFE_ID, check_id, natural_key, next_id
from warroom.store.journal import JournalStorage, Record, fsync_dir
from warroom.store.link import StoreLink
from warroom.store.private import private_dir

EVENTS = "events"
log = logging.getLogger(__name__)
_seq = attrgetter("seq")


class _Table(Table):
    """Tables keyed by strings ("2:slack"); no query cache, as other processes change the
    data under TinyDB's feet."""

    document_id_class = str
    default_query_cache_capacity = 0


class _IncidentDB(TinyDB):
    table_class = _Table


class TinyDBStore:
    """One incident (an IncidentStore). Thread-safe; several processes may write it."""

    def __init__(self, directory: Path, incident_id: str, read_only: bool = False) -> None:
        self.incident_id = check_id(incident_id)
        self.dir = Path(directory)
        self.path = self.dir / f"{incident_id}.json"
        self.read_only = read_only
        self._events: list[Event] = []  # sorted by seq; index == seq - 1 while _contiguous
        self._contiguous = True
        self._delivered = 0  # last seq handed out by refresh()/events()
        # TinyDB is what we query through; the storage keeps the dict and the files in step
        # and tells us which documents changed, so the event list grows incrementally.
        self.db = _IncidentDB(self.path, storage=JournalStorage, read_only=read_only)
        self.storage: JournalStorage = self.db.storage  # type: ignore[assignment]
        self.journal_path = self.storage.journal_path
        self.lock_path = self.storage.lock_path
        self._mutex = self.storage.mutex
        self._summary = summary.SummaryFile(self.dir, self.incident_id)
        with self._mutex:
            self.storage.on_change = self._on_change
            self._rebuild()

    # ----- following the files -------------------------------------------------------------
    def _on_change(self, reloaded: bool, records: list[Record]) -> None:
        if reloaded:
            self._rebuild()
            return
        for table, doc_id, doc in records:
            if table != EVENTS:
                continue
            n = len(self._events) + 1
            if self._contiguous and doc_id == str(n) and doc.get("seq") == n:
                try:
                    self._events.append(Event.from_dict(doc))
                    continue
                except (KeyError, ValueError, TypeError, AttributeError):
                    pass
            self._rebuild()  # out of order or damaged: rare, O(n)
            return

    def _rebuild(self) -> None:
        events: list[tuple[str, Event]] = []
        for key, doc in self.storage.documents(EVENTS).items():
            try:
                events.append((key, Event.from_dict(doc)))
            except (KeyError, ValueError, TypeError, AttributeError):
                continue  # verify() names it
        events.sort(key=lambda ke: (ke[1].seq, ke[0]))
        self._events = [e for _, e in events]
        self._contiguous = all(
            e.seq == i and k == str(i) for i, (k, e) in enumerate(events, start=1)
        )
        if self._events:  # history rewritten on disk: deliver what comes next, once
            self._delivered = min(self._delivered, self._events[-1].seq)

    def _follow(self) -> None:
        self.storage.refresh()  # a stat() or two unless the files changed

    # ----- writing -------------------------------------------------------------------------
    def append(
        self,
        kind: str,
        text: str,
        *,
        actor: str,
        data: dict[str, Any] | None = None,
        ts: datetime | None = None,
    ) -> Event:
        """Add an event at the end of the chain; durable (fsynced) when it returns."""
        if self.read_only:
            raise ReadOnlyStore(f"{self.incident_id} is open read-only")
        stamp = format_ts(ts or utcnow())
        # Round-trip through JSON so the hash covers exactly what is stored (tuples, int keys).
        payload = json.loads(json.dumps(dict(data or {})))
        with self.storage.transaction():  # catches up with other writers first
            last = self._events[-1] if self._events else None
            seq = last.seq + 1 if last else 1
            if str(seq) in self.storage.documents(EVENTS):
                raise StoreError(f"{self.incident_id}: events were moved on disk; run verify")
            body = {
                "seq": seq,
                "ts": stamp,
                "actor": str(actor),
                "kind": str(kind),
                "text": str(text),
                "data": payload,
                "prev": last.hash if last else GENESIS,
            }
            doc = {**body, "hash": event_hash(body)}
            self.storage.put(EVENTS, str(seq), doc)
            return Event.from_dict(doc)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Exclusive across threads and processes, caught up with every other writer: what is
        read inside (events(), docs) stays true for the appends made inside."""
        if self.read_only:
            raise ReadOnlyStore(f"{self.incident_id} is open read-only")
        with self.storage.transaction():
            yield

    def put_doc(self, table: str, key: str, doc: dict[str, Any]) -> None:
        """Upsert a side document (not part of the chain); durable and locked."""
        self.update_doc(table, key, lambda _: doc)

    def update_doc(
        self,
        table: str,
        key: str,
        change: Callable[[dict[str, Any] | None], dict[str, Any] | None],
    ) -> dict[str, Any] | None:
        """Read-modify-write of one side document under the exclusive lock, after catching up
        with other writers: how two consoles agree on who delivers an outbox item. `change`
        gets the current doc (or None) and returns the new one, or None to leave it as it is;
        returns what was written."""
        if self.read_only:
            raise ReadOnlyStore(f"{self.incident_id} is open read-only")
        if table == EVENTS:
            raise StoreError("events are appended, never put")
        with self.storage.transaction():
            current = self.storage.documents(table).get(str(key))
            new = change(json.loads(json.dumps(current)) if current is not None else None)
            if new is None:
                return None
            stored = json.loads(json.dumps(dict(new)))
            was_fresh = summary.fresh(self.dir, self.incident_id) is not None
            self.storage.put(table, str(key), stored)
            summary.restamp(self.dir, self.incident_id, was_fresh)  # side docs: same events
            return stored

    def put_summary(self, doc: dict[str, Any]) -> None:
        """Keep `doc` as the summary of the timeline as it is on disk now (store/summary.py).
        Call it under transaction(), after the append it describes."""
        if self.read_only:
            raise ReadOnlyStore(f"{self.incident_id} is open read-only")
        self._summary.put(doc)

    # ----- reading -------------------------------------------------------------------------
    def events(self, since_seq: int = 0) -> list[Event]:
        """All events with seq > since_seq, in order."""
        with self._mutex:
            self._follow()
            if self._events:
                self._delivered = max(self._delivered, self._events[-1].seq)
            return self._events[bisect.bisect_right(self._events, since_seq, key=_seq) :]

    def refresh(self) -> list[Event]:
        """Events appended (by anyone) since this object's last refresh()/events() call."""
        with self._mutex:
            self._follow()
            new = self._events[bisect.bisect_right(self._events, self._delivered, key=_seq) :]
            if new:
                self._delivered = new[-1].seq
            return new

    def last(self) -> Event | None:
        with self._mutex:
            self._follow()
            return self._events[-1] if self._events else None

    def table(self, name: str) -> Table:
        """A TinyDB table to search with Query (read-only: write with append/put_doc)."""
        return self.db.table(name)

    def get_doc(self, table: str, key: str) -> dict[str, Any] | None:
        with self._mutex:
            doc = self.db.table(table).get(doc_id=str(key))  # read() follows the files
            return _copy(doc) if doc is not None else None

    def docs(self, table: str) -> dict[str, dict[str, Any]]:
        with self._mutex:
            return {str(d.doc_id): _copy(d) for d in self.db.table(table).all()}

    def query(self, table: str, **equals: Any) -> list[dict[str, Any]]:
        """Documents of a table whose fields equal the given values."""
        q = Query()
        cond = None
        for name, value in equals.items():
            part = q[name] == value
            cond = part if cond is None else (cond & part)
        with self._mutex:
            tbl = self.db.table(table)
            return [_copy(d) for d in (tbl.search(cond) if cond is not None else tbl.all())]

    @property
    def evidence_dir(self) -> Path:
        path = self.dir / f"{self.incident_id}.evidence"
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    # ----- integrity -----------------------------------------------------------------------
    def verify(self) -> ChainReport:
        """Recompute the chain from the files on disk (not from memory)."""
        snap, records, damaged = self.storage.load_raw()
        docs: dict[str, Any] = dict(snap.get(EVENTS, {}))
        rewritten: int | None = None
        for table, key, doc in records:
            if table != EVENTS:
                continue
            # The same line twice is a benign replay (killed between compaction steps); a
            # different document under an existing id is an event overwritten by hand.
            if key in docs and docs[key] != doc and rewritten is None:
                rewritten = as_int(key)
            docs[key] = doc
        ordered = sorted(docs.items(), key=stored_order)
        report = verify_chain([d for _, d in ordered], [k for k, _ in ordered])
        if rewritten is not None and (report.ok or (report.seq or 0) > rewritten):
            return ChainReport(
                False, report.checked, f"event {rewritten} was altered (rewritten)", rewritten
            )
        if report.ok and damaged:
            return ChainReport(
                False, report.checked, f"{damaged} journal line(s) are damaged (unreadable)", None
            )
        return report

    def link(self) -> StoreLink:
        return StoreLink("tinydb")  # the files are always at hand

    # ----- closing -------------------------------------------------------------------------
    def compact(self) -> None:
        """Fold the journal into a new TinyDB file, atomically (done on close when worthwhile)."""
        if not self.read_only:
            was_fresh = summary.fresh(self.dir, self.incident_id) is not None
            self.storage.compact()
            summary.restamp(self.dir, self.incident_id, was_fresh)

    def close(self) -> None:
        """Compact if the journal is large, release file handles. Idempotent."""
        was_fresh = not self.read_only and summary.fresh(self.dir, self.incident_id) is not None
        self.db.close()
        self._summary.close()
        summary.restamp(self.dir, self.incident_id, was_fresh)

    def __enter__(self) -> TinyDBStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _copy(doc: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(doc))  # callers may mutate; the cache must not change


class TinyDBRepository:
    """The incidents folder (an IncidentRepository). Ids come from the time, never a title."""

    def __init__(self, data_dir: Path | str) -> None:
        self.data_dir = Path(data_dir)
        self.dir = self.data_dir / "incidents"

    def _taken(self, incident_id: str) -> bool:
        return any((self.dir / f"{incident_id}{ext}").exists() for ext in (".json", ".journal"))

    def new_id(self, prefix: str = "INC", now: datetime | None = None) -> str:
        return next_id(prefix, now or utcnow(), self._taken)

    def create(self, incident_id: str) -> TinyDBStore:
        """A new, empty incident. FileExistsError if the id is taken (O_EXCL: one of two
        concurrent creators wins)."""
        check_id(incident_id)
        private_dir(self.data_dir)
        self.dir.mkdir(mode=0o700, exist_ok=True)
        journal = self.dir / f"{incident_id}.journal"
        if journal.exists() and journal.stat().st_size:  # a snapshot lost, its journal kept
            raise FileExistsError(f"{journal} exists")
        path = self.dir / f"{incident_id}.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"{}")  # an empty TinyDB file
            os.fsync(fd)
        finally:
            os.close(fd)
        fsync_dir(self.dir)
        return TinyDBStore(self.dir, incident_id)

    def restore(
        self, incident_id: str, events: list[Event], docs: dict[str, dict[str, dict[str, Any]]]
    ) -> TinyDBStore:
        """A new incident holding exactly these events (their hashes as they are) and side
        documents: `warroom store copy`. FileExistsError if the id is taken."""
        store = self.create(incident_id)
        with store.storage.transaction():
            for ev in events:
                store.storage.put(EVENTS, str(ev.seq), ev.to_dict())
            for table, keyed in docs.items():
                for key, doc in keyed.items():
                    store.storage.put(table, str(key), json.loads(json.dumps(doc)))
        return store

    def open(self, incident_id: str, read_only: bool = False) -> TinyDBStore:
        check_id(incident_id)
        if not (self.dir / f"{incident_id}.json").is_file():
            raise IncidentNotFound(incident_id)
        return TinyDBStore(self.dir, incident_id, read_only=read_only)

    def ids(self) -> list[str]:
        """Incident ids, oldest first (ids start with their UTC creation time)."""
        if not self.dir.is_dir():
            return []
        found = [
            p.name[: -len(".json")]
            for p in self.dir.iterdir()
            if p.name.endswith(".json") and p.is_file()
        ]
        return sorted((i for i in found if SAFE_ID.fullmatch(i) and ".." not in i), key=natural_key)

    def summary(self, incident_id: str) -> dict[str, Any] | None:
        """The incident's summary if it still describes its files (store/summary.py)."""
        return summary.fresh(self.dir, check_id(incident_id))

    def rebuild_summary(
        self, incident_id: str, summarize: Callable[[list[Event]], dict[str, Any]]
    ) -> dict[str, Any]:
        """Summarize the incident's events afresh and keep the result. The stamp is taken before
        reading, so a write that lands meanwhile leaves it stale, never wrong."""
        at = summary.stamp(self.dir, check_id(incident_id))
        with self.open(incident_id, read_only=True) as store:
            doc = summarize(store.events())
        summary.write(self.dir, incident_id, doc, at)
        return doc

    def newest_open(self) -> str | None:
        """The newest incident that is not resolved; damaged files are skipped (and logged)."""
        for incident_id in reversed(self.ids()):
            try:
                with self.open(incident_id, read_only=True) as store:
                    if incident_open(store.events()):
                        return incident_id
            except StoreError as exc:
                log.warning("skipped incident %s: %s", incident_id, exc)
        return None
