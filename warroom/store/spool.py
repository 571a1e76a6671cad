"""The spool: where a PostgreSQL-backed store keeps writes while the database is unreachable.

One file per incident (`<spool_dir>/<id>.spool`), one JSON line per write, appended with
O_APPEND and fsynced before the write returns, under flock (a CLI verb and a console on one
host may share it). Every line is whole on its own: the batch it belongs to (one stretch
offline of one process), when that stretch began, the host, and the write:
  {"type": "event", "origin": ..., "seq": <provisional>, "kind", "text", "actor", "data", "ts"}
  {"type": "doc", "table": ..., "key": ..., "doc": {...}}
Replay reads everything under the exclusive lock and empties the file only after the database
committed it; events carry a unique origin, so a replay cut short is simply done again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from warroom.model import format_ts, parse_ts, utcnow
from warroom.store.journal import fsync_dir, parse_lines

# Data fields that name another event by its seq: they follow it when a spool is replayed.
SEQ_REFS = ("target", "by_event", "action", "update_seq")


class Spool:
    def __init__(self, directory: Path, incident_id: str) -> None:
        self.dir = Path(directory)
        self.path = self.dir / f"{incident_id}.spool"

    def write(self, record: dict[str, Any]) -> None:
        raw = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
        created = not self.dir.is_dir()
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            view = memoryview(raw)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)  # releases the lock
        if created:
            fsync_dir(self.dir)

    def count(self) -> int:
        """Events waiting (a stat() when there is no spool)."""
        return sum(1 for r in self.records() if r.get("type") == "event")

    def records(self) -> list[dict[str, Any]]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return []
        return parse_lines(raw)

    @contextlib.contextmanager
    def draining(self) -> Iterator[list[dict[str, Any]]]:
        """The records, under the exclusive lock; emptied when the block exits cleanly."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            yield []
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with open(self.path, "rb") as f:  # same file, read under our lock
                records = parse_lines(f.read())
            yield records
            os.ftruncate(fd, 0)
            os.fsync(fd)
        finally:
            os.close(fd)


def batches(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Records grouped by batch, in the order the batches began."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault(str(r.get("batch", "")), []).append(r)
    return list(groups.values())


def _moved_doc(key: str, doc: dict[str, Any], moved: dict[int, int]) -> tuple[str, dict]:
    """A side document about a spooled event ("<seq>:<name>", update_seq) follows it."""
    head, sep, rest = key.partition(":")
    if sep and head.isdigit() and int(head) in moved:
        key = f"{moved[int(head)]}:{rest}"
        if "key" in doc:
            doc["key"] = key
    if isinstance(doc.get("update_seq"), int) and doc["update_seq"] in moved:
        doc["update_seq"] = moved[doc["update_seq"]]
    return key, doc


def replay_batch(
    records: list[dict[str, Any]], append: Callable[[dict[str, Any], str], int]
) -> dict[int, int]:
    """One process's stretch offline, through `append(record, origin) -> final seq`: the
    gap, its events (references to spooled events follow them), the end of the replay.
    Returns provisional seq -> final seq."""
    events = [r for r in records if r.get("type") == "event"]
    moved: dict[int, int] = {}
    if not events:
        return moved
    first = records[0]
    batch, since, host = first.get("batch", ""), first.get("since"), first.get("host")
    now = format_ts(utcnow())
    n = len(events)
    with contextlib.suppress(TypeError, ValueError):
        since = parse_ts(str(since)).strftime("%H:%M:%S UTC")
    gap = {
        "kind": "system",
        "actor": "warroom",
        "ts": now,
        "text": f"Offline: {host} could not reach the database from {since}; "
        f"the {n} event(s) it spooled follow",
        "data": {"offline_since": first.get("since"), "back_at": now, "host": host, "spooled": n},
    }
    append(gap, f"{batch}:gap:{events[0].get('origin')}")
    for r in events:
        data = dict(r.get("data") or {})
        for k in SEQ_REFS:
            if isinstance(data.get(k), int) and data[k] in moved:
                data[k] = moved[data[k]]
        data["spooled"] = True
        moved[int(r["seq"])] = append({**r, "data": data}, str(r["origin"]))
    a, b = min(moved.values()), max(moved.values())
    done = {
        "kind": "system",
        "actor": "warroom",
        "ts": format_ts(utcnow()),
        "text": f"Spool replayed: {n} event(s) from {host} as #{a}-#{b}",
        "data": {"replayed": n, "first": a, "last": b, "host": host},
    }
    append(done, f"{batch}:done:{events[0].get('origin')}")
    return moved


def moved_docs(
    records: list[dict[str, Any]], moved: dict[int, int]
) -> list[tuple[str, str, dict[str, Any]]]:
    """(table, key, doc) of the batch's side documents, following their events."""
    return [
        (str(r["table"]), *_moved_doc(str(r["key"]), dict(r["doc"]), moved))
        for r in records
        if r.get("type") == "doc"
    ]
