"""Messages the features post to the app: snapshots from workers (thread-safe to post) and the
results the screen must show. A newer snapshot supersedes a queued older one (can_replace), so
a busy UI thread draws the latest state instead of a backlog."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from textual.message import Message

from warroom.alerts import AlertSnapshot
from warroom.health import HealthSnapshot
from warroom.pods import PodsSnapshot, WatchSnapshot, merge_deltas
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


class _Folded(Message):
    """A watch snapshot of another view; a newer one supersedes it, its delta folded in."""

    def __init__(self, snapshot: WatchSnapshot[Any]) -> None:
        super().__init__()
        self.snapshot = snapshot

    def can_replace(self, message: Message) -> bool:
        if type(message) is not type(self):
            return False
        old, new = self.snapshot, message.snapshot  # type: ignore[attr-defined]
        changed, removed = merge_deltas((old.changed, old.removed), (new.changed, new.removed))
        message.snapshot = replace(new, changed=changed, removed=removed)  # type: ignore[attr-defined]
        return True


class PodsRefreshed(_Folded):
    """A pods snapshot. When a newer one supersedes it in the queue, its delta is folded into
    the newer one: the table and the tracker still see every changed pod."""

    snapshot: PodsSnapshot


class WorkloadsRefreshed(_Folded):
    """Deployments, StatefulSets, DaemonSets of the incident's namespaces."""


class NodesRefreshed(_Folded):
    """The cluster's nodes."""


class LoadsRefreshed(_Folded):
    """The requests of every pod, by node (the nodes view's CPU and memory)."""


class RoomOpened(Message):
    """A declared incident is ready: the console switches to it."""

    def __init__(self, room: WarRoom) -> None:
        super().__init__()
        self.room = room


class TimelineChanged(Message):
    """The open incident's timeline grew (this console, another one, or the drill)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, TimelineChanged)
