"""What the stakeholders' page shows, as plain data: severity, status, elapsed, the next update
due, the latest update per audience (each destination of the outbox; the timeline when there
are none), the checklist's progress per phase, and the timeline, newest first.

Every text from the incident passes the redactor and loses control characters here; the
templates escape it (Jinja2 autoescape), so no incident string can become markup or script.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from warroom.actions.notify import Message
from warroom.actions.redact import redact
from warroom.model import Kind, format_duration, parse_ts
from warroom.room import WarRoom
from warroom.sanitize import strip_control

TIMELINE_ROWS = 200  # newest first; a phone does not need the whole history


def clean(text: str) -> str:
    return strip_control(redact(str(text))[0])


@dataclass(frozen=True)
class Audience:
    name: str
    label: str  # "update #2", "notification"
    text: str
    at: str
    state: str  # delivered | pending | failed | recorded


@dataclass(frozen=True)
class Row:
    seq: int
    time: str
    kind: str
    actor: str
    text: str


@dataclass(frozen=True)
class Page:
    incident_id: str
    title: str
    severity: str
    severity_name: str
    status: str
    drill: bool
    declared_at: str  # ISO, for the page's own ticking clock
    elapsed: str
    resolved: bool
    next_update: str  # "in 12m", "OVERDUE 3m", or ""
    next_update_at: str
    roles: list[tuple[str, str]]
    audiences: list[Audience]
    phases: list[tuple[str, int, int]]  # title, done, total
    done: int
    total: int
    timeline: list[Row] = field(default_factory=list)
    events: int = 0


def build(room: WarRoom, now: datetime) -> Page:
    st = room.state
    policy = room.policy
    due = st.next_update_due(policy.update_every)
    next_update = ""
    if due is not None:
        left = due - now
        sign = left.total_seconds() < 0
        next_update = f"OVERDUE {format_duration(-left)}" if sign else f"in {format_duration(left)}"
    end = st.resolved_at or now
    phases = [(clean(t), d, n) for _, t, d, n in st.phase_progress()]
    rows = [
        Row(e.seq, e.time.strftime("%H:%M:%S"), e.kind, clean(e.actor), clean(st.text_of(e)))
        for e in reversed(room.events[-TIMELINE_ROWS:])
    ]
    return Page(
        incident_id=room.incident_id,
        title=clean(st.title),
        severity=st.severity.value,
        severity_name=clean(policy.name),
        status=st.status.value,
        drill=st.drill,
        declared_at=st.declared_at.isoformat() if st.declared_at else "",
        elapsed=format_duration(end - st.declared_at) if st.declared_at else "-",
        resolved=st.resolved,
        next_update=next_update,
        next_update_at=due.isoformat() if due else "",
        roles=[(r.label, clean(n)) for r, n in st.roles.items()],
        audiences=audiences(room),
        phases=phases,
        done=sum(d for _, d, _ in phases),
        total=sum(n for _, _, n in phases),
        timeline=rows,
        events=len(room.events),
    )


def audiences(room: WarRoom) -> list[Audience]:
    """The newest update each destination got (or is getting); without an outbox, the newest
    update on the timeline, for everyone."""
    updates = {e.seq: e for e in room.events if e.kind == Kind.UPDATE}
    newest: dict[str, dict] = {}
    for doc in room.store.docs("outbox").values():
        name, seq = str(doc.get("destination", "?")), int(doc.get("update_seq", 0))
        if seq in updates and (name not in newest or seq > newest[name]["update_seq"]):
            newest[name] = doc
    out = []
    for name, doc in sorted(newest.items()):
        ev = updates[int(doc["update_seq"])]
        out.append(
            Audience(clean(name), _label(ev.data), clean(ev.text), _hhmm(ev.ts), doc["state"])
        )
    if not out and updates:
        ev = updates[max(updates)]
        out.append(Audience("everyone", _label(ev.data), clean(ev.text), _hhmm(ev.ts), "recorded"))
    return out


def _label(data: dict) -> str:
    return Message.from_dict({**data, "incident": "", "text": ""}).label


def _hhmm(ts: str) -> str:
    return parse_ts(ts).strftime("%H:%M UTC")
