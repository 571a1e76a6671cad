"""Status updates from the console: `u` opens the composer prefilled from the timeline; sent
updates go to the outbox first, then to every destination, retried until delivered."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App
from textual.worker import Worker

from warroom.actions.outbox import Outbox
from warroom.actions.situation import Situation, from_timeline
from warroom.actions.updates import compose, post
from warroom.console.session import Session
from warroom.console.work import run_use_case
from warroom.widgets.composer import ComposerScreen

TITLES = {"notification": "Incident notification (first update)", "resolution": "Resolution notice"}


class UpdatesFeature:
    def __init__(self, app: App, session: Session) -> None:
        self.app, self.session = app, session
        self.outbox: Outbox | None = None
        self.undelivered = 0
        self.on_change = lambda: None  # the header shows the undelivered count
        self._running: Worker | None = None
        # The console's live view (checks now, alerts now, watched pods) over the timeline's.
        self.live: Callable[[Situation], Situation] = lambda base: base

    def open_outbox(self) -> None:
        """An outbox for the open incident (none while following another writer)."""
        self.outbox = None
        room = self.session.writable_room
        dests = self.session.settings.destinations
        if room is not None and dests:
            s = self.session
            self.outbox = Outbox(room, dests, clock=s.clock, actor=s.actor)

    def deliver(self) -> None:
        """One delivery pass, unless one is still under way: a slow destination must finish
        its attempt, not be cancelled by the next tick and posted to again (a 3 s webhook got
        the same update 19 times in 40 s that way)."""
        if self._running is not None and not self._running.is_finished:
            return
        self._running = self.app.run_worker(self._deliver(), group="deliver", exit_on_error=False)

    async def _deliver(self) -> None:
        outbox = self.outbox
        if outbox is None:
            return
        await outbox.deliver_due()
        count = outbox.undelivered_count()
        if count != self.undelivered:
            self.undelivered = count
            self.on_change()

    def compose(self) -> None:
        room = self.session.room
        if room is None:
            self.app.notify("No incident is open.", severity="warning")
            return
        s = self.session
        try:
            situation = self.live(from_timeline(room.events, room.state))
            kind, text = compose(room, s.clock(), s.settings.templates_dir, situation)
        except Exception as exc:  # a broken template file: say which
            self.app.notify(str(exc), severity="error", title="Template")
            return
        outbox = self.outbox
        names = [f"{d.name} ({d.type})" for d in (outbox.destinations.values() if outbox else [])]
        title = TITLES.get(kind, f"Status update #{room.state.updates_sent + 1}")

        def send(text: str | None) -> None:
            if not text:
                return

            def record() -> None:
                post(room, text, kind, s.clock(), self.outbox)
                self.app.call_from_thread(self.deliver)

            run_use_case(self.app, record)

        self.app.push_screen(ComposerScreen(title, text, names), send)
