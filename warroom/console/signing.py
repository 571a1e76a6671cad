"""Signed checkpoints from the console: the chain head is signed with the responder's SSH key
after each of their actions and at least every `signing.interval` while events flow; the
witness (if configured) gets each checkpoint through the outbox.

Signing runs in a thread (ssh-keygen is a process). Without a usable key the console keeps
working and says once that the record is unsigned, with the reason in one line; if signing
works again later it says so, and a later failure is told again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from textual.app import App
from textual.worker import Worker

from warroom.actions.outbox import Outbox
from warroom.console.messages import TimelineChanged
from warroom.console.session import Session
from warroom.room import WarRoom
from warroom.trust.checkpoints import Signer, SigningClock
from warroom.trust.sshsig import SigningError

log = logging.getLogger("warroom")


class SigningFeature:
    def __init__(self, app: App, session: Session, outbox: Callable[[], Outbox | None]) -> None:
        self.app, self.session, self.outbox = app, session, outbox
        s = session.settings.signing
        self.signer = Signer(s) if s.enabled else None
        self.interval = s.interval.total_seconds()
        self.clock = SigningClock(session.actor)
        self.unsigned: str | None = None  # why this console cannot sign now (None: it can)
        self._told = False  # the responder heard about the current failure
        self._retry_at = 0.0  # monotonic: after a failure, try again once an interval passed
        self._running: Worker | None = None

    def tick(self) -> None:
        """Once a second: start a signing if one is due and none is under way."""
        room = self.session.writable_room
        if room is None or self.signer is None:
            return
        if self._running is not None and not self._running.is_finished:
            return
        if self.unsigned is not None and time.monotonic() < self._retry_at:
            return
        key = self.signer.key
        s = self.session
        fp = key.fingerprint if key else ""
        due = self.clock.due(room.events, fp, s.clock(), s.settings.signing.interval)
        if due.due:
            self._running = self.app.run_worker(
                lambda: self._sign(room), thread=True, group="sign", exit_on_error=False
            )

    def _sign(self, room: WarRoom) -> None:
        assert self.signer is not None
        try:
            cp = self.signer.sign_head(room)
        except SigningError as exc:
            log.warning("unsigned: %s", exc)
            self.app.call_from_thread(self._failed, str(exc))
            return
        if cp is None:
            return
        outbox = self.outbox()
        if outbox is not None and outbox.witness:
            outbox.enqueue(cp)
        self.app.call_from_thread(self._signed)
        self.app.post_message(TimelineChanged())

    def _failed(self, reason: str) -> None:
        self.unsigned = reason
        self._retry_at = time.monotonic() + self.interval
        if not self._told:
            self._told = True
            self.app.notify(
                f"This record is unsigned: {reason}. The incident goes on; signing is retried.",
                title="Unsigned",
                severity="warning",
                timeout=15,
            )

    def _signed(self) -> None:
        if self.unsigned is not None and self._told:
            key = self.signer.key if self.signer else None
            self.app.notify(
                f"Signing again with {key.source if key else 'the key'}.", title="Signed"
            )
        self.unsigned, self._told = None, False

    def last_chance(self) -> None:
        """On the way out: sign what this responder did since the last checkpoint."""
        room = self.session.writable_room
        if room is None or self.signer is None or self.unsigned is not None:
            return
        try:
            self.signer.sign_head(room)
        except SigningError as exc:
            log.warning("unsigned at exit: %s", exc)
