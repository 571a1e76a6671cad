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
    return SigningClock(actor).due(events, fingerprint, now, interval)


class SigningClock:
    """signing_due for the console, which asks every second: it folds only the events it has
    not seen yet (a long incident's timeline is not walked once a second)."""

    def __init__(self, actor: str) -> None:
        self.actor = actor
        self._reset(None, "")

    def _reset(self, events: list[Event] | None, fingerprint: str) -> None:
        self._list, self._fp, self._seen = events, fingerprint, 0
        self._covered = self._mine = self._my_last = self._last = 0
        self._since: datetime | None = None  # the last checkpoint, else the first event

    def due(self, events: list[Event], fingerprint: str, now: datetime, interval: timedelta) -> Due:
        if events is not self._list or fingerprint != self._fp or len(events) < self._seen:
            self._reset(events, fingerprint)  # another timeline, key, or folded again
        for e in events[self._seen :]:
            if self._since is None:
                self._since = e.time
            if e.kind != Kind.CHECKPOINT:
                self._last = e.seq
                if e.actor == self.actor:
                    self._my_last = e.seq
                continue
            self._since = e.time
            seq = e.data.get("seq")
            if isinstance(seq, int):
                self._covered = max(self._covered, seq)
                if e.data.get("fingerprint") == fingerprint:
                    self._mine = max(self._mine, seq)
        self._seen = len(events)
        if self._my_last > self._mine:
            return Due(True, f"an action of {self.actor} is unsigned")
        if self._last <= self._covered or self._since is None:
            return Due(False)
        if now - self._since >= interval:
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
        """Sign the newest event and record the checkpoint; None if this key vouched for it
        already (nothing new to sign). SigningError when it cannot sign."""
        room.refresh()
        events = room.events
        head = next((e for e in reversed(events) if e.kind != Kind.CHECKPOINT), None)
        key = self.load_key()
        if head is None or head.seq <= last_covered(events, key.fingerprint):
            return None
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
