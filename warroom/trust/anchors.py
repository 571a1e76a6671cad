"""External anchors: the chain head a sent update, page or evidence manifest carried.

A head is written `ref SEQ:HASH` (`ref 42:9e444bef`, the hash shortened to 8 hex digits in
text, whole in machine-readable payloads). Whoever holds a sent message can ask the record
whether event SEQ still hashes to what was sent: since every hash covers the ones before it,
a match proves that events 1..SEQ are as they were when the message left.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warroom.model import Event

SHORT = 8  # hex digits of a hash in text
_ANCHOR = re.compile(r"(\d{1,12}):([0-9a-fA-F]{8,64})")
_REF = re.compile(r"\bref\s+(\d{1,12}):([0-9a-fA-F]{8,64})\b")


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str  # a prefix of the event's hash, lower case, 8 to 64 hex digits

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"


def ref(seq: int, full_hash: str) -> str:
    """`42:9e444bef`: how text carries a chain head."""
    return f"{seq}:{full_hash[:SHORT]}"


def head_of(events: list[Event]) -> dict[str, Any] | None:
    """The chain head as payloads carry it: {"seq", "hash", "ref"}; None for no events."""
    if not events:
        return None
    last = events[-1]
    return {"seq": last.seq, "hash": last.hash, "ref": ref(last.seq, last.hash)}


def parse_anchor(text: str) -> Anchor:
    """`42:9e444bef` or `ref 42:9e444bef…` (a trailing ellipsis is ignored); ValueError."""
    value = text.strip().removeprefix("ref").strip().rstrip("…").rstrip(".")
    m = _ANCHOR.fullmatch(value)
    if not m or int(m.group(1)) < 1:
        raise ValueError(f"{text!r}: expected SEQ:HASH with 8 to 64 hex digits, e.g. 42:9e444bef")
    return Anchor(int(m.group(1)), m.group(2).lower())


def anchors_in(text: str) -> list[Anchor]:
    """Every anchor in a text: `ref SEQ:HASH` anywhere (a saved update, a witness log), and
    lines that are only `SEQ:HASH`. In order, without repeats."""
    found: dict[tuple[int, str], Anchor] = {}
    for line in text.splitlines():
        stripped = line.strip()
        hits = [(m.group(1), m.group(2)) for m in _REF.finditer(stripped)]
        if not hits and (m := _ANCHOR.fullmatch(stripped.rstrip("…"))):
            hits = [(m.group(1), m.group(2))]
        for seq, digits in hits:
            a = Anchor(int(seq), digits.lower())
            if a.seq >= 1:
                found.setdefault((a.seq, a.hash), a)
    return list(found.values())


def anchors_from_file(path: Path) -> list[Anchor]:
    """Anchors in a file; OSError if it cannot be read, ValueError if it holds none."""
    text = path.read_text(encoding="utf-8", errors="replace")
    found = anchors_in(text)
    if not found:
        raise ValueError(f"{path}: no anchors in it (lines such as `ref 42:9e444bef`)")
    return found


@dataclass(frozen=True)
class AnchorCheck:
    anchor: Anchor
    ok: bool
    text: str  # one line: what matched, or what differs


def check_anchor(events: list[Event], anchor: Anchor) -> AnchorCheck:
    by_seq = {e.seq: e for e in events}
    ev = by_seq.get(anchor.seq)
    if ev is None:
        last = events[-1].seq if events else 0
        return AnchorCheck(
            anchor,
            False,
            f"anchor {anchor}: event {anchor.seq} is missing (the record ends at "
            f"{last}): events were removed since it was sent",
        )
    if ev.hash.lower().startswith(anchor.hash):
        return AnchorCheck(anchor, True, f"anchor {anchor}: matches event {ev.seq} ({ev.ts})")
    now = ev.hash[: max(SHORT, len(anchor.hash))]
    return AnchorCheck(
        anchor,
        False,
        f"anchor {anchor}: event {anchor.seq} now hashes to {now}: the record up to event "
        f"{anchor.seq} changed since it was sent",
    )
