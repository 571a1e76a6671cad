"""The hash chain of a timeline: every event's hash covers it and the hash before it.

`hash` = sha256 of the canonical JSON of the event including `prev`; `prev` of the first event is
GENESIS. Verification names the first event that was altered, removed, inserted or moved.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from warroom.model import Event, event_hash

GENESIS = "0" * 64


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int  # events examined
    problem: str | None = None  # None when ok
    seq: int | None = None  # the first bad event's seq


def as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def stored_order(item: tuple[str, Any]) -> tuple[int, int, str]:
    """Events by their own seq (the doc id when damaged), then by doc id."""
    key, doc = item
    seq = doc.get("seq") if isinstance(doc, dict) else None
    return (as_int(seq) if seq is not None else as_int(key), as_int(key), key)


def verify_chain(docs: list[dict[str, Any]], keys: list[str | int] | None = None) -> ChainReport:
    """Name the first event that was altered, removed or inserted (docs in stored order)."""
    prev_hash = GENESIS
    expected = 1
    for i, d in enumerate(docs):
        try:
            ev = Event.from_dict(d)
        except (KeyError, ValueError, TypeError, AttributeError):
            return ChainReport(False, i, f"the event after {expected - 1} is malformed", expected)
        if event_hash(ev.body()) != ev.hash:
            return ChainReport(False, i + 1, f"event {ev.seq} was altered (hash mismatch)", ev.seq)
        if ev.seq > expected:
            return ChainReport(False, i + 1, f"event {expected} was removed", expected)
        if ev.seq < expected:
            return ChainReport(
                False, i + 1, f"an event was inserted before {expected} (duplicate seq)", ev.seq
            )
        if ev.prev != prev_hash:
            if ev.seq == 1:
                msg = "event 1 does not start the chain (events before it were removed)"
                return ChainReport(False, i + 1, msg, 1)
            msg = (
                f"event {ev.seq - 1} was altered or replaced, or an event was removed or "
                f"inserted before {ev.seq} (event {ev.seq} links to another hash)"
            )
            return ChainReport(False, i + 1, msg, ev.seq - 1)
        if keys is not None and str(keys[i]) != str(ev.seq):
            msg = f"event {ev.seq} is stored under id {keys[i]} (moved or inserted)"
            return ChainReport(False, i + 1, msg, ev.seq)
        prev_hash = ev.hash
        expected += 1
    return ChainReport(True, len(docs))
