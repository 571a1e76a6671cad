"""Status updates and pages from the console: `u` opens the composer prefilled from the
timeline, for an audience (when more than the responders have destinations); sent updates and
pages go to the outbox first, then out, retried until delivered. After a resolution the
console offers each audience its resolution notice."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App
from textual.worker import Worker

from warroom.actions.outbox import Outbox
from warroom.actions.paging import Pager, outbox_for
from warroom.actions.situation import Situation, from_timeline
from warroom.actions.updates import compose, post
from warroom.console.session import Session
from warroom.console.work import run_use_case
from warroom.destinations import TACTICAL
from warroom.model import format_duration
from warroom.paging import Audience
from warroom.widgets.composer import ComposerScreen
from warroom.widgets.dialogs import ChoiceScreen

TITLES = {"notification": "Incident notification (first update)", "resolution": "Resolution notice"}
LATER = "__later__"


class UpdatesFeature:
    def __init__(self, app: App, session: Session) -> None:
        self.app, self.session = app, session
        self.outbox: Outbox | None = None
        self.pager: Pager | None = None
        self.undelivered = 0
        self.pages_undelivered = 0
        self.on_change = lambda: None  # the timeline and the header show what went out
        self._running: Worker | None = None
        # The console's live view (checks now, alerts now, watched pods) over the timeline's.
        self.live: Callable[[Situation], Situation] = lambda base: base

    def open_outbox(self) -> None:
        """An outbox for the open incident (none while following another writer), with a
        destination per configured channel of every contact."""
        self.outbox = self.pager = None
        room = self.session.writable_room
        if room is not None:
            self.outbox = outbox_for(room, clock=self.session.clock, actor=self.session.actor)
            self.pager = Pager(room, self.outbox) if self.outbox else None

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
        if self.pager is not None:
            self.pager.sync()
        results = await outbox.deliver_due()
        for r in results:
            if not r.ok and r.attempts == 1 and r.destination.startswith("page:"):
                self.app.notify(f"{r.destination}: {r.error}", severity="error", title="Page")
        counts = outbox.undelivered_count(), outbox.undelivered_pages()
        if results or counts != (self.undelivered, self.pages_undelivered):
            self.undelivered, self.pages_undelivered = counts
            self.on_change()  # pages are told on the timeline as they go out

    # ----- writing -----------------------------------------------------------------------------
    def audiences(self) -> list[Audience]:
        s = self.session.settings
        return s.paging.in_use(s.destinations)

    def compose(self) -> None:
        room = self.session.room
        if room is None:
            self.app.notify("No incident is open.", severity="warning")
            return
        audiences = self.audiences()
        if len(audiences) == 1:
            self._compose(TACTICAL)
            return
        now, st = self.session.clock(), room.state
        choices = []
        for a in audiences:
            every = a.cadence(st.severity, room.policy.update_every)
            due = st.next_update_due(every, a.id)
            when = f"due in {format_duration(due - now)}" if due else "no cadence"
            choices.append((a.id, f"{a.title}: {when}"))
        self.app.push_screen(ChoiceScreen("Update for", choices), lambda a: a and self._compose(a))

    def _compose(self, audience: str) -> None:
        room = self.session.room
        if room is None:
            return
        s = self.session
        try:
            situation = self.live(from_timeline(room.events, room.state))
            kind, text = compose(room, s.clock(), s.settings.templates_dir, situation, audience)
        except Exception as exc:  # a broken template file: say which
            self.app.notify(str(exc), severity="error", title="Template")
            return
        outbox = self.outbox
        shown = outbox.hearing(audience) if outbox else []  # not the pagers, not the witness
        names = [f"{d.name} ({d.type})" for d in shown]
        n = room.state.audience_count.get(audience, 0) + 1
        title = TITLES.get(kind, f"Status update #{n}")
        if audience != TACTICAL:
            title += f" for {audience}"

        def send(text: str | None) -> None:
            if not text:
                return

            def record() -> None:
                post(room, text, kind, s.clock(), self.outbox, audience)
                self.app.call_from_thread(self.deliver)
                if kind == "resolution":
                    self.app.call_from_thread(self.offer_resolution)

            run_use_case(self.app, record)

        self.app.push_screen(ComposerScreen(title, text, names), send)

    def offer_resolution(self) -> None:
        """Resolved: each audience that has not had its resolution notice is offered one (with
        the responders alone, `u` writes theirs, as it always did)."""
        room = self.session.room
        audiences = self.audiences()
        if room is None or not room.state.resolved or len(audiences) == 1:
            return
        left = [a for a in audiences if a.id not in room.state.resolution_sent]
        if not left:
            return
        choices = [(a.id, f"{a.title}: send the resolution notice") for a in left]
        choices.append((LATER, "Not now (u writes one later)"))

        def picked(audience: str | None) -> None:
            if audience and audience != LATER:
                self._compose(audience)

        self.app.push_screen(ChoiceScreen("Resolved: tell them", choices), picked)
