"""Plain data of an incident: enums, events and the policies that give them meaning. No I/O.

The incident itself is never stored as a mutable record: the timeline of events is the truth and
the current state (severity, status, roles, checklist) is a fold over it (see projection.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    P0 = "P0"
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"

    @property
    def rank(self) -> int:
        """0 is the most severe."""
        return int(self.value[1])


SEVERITY_NAMES = {
    Severity.P0: "critical",
    Severity.P1: "high",
    Severity.P2: "medium",
    Severity.P3: "low",
}


class Status(StrEnum):
    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class Role(StrEnum):
    COMMANDER = "commander"
    TECH_LEAD = "tech_lead"
    COMMS_LEAD = "comms_lead"
    SECURITY_OFFICER = "security_officer"
    SCRIBE = "scribe"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Kind(StrEnum):
    """What an event records. The timeline shows a distinct mark per kind."""

    DECLARED = "declared"
    SEVERITY = "severity"
    STATUS = "status"
    ROLE = "role"
    NOTE = "note"
    PIN = "pin"
    CHECKLIST = "checklist"
    ACTION = "action"  # something a responder did to a system (restart, delete, rollback)
    OUTCOME = "outcome"  # what an action did, seen by watching the object afterwards
    CHANGE = "change"  # a change to a system seen on the watch, made by someone else
    ACK = "ack"  # the incident was acknowledged by a responder
    ESCALATED = "escalated"
    PAGE = "page"  # a page (or its acknowledgement) reached a person's pager, or failed to
    DETECTED = "detected"  # detection time marked (by a rule or by hand)
    ALERT = "alert"  # Alertmanager alert fired or resolved
    CHECK = "check"  # health check changed state
    POD = "pod"  # pod transition seen by the watcher
    EVIDENCE = "evidence"
    UPDATE = "update"  # status update written (delivery tracked in the outbox)
    DEADLINE = "deadline"  # an SLA deadline was crossed
    SUGGESTION = "suggestion"  # e.g. a detection rule suggests a severity
    EDIT = "edit"  # supersedes an earlier event's text
    RESOLVED = "resolved"
    SYSTEM = "system"  # watch lost, source unreachable, and similar
    ACTION_ITEM = "action_item"  # follow-up work: added, done, reopened, exported to a tracker
    CHECKPOINT = "checkpoint"  # a responder's SSH signature over the chain head (trust/)
    CUSTODY = "custody"  # an evidence bundle handed over or copied off the host


@dataclass(frozen=True, slots=True)
class Event:
    """One fact of the incident. `hash` chains it to the event before (`prev`)."""

    seq: int
    ts: str  # UTC, ISO 8601 with offset
    actor: str
    kind: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)
    prev: str = ""
    hash: str = ""

    @property
    def time(self) -> datetime:
        return parse_ts(self.ts)

    def body(self) -> dict[str, Any]:
        """The fields the hash covers: everything but the hash itself."""
        return {
            "seq": self.seq,
            "ts": self.ts,
            "actor": self.actor,
            "kind": self.kind,
            "text": self.text,
            "data": self.data,
            "prev": self.prev,
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.body(), "hash": self.hash}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Event:
        return cls(
            seq=int(d["seq"]),
            ts=str(d["ts"]),
            actor=str(d["actor"]),
            kind=str(d["kind"]),
            text=str(d["text"]),
            data=dict(d.get("data") or {}),
            prev=str(d.get("prev", "")),
            hash=str(d.get("hash", "")),
        )


def incident_open(events: list[Event]) -> bool:
    """Not resolved: the last status-changing event is not a resolution. (The projection folds
    the whole state; listing incidents needs only this.)"""
    for ev in reversed(events):
        if ev.kind == Kind.RESOLVED:
            return False
        if ev.kind == Kind.STATUS:
            return ev.data.get("to") != Status.RESOLVED.value
    return bool(events)


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(body: dict[str, Any]) -> str:
    """sha256 over the canonical JSON of an event's body (which includes `prev`)."""
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_ts(t: datetime) -> str:
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_ts(s: str) -> datetime:
    t = datetime.fromisoformat(s)
    return t if t.tzinfo else t.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class SeverityPolicy:
    """The SLA of one severity: how fast to respond, update, escalate and resolve."""

    severity: Severity
    name: str
    respond_within: timedelta
    update_every: timedelta
    escalate_after: timedelta
    resolve_within: timedelta
    notify: str = ""  # who hears about it, e.g. "executive leadership within 1h"
    review_within: timedelta = timedelta(days=7)  # post-incident review, after resolution
    criteria: str = ""  # what makes an incident this severe, shown when choosing it


@dataclass(frozen=True, slots=True)
class PlaybookItem:
    """A checklist item as the playbook defines it."""

    id: str
    phase: str
    text: str
    due_after: timedelta | None = None  # relative to declaration
    due_key: str | None = None  # or an SLA field: "respond_within", "update_every", ...
    done_when: str | None = None  # an event kind that ticks it: the scribe's work done for them


@dataclass(frozen=True, slots=True)
class Playbook:
    name: str
    source: str  # file it came from, for error messages
    severities: tuple[Severity, ...]
    categories: tuple[str, ...]  # empty = any category
    phases: tuple[str, ...]
    items: tuple[PlaybookItem, ...]


def format_duration(d: timedelta | float | None) -> str:
    """Compact human duration: 45s, 12m, 1h05m, 2d03h. Negative durations keep their sign."""
    if d is None:
        return "-"
    secs = d.total_seconds() if isinstance(d, timedelta) else float(d)
    sign = "-" if secs < 0 else ""
    s = int(abs(secs))
    if s < 60:
        return f"{sign}{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{sign}{m}m{s:02d}s" if m < 10 else f"{sign}{m}m"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{sign}{h}h{m:02d}m"
    d_, h = divmod(h, 24)
    return f"{sign}{d_}d{h:02d}h"


_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str | int | float) -> timedelta:
    """'15m', '1h30m', '90s', '2d', or a number of seconds. ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"negative duration: {value!r}")
        return timedelta(seconds=value)
    text = str(value).strip().lower()
    total, number = 0.0, ""
    for ch in text:
        if ch.isdigit() or ch == ".":
            number += ch
        elif ch in _DURATION_UNITS and number:
            total += float(number) * _DURATION_UNITS[ch]
            number = ""
        else:
            raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 1h30m, 2d)")
    if number or not text:
        raise ValueError(f"not a duration: {value!r} (use e.g. 90s, 15m, 1h30m, 2d)")
    return timedelta(seconds=total)
