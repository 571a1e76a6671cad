"""Escalating to a level of [escalation]: the use case over a WarRoom. The event names the
level, its criteria and who it pages through what; the pages follow from it (the outbox's
pager, actions/paging.py), so the timeline alone says who was paged and why."""

from __future__ import annotations

from warroom.model import Event, Kind
from warroom.paging import escalation
from warroom.room import RoomError, WarRoom


def escalate_to_level(room: WarRoom, level_id: str, reason: str = "") -> Event:
    if room.state.resolved:
        raise RoomError("the incident is resolved; reopen it first (status investigating)")
    directory = room.settings.paging
    level = directory.level(level_id.strip().upper())
    if level is None:
        known = ", ".join(lv.id for lv in directory.levels) or "none configured"
        raise RoomError(f"no escalation level {level_id!r} (levels: {known})")
    text, data = escalation(directory, level, reason=reason)
    return room.record(Kind.ESCALATED, text, data, source=room.actor)
