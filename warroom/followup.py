"""After the incident: action items closed, reopened and linked to tickets, and the review
meeting scheduled within the procedures' window. Use cases over a WarRoom: every change is a
timeline event written through the room, so the follow-up stays hash-chained with the incident.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from warroom.action_items import ActionItem
from warroom.model import Event, Kind, format_duration
from warroom.room import RoomError, WarRoom

REVIEW_ITEM = "review-meeting"
SCHEDULED_ITEMS = ("postmortem-scheduled",)  # playbook items a scheduled review ticks


def item(room: WarRoom, item_id: str) -> ActionItem:
    found = room.state.action_items.get(item_id.strip().upper())
    if found is None:
        known = ", ".join(room.state.action_items) or "none yet"
        raise RoomError(f"no action item {item_id!r} in {room.incident_id} (items: {known})")
    return found


def close_item(room: WarRoom, item_id: str) -> Event:
    return _set_state(room, item_id, done=True)


def reopen_item(room: WarRoom, item_id: str) -> Event:
    return _set_state(room, item_id, done=False)


def _set_state(room: WarRoom, item_id: str, *, done: bool) -> Event:
    it = item(room, item_id)
    if it.done == done:
        raise RoomError(
            f"{it.id} is already done (by {it.closed_by})" if done else f"{it.id} is open"
        )
    op, said = ("done", "done") if done else ("reopen", "reopened")
    return room.record(
        Kind.ACTION_ITEM,
        f"Action item {it.id} {said}: {it.text}",
        {"op": op, "item": it.id},
        source=room.actor,
    )


def record_ticket(room: WarRoom, item_id: str, tracker: str, url: str, key: str = "") -> Event:
    """The ticket an item became (the tracker answered 201 with this URL)."""
    it = item(room, item_id)
    data: dict[str, Any] = {"op": "ticket", "item": it.id, "tracker": tracker, "url": url}
    if key:
        data["key"] = key
    return room.record(
        Kind.ACTION_ITEM, f"Action item {it.id} filed in {tracker}: {url}", data, source=room.actor
    )


def review_deadline(room: WarRoom, now: datetime) -> tuple[datetime, timedelta]:
    """By when the review meeting should be held: the severity's review_within after
    resolution (after now while the incident is still open)."""
    window = room.policy.review_within
    return (room.state.resolved_at or now) + window, window


def scheduled_review(room: WarRoom) -> datetime | None:
    it = room.state.checklist.get(REVIEW_ITEM)
    return it.due_at if it is not None else None


def schedule_review(room: WarRoom, at: datetime, now: datetime) -> list[Event]:
    """A checklist item for the review meeting, due at `at`, which must fall between now and
    the window's end; a playbook item "post-mortem scheduled" is ticked with it."""
    st = room.state
    if st.declared_at is None:
        raise RoomError("the incident has no declaration")
    already = scheduled_review(room)
    if already is not None:
        raise RoomError(f"the review meeting is already scheduled for {already:%Y-%m-%d %H:%M} UTC")
    deadline, window = review_deadline(room, now)
    sev = st.severity.value
    if at < now:
        raise RoomError(f"{at:%Y-%m-%d %H:%M} UTC is in the past")
    if at > deadline:
        raise RoomError(
            f"{sev} reviews are held within {format_duration(window)} of resolution: "
            f"by {deadline:%Y-%m-%d %H:%M} UTC"
        )
    text = f"Review meeting {at:%Y-%m-%d %H:%M} UTC ({sev}: within {format_duration(window)})"
    entry = {
        "id": REVIEW_ITEM,
        "phase": "post",
        "phase_title": "Post-incident",
        "text": text,
        "due_after_s": (at - st.declared_at).total_seconds(),
    }
    out = [room.record(Kind.CHECKLIST, f"Checklist: {text}", {"op": "add", "items": [entry]})]
    for item_id in SCHEDULED_ITEMS:
        pending = st.checklist.get(item_id)
        if pending is not None and not pending.done:
            out.append(room.toggle_item(item_id))
    return out
