"""Pages follow the timeline: an escalation event names who it pages and through what; the
incident's acknowledgement and resolution are sent on to every pager that was triggered. The
outbox items are derived from the events (idempotent keys), so whichever console runs the
outbox pages, and one that starts after a crash pages what its predecessor had not queued.
"""

from __future__ import annotations

from typing import Any

from warroom.actions.notify import Message
from warroom.actions.outbox import CHANNEL_NAMES, PAGE, Outbox
from warroom.model import Event, Kind, Role
from warroom.room import WarRoom
from warroom.trust.anchors import head_of

ACKNOWLEDGED = ("pagerduty", "opsgenie")  # channels that take an acknowledge and a resolve


def outbox_for(room: WarRoom, **kw: Any) -> Outbox | None:
    """The incident's outbox over every destination: the updates' and one per channel of
    every contact (a destination it lacked would mark its items as unconfigured)."""
    s = room.settings
    dests = [*s.destinations, *s.paging.destinations(s.destinations)]
    witness = s.signing.witness  # receives the signed checkpoints
    return Outbox(room, dests, witness=witness, **kw) if dests or witness else None


def page_text(room: WarRoom, ev: Event, name: str) -> str:
    """What the paged person reads: what, how bad, why them, and who to call."""
    st = room.state
    d = ev.data
    commander = st.roles.get(Role.COMMANDER, "")
    contact = room.settings.paging.by_name(commander) if commander else None
    phone = f" ({contact.phone})" if contact and contact.phone else ""
    lines = [
        f"{room.incident_id}: {st.title}",
        f"Severity {st.severity.value}, {st.status.value}. Escalated to {d.get('to', '')}.",
        f"Why: {ev.text}",
    ]
    if d.get("criteria"):
        lines.append(f"Level criteria: {d['criteria']}")
    lines.append(f"Incident commander: {commander or 'not assigned'}{phone}")
    lines.append(f"Paged: {name}")
    return "\n".join(lines)


class Pager:
    def __init__(self, room: WarRoom, outbox: Outbox) -> None:
        self.room = room
        self.outbox = outbox
        self._seen = 0  # events already turned into outbox items

    def sync(self) -> int:
        """Queue the pages the timeline asks for and has not queued yet; returns how many."""
        events = [e for e in self.room.events if e.seq > self._seen]
        count = 0
        for ev in events:
            if ev.kind == Kind.ESCALATED and ev.data.get("targets"):
                count += self._trigger(ev)
            elif ev.kind in (Kind.ACK, Kind.RESOLVED):
                count += self._follow_up(ev, "acknowledge" if ev.kind == Kind.ACK else "resolve")
        if events:
            self._seen = events[-1].seq
        return count

    def _message(self, ev: Event, name: str, action: str, level: str) -> Message:
        st = self.room.state
        return Message(
            incident=self.room.incident_id,
            text=page_text(self.room, ev, name),
            title=st.title,
            severity=st.severity.value,
            status=st.status.value,
            drill=st.drill,
            template=PAGE,
            audience=PAGE,
            action=action,
            level=level,
            to=name,
            anchor=head_of([ev]),  # the event that decided the page: `warroom verify --anchor`
        )

    def _trigger(self, ev: Event) -> int:
        count = 0
        for t in ev.data["targets"]:
            for via in t.get("via", []):
                dest = f"page:{t['id']}:{via}"
                if dest in self.outbox.destinations:
                    msg = self._message(ev, str(t["name"]), "trigger", str(ev.data["level"]))
                    self.outbox.enqueue_page(ev.seq, dest, msg)
                    count += 1
        return count

    def _follow_up(self, ev: Event, action: str) -> int:
        """An acknowledge (or resolve) to every pager triggered before `ev`; a page not sent
        yet is cancelled instead (nobody is woken for an incident already acknowledged)."""
        count = 0
        why = "acknowledged" if action == "acknowledge" else "resolved"
        for item in self.outbox.items():
            m = item.message
            if m.template != PAGE or m.action != "trigger" or item.update_seq > ev.seq:
                continue
            if item.state == "pending" and self.outbox.cancel(item.key, f"{why} first"):
                via = self.outbox.destinations.get(item.destination)
                how = f" via {CHANNEL_NAMES.get(via.type, via.type)}" if via else ""
                text = f"Page to {m.to} ({m.level}){how} cancelled: {why} before it went out"
                data = {"outbox": item.key, "destination": item.destination, "action": "cancel"}
                self.room.record(Kind.PAGE, text, data, source=self.outbox.actor)
                continue
            dest = self.outbox.destinations.get(item.destination)
            if dest is None or dest.type not in ACKNOWLEDGED or item.state == "cancelled":
                continue
            self.outbox.enqueue_page(ev.seq, item.destination, self._message(ev, m.to, action, ""))
            count += 1
        return count
