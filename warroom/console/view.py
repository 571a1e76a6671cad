"""The incident on screen: the timeline, the header and the checklist follow the room's events.

`sync()` hands the widgets the events they have not seen yet and the state those imply; it is
called after every use case, when another writer's events are read, and once a second for
the clocks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from warroom.console.session import Session
from warroom.destinations import TACTICAL
from warroom.model import Event, Kind, Role
from warroom.paging import REGULATORY_ITEM
from warroom.room import WarRoom
from warroom.templates import DRILL_MARKER
from warroom.widgets.checklist import Checklist, ChecklistRow
from warroom.widgets.header import HeaderData, IncidentHeader
from warroom.widgets.timeline import Timeline, TimelineDetails, TimelineRow


class IncidentView:
    def __init__(
        self,
        session: Session,
        header: IncidentHeader,
        timeline: Timeline,
        checklist: Checklist,
        details: TimelineDetails,
    ) -> None:
        self.session = session
        self.header, self.timeline, self.checklist = header, timeline, checklist
        self.details = details
        self._shown = 0  # events already handed to the timeline
        self._generation = 0  # the room's, when the timeline was last started over
        # What other features add to the header (set by the app once they exist).
        self.note: Callable[[], str] = lambda: ""
        self.undelivered: Callable[[], int] = lambda: 0
        self.pages_undelivered: Callable[[], int] = lambda: 0
        self.drill_hint: Callable[[], str] = lambda: ""

    def restart(self) -> None:
        """Another incident: the timeline starts over from its first event."""
        self._shown = 0
        self._generation = self.session.room.generation if self.session.room else 0
        self.timeline.clear_rows()
        self.sync()

    def sync(self) -> None:
        room = self.session.room
        if room is None:
            return
        if room.generation != self._generation:  # the room folded its timeline again
            self._generation = room.generation
            self._shown = 0
            self.timeline.clear_rows()
        events = room.events
        new = events[self._shown :]
        self._shown = len(events)
        state = room.state
        rows = []
        for ev in new:
            if ev.kind == Kind.PIN:
                target = int(ev.data.get("target", 0))
                self.timeline.update_row(target, pinned=target in state.pinned)
            elif ev.kind == Kind.EDIT:
                target = int(ev.data.get("target", 0))
                self.timeline.update_row(target, text=state.edits.get(target, ""), edited=True)
            rows.append(self._row(ev))
        self.timeline.add_rows(rows)
        self.sync_header()
        self.sync_checklist()

    def _row(self, ev: Event) -> TimelineRow:
        state = self.session.room.state if self.session.room else None
        text = state.text_of(ev) if state else ev.text
        badge = ""
        if ev.kind == Kind.UPDATE:
            badge, text = update_row(ev, text)
        return TimelineRow(
            seq=ev.seq,
            time=ev.time.strftime("%H:%M:%S"),
            kind=ev.kind,
            actor=ev.actor,
            text=text,
            pinned=bool(state and ev.seq in state.pinned),
            edited=bool(state and ev.seq in state.edits),
            badge=badge,
        )

    def show_details(self, seq: int | None) -> None:
        """The full text of the event under the timeline's cursor, when its row cuts it."""
        room = self.session.room
        ev = room.event(seq) if room is not None and seq is not None and seq > 0 else None
        if ev is None or not self.timeline.has_focus:
            self.details.show_text(None)
            return
        self.details.show_text(f"#{ev.seq} {ev.actor}: {room.state.text_of(ev)}")

    def sync_header(self) -> None:
        room = self.session.room
        if room is None:
            return
        st = room.state
        policy = room.policy
        settings = self.session.settings
        unacked = st.acked_at is None and not st.resolved
        declared = st.declared_at
        link = room.store.link()
        data = HeaderData(
            incident_id=st.incident_id or room.incident_id,
            title=st.title,
            severity=st.severity.value,
            severity_name=policy.name,
            status=st.status.value,
            declared_at=declared,
            resolved_at=st.resolved_at,
            roles={r.label: n for r, n in st.roles.items()},
            next_update_at=st.next_update_due(_tactical_every(room)),
            respond_by=(declared + policy.respond_within) if unacked and declared else None,
            escalate_by=(
                declared + policy.escalate_after
                if unacked and declared and st.escalated_at is None
                else None
            ),
            drill=st.drill,
            read_only=settings.read_only,
            warn_before=settings.warn_before,
            note=self.note(),
            undelivered=self.undelivered(),
            offline_since=link.offline_since,
            spooled=link.spooled,
            drill_hint=self.drill_hint(),
            **self._reach(room),
        )
        self.header.show(data)

    def _reach(self, room: WarRoom) -> dict[str, Any]:
        """What the header shows of paging: each other audience's next update, the
        regulator's deadline until its item is ticked, the commander's phone, the level."""
        st, s = room.state, self.session.settings
        d = s.paging
        cadences = []
        for a in d.in_use(s.destinations):
            due = st.next_update_due(a.cadence(st.severity, room.policy.update_every), a.id)
            if a.id != TACTICAL and due:
                cadences.append((a.id, due))
        item = st.checklist.get(REGULATORY_ITEM)
        regulatory = item.due_at if item and not item.done and not st.resolved else None
        commander = d.by_name(st.roles.get(Role.COMMANDER, ""))
        return {
            "cadences": tuple(cadences),
            "regulatory_by": regulatory,
            "commander_phone": commander.phone if commander else "",
            "level": st.level or "",
            "pages_undelivered": self.pages_undelivered(),
        }

    def sync_checklist(self) -> None:
        room = self.session.room
        if room is None:
            return
        now = self.session.clock()
        rows = [
            ChecklistRow(
                id=i.id,
                phase=i.phase,
                phase_title=i.phase_title,
                text=i.text,
                done=i.done,
                by=i.by,
                at=i.at.strftime("%H:%M") if i.at else None,
                due=minutes(i.due_at - now) if i.due_at and not i.done else None,
                overdue=i.overdue(now),
            )
            for i in room.state.checklist.values()
        ]
        self.checklist.set_rows(rows)


def _tactical_every(room: WarRoom) -> timedelta | None:
    aud = room.settings.paging.audience(TACTICAL)
    every = room.policy.update_every
    return aud.cadence(room.state.severity, every) if aud else every


def minutes(delta: timedelta) -> str:
    """Whole-minute durations for the checklist: it redraws when the minute changes, not every
    second."""
    mins = int(abs(delta.total_seconds()) // 60)
    if mins < 1:
        return "<1m"
    if mins < 60:
        return f"{mins}m"
    h, m = divmod(mins, 60)
    return f"{h}h{m:02d}m" if h < 48 else f"{h // 24}d{h % 24:02d}h"


def update_row(ev: Event, text: str) -> tuple[str, str]:
    """A status update's timeline row: its kind and audience lead as a badge ("Notification
    → incidents, pager"); the text drops the drill banner and the heading the badge repeats,
    so notification, update and resolution rows no longer all read "[DRILL] This is..."."""
    label = str(ev.data.get("label") or "Update")
    to = ev.data.get("to")
    badge = f"{label} → {', '.join(map(str, to))}" if to else f"{label} (recorded only)"
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0].startswith(DRILL_MARKER):
        lines = lines[1:]
    if len(lines) > 1 and ":" in lines[0] and lines[0].split(":")[0].isupper():
        lines = lines[1:]  # "INCIDENT NOTIFICATION: ID title": the badge says it
    return badge, " · ".join(lines)
