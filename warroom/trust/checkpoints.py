"""Signed checkpoints: a responder's SSH signature over the chain head, as a timeline event.

A checkpoint signs this text (namespace `warroom-checkpoint`):

    warroom checkpoint v1
    incident INC-20261201-093000
    seq 42
    hash 9e444bef...                       (all 64 hex digits)

Since event 42's hash covers every event before it, a good signature over it vouches for
events 1..42 as they are now. The CHECKPOINT event records the seq and hash it covers, the
signer's key fingerprint and the signature; it goes through the room like any event, and the
next checkpoint covers it. Rewriting the store and recomputing every hash leaves the signed
hash behind: `warroom verify` names the checkpoint it no longer matches.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from warroom.model import Event, Kind
from warroom.settings.signing import SigningSettings
from warroom.trust.anchors import ref
from warroom.trust.sshsig import NAMESPACE, SigningError, SigningKey, SshTool, find_key, sign

if TYPE_CHECKING:
    from warroom.room import WarRoom

VERSION = "warroom checkpoint v1"


def checkpoint_message(incident_id: str, seq: int, full_hash: str) -> bytes:
    """The bytes a checkpoint signs (and a person can verify with ssh-keygen by hand)."""
    return f"{VERSION}\nincident {incident_id}\nseq {seq}\nhash {full_hash}\n".encode()


def last_covered(events: list[Event], fingerprint: str | None = None) -> int:
    """The highest seq a checkpoint claims to cover (by that key, if given); 0 if none."""
    best = 0
    for e in events:
        mine = fingerprint is None or e.data.get("fingerprint") == fingerprint
        if e.kind == Kind.CHECKPOINT and mine:
            covered = e.data.get("seq")
            if isinstance(covered, int) and covered > best:
                best = covered
    return best


@dataclass(frozen=True)
class Due:
    """Whether the head should be signed now, and why (for the log)."""

    due: bool
    reason: str = ""


def signing_due(
    events: list[Event], actor: str, fingerprint: str, now: datetime, interval: timedelta
) -> Due:
    """Sign when an action of `actor` is not yet covered by their own key's checkpoint, or when
    events flowed and no checkpoint (by anyone) was made for `interval`."""
    uncovered = [e for e in events if e.seq > last_covered(events) and e.kind != Kind.CHECKPOINT]
    if not uncovered:
        return Due(False)
    mine = last_covered(events, fingerprint)
    if any(e.seq > mine and e.actor == actor and e.kind != Kind.CHECKPOINT for e in events):
        return Due(True, f"an action of {actor} is unsigned")
    last = next((e for e in reversed(events) if e.kind == Kind.CHECKPOINT), None)
    since = events[0].time if last is None else last.time
    if now - since >= interval:
        return Due(True, f"events flowed for {interval.total_seconds():g}s unsigned")
    return Due(False)


class Signer:
    """Signs a room's chain head with the responder's key. Thread-safe; the key is looked up
    once and again after a failure (an agent may come back)."""

    def __init__(self, settings: SigningSettings) -> None:
        self.settings = settings
        self.tool = SshTool(settings.ssh_keygen, settings.agent_socket)
        self.key: SigningKey | None = None
        self._lock = threading.Lock()

    def load_key(self) -> SigningKey:
        """The signing key; SigningError (one line) if there is none usable."""
        with self._lock:
            if self.key is None:
                self.key = find_key(self.tool, self.settings.key)
            return self.key

    def sign_head(self, room: WarRoom) -> Event | None:
        """Sign the newest event and record the checkpoint; None if the head is already a
        checkpoint (nothing new to vouch for). SigningError when it cannot sign."""
        room.refresh()
        events = room.events
        head = next((e for e in reversed(events) if e.kind != Kind.CHECKPOINT), None)
        if head is None or head.seq <= last_covered(events):
            return None
        key = self.load_key()
        message = checkpoint_message(room.incident_id, head.seq, head.hash)
        try:
            signature = sign(self.tool, key, message, NAMESPACE)
        except SigningError:
            with self._lock:
                self.key = None  # look it up again next time: the agent may have changed
            raise
        short = ref(head.seq, head.hash)
        text = f"Checkpoint: events 1-{head.seq} signed (ref {short}) with key {key.fingerprint}"
        data = {
            "seq": head.seq,
            "hash": head.hash,
            "ref": short,
            "fingerprint": key.fingerprint,
            "namespace": NAMESPACE,
            "signature": signature,
        }
        return room.record(Kind.CHECKPOINT, text, data)
