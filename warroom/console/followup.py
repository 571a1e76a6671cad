"""Action items from the console: `A` asks what, who and by when, and records the item
through the room (the same use case as `warroom action add` and a TODO(...) note)."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from textual.app import App

from warroom.console.session import Session
from warroom.console.work import run_use_case
from warroom.widgets.followup import ActionItemDraft, ActionItemScreen

DEFAULT_DUE = timedelta(days=7)  # a follow-up without a date is one nobody does


class FollowUpFeature:
    def __init__(self, app: App, session: Session) -> None:
        self.app = app
        self.session = session

    def add_item(self) -> None:
        room = self.session.writable_room
        if room is None:
            self.app.notify("No incident this console may write to.", severity="warning")
            return
        due = (self.session.clock() + DEFAULT_DUE).date().isoformat()

        def done(draft: ActionItemDraft | None) -> None:
            if draft is not None:
                add = partial(
                    room.add_action_item, draft.text, draft.owner or None, draft.due or None
                )
                run_use_case(self.app, add)

        self.app.push_screen(ActionItemScreen(due), done)
