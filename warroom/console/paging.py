"""Reaching people from the console: `E` escalates to a level (its criteria shown, its
targets paged), and the automatic escalations of [escalation] (the acknowledgement deadline
missed, the severity raised) are recorded as they fall due. The pages themselves go out
through the outbox with the updates (console/updates.py).

With no contact and no team configured, `E` asks for a name, as it always did.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.app import App

from warroom.console.session import Session
from warroom.console.work import announce, run_use_case
from warroom.escalation import escalate_to_level
from warroom.room import WarRoom
from warroom.signals import escalation_facts, record
from warroom.widgets.dialogs import PromptScreen
from warroom.widgets.escalation import OTHER, EscalateScreen, LevelRow


class PagingFeature:
    def __init__(self, app: App, session: Session, deliver: Callable[[], None]) -> None:
        self.app, self.session = app, session
        self.deliver = deliver  # a delivery pass, right after something was queued
        self._told: set[str] = set()  # automatic escalations this console announced

    def escalate(self) -> None:
        room = self.session.room
        if room is None:
            self.app.notify("No incident is open.", severity="warning")
            return
        d = self.session.settings.paging
        if d.empty:
            self._ask_name(room)
            return
        rows = [
            LevelRow(
                lv.id,
                lv.name,
                lv.criteria,
                "; ".join(
                    f"{r.name} ({', '.join(r.channels) or 'no channel'})" for r in d.paged(lv)
                ),
                state=_level_state(lv.rank, room.state.level_rank),
            )
            for lv in d.levels
        ]
        nxt = d.next_level(room.state.level)
        where = f"now at {room.state.level}" if room.state.level else "not escalated yet"

        def picked(level: str | None) -> None:
            if level == OTHER:
                self._ask_name(room)
            elif level:
                self._escalate(partial(escalate_to_level, room, level))

        self.app.push_screen(EscalateScreen(rows, nxt.id if nxt else None, where), picked)

    def _ask_name(self, room: WarRoom) -> None:
        def to(who: str | None) -> None:
            if who:
                self._escalate(partial(room.escalate, who))

        self.app.push_screen(PromptScreen("Escalate to", "team, person or level"), to)

    def _escalate(self, use_case: Callable[[], object]) -> None:
        def run() -> None:
            use_case()
            self.app.call_from_thread(self.deliver)

        run_use_case(self.app, run)

    def check(self) -> None:
        """Automatic escalations due now: recorded once per incident (whichever console sees
        them first), announced on this console, then paged."""
        room = self.session.writable_room
        if room is None:
            return
        s = self.session
        facts = escalation_facts(room.state, room.policy, s.settings.paging, s.clock())
        new = announce(self.app, self._told, facts, "Escalated")
        if new:
            self._escalate(partial(record, room, new))


def _level_state(rank: int, current: int) -> str:
    return "now" if rank == current else "passed" if rank < current else ""
