"""What the features of one console share: settings, the repository, the clock, the incident
open now (it changes when one is declared), the read-only decision, what RBAC allows and the
signal trackers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from warroom.actions.access import Access
from warroom.room import WarRoom
from warroom.settings import Settings
from warroom.signals import Signals
from warroom.store import IncidentRepository


class Session:
    def __init__(
        self,
        settings: Settings,
        repo: IncidentRepository,
        clock: Callable[[], datetime],
        *,
        room: WarRoom | None = None,
        read_only: bool = False,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.clock = clock
        self.room = room
        self.read_only = read_only  # decided once (bootstrap.read_only_for), used everywhere
        self.access = Access()  # what RBAC lets this responder do (SelfSubjectAccessReview)
        self.signals = Signals(
            settings.health.specs,
            settings.health.rules,
            alert_restart_grace=settings.alertmanager.restart_grace,
            source_lost_after=settings.lost_after,
        )

    @property
    def actor(self) -> str:
        return self.settings.actor

    @property
    def writable_room(self) -> WarRoom | None:
        """The open incident if this console may write to it (not following another writer)."""
        room = self.room
        return room if room is not None and not room.store.read_only else None
