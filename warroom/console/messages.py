"""Messages the features post to the app: snapshots from workers (thread-safe to post) and the
results the screen must show. A newer snapshot supersedes a queued older one (can_replace), so
a busy UI thread draws the latest state instead of a backlog."""

from __future__ import annotations

from dataclasses import replace

from textual.message import Message

from warroom.alerts import AlertSnapshot
from warroom.health import HealthSnapshot
from warroom.pods import PodsSnapshot, merge_deltas
from warroom.room import WarRoom


class HealthRefreshed(Message):
    def __init__(self, snapshot: HealthSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, HealthRefreshed)


class AlertsRefreshed(Message):
    def __init__(self, snapshot: AlertSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, AlertsRefreshed)


class PodsRefreshed(Message):
    """A pods snapshot. When a newer one supersedes it in the queue, its delta is folded into
    the newer one: the table and the tracker still see every changed pod."""

    def __init__(self, snapshot: PodsSnapshot) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        if not isinstance(message, PodsRefreshed):
            return False
        old, new = self.snapshot, message.snapshot
        changed, removed = merge_deltas((old.changed, old.removed), (new.changed, new.removed))
        message.snapshot = replace(new, changed=changed, removed=removed)
        return True


class RoomOpened(Message):
    """A declared incident is ready: the console switches to it."""

    def __init__(self, room: WarRoom) -> None:
        super().__init__()
        self.room = room


class TimelineChanged(Message):
    """The open incident's timeline grew (this console, another one, or the drill)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TimelineChanged)
