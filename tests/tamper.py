"""Rewriting a stored timeline behind warroom's back, as someone with disk or SQL access would:
edit, delete, reorder or insert events, then recompute every seq, link and hash so the chain
itself reads as intact. One helper for both backends (the store contract tests and the trust
tests share it)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

from warroom.model import event_hash
from warroom.store import GENESIS, IncidentStore

Docs = list[dict[str, Any]]


def rechain(docs: Docs) -> Docs:
    """Number the events 1..n again and recompute every link and hash."""
    out, prev = [], GENESIS
    for i, d in enumerate(docs, start=1):
        body = {k: v for k, v in d.items() if k != "hash"}
        body.update(seq=i, prev=prev)
        prev = event_hash(body)
        out.append({**body, "hash": prev})
    return out


def stored_docs(store: IncidentStore) -> Docs:
    return [e.to_dict() for e in store.events()]


def rewrite(backend: str, store: IncidentStore, change: Callable[[Docs], Docs]) -> None:
    """Replace the incident's events by `change(events)` with the chain recomputed."""
    new = rechain(change(stored_docs(store)))
    if backend == "tinydb":
        store.compact()
        path = store.path  # type: ignore[attr-defined]
        data = json.loads(path.read_text())
        data["events"] = {str(d["seq"]): d for d in new}
        path.write_text(json.dumps(data))
        return
    import psycopg

    with psycopg.connect(store.repo.dsn, autocommit=True) as conn:  # type: ignore[attr-defined]
        conn.execute("DELETE FROM events WHERE incident_id = %s", (store.incident_id,))
        for d in new:
            conn.execute(
                "INSERT INTO events (incident_id, seq, origin, kind, body) "
                "VALUES (%s, %s, %s, %s, %s)",
                (store.incident_id, d["seq"], uuid.uuid4().hex, d["kind"], json.dumps(d)),
            )


# The tamper trials: each a change to the list of stored events (seqs 1-based in the text).
def edit(seq: int, text: str = "nothing happened") -> Callable[[Docs], Docs]:
    return lambda docs: [{**d, "text": text} if d["seq"] == seq else d for d in docs]


def delete(seq: int) -> Callable[[Docs], Docs]:
    return lambda docs: [d for d in docs if d["seq"] != seq]


def swap(a: int, b: int) -> Callable[[Docs], Docs]:
    def change(docs: Docs) -> Docs:
        out = list(docs)
        out[a - 1], out[b - 1] = out[b - 1], out[a - 1]
        return out

    return change


def insert_after(seq: int, text: str = "all good here") -> Callable[[Docs], Docs]:
    def change(docs: Docs) -> Docs:
        out = list(docs)
        forged = {**docs[seq - 1], "text": text, "kind": "note", "data": {}}
        out.insert(seq, forged)
        return out

    return change
