"""The action item dialog: what, who, by when. Plain data out; the console records it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label

from warroom.widgets.dialogs import _Modal


@dataclass(frozen=True)
class ActionItemDraft:
    text: str
    owner: str  # "" for none
    due: str  # YYYY-MM-DD, "" for none


class ActionItemScreen(_Modal):
    """Enter in any field saves (the text is required, the date must read), Esc cancels."""

    def __init__(self, default_due: str = "") -> None:
        super().__init__()
        self.default_due = default_due

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="action-item"):
            yield Label("Add an action item", classes="title")
            yield Input(placeholder="What must be done? e.g. alert on pool exhaustion", id="what")
            yield Input(placeholder="owner, e.g. @ann (optional)", id="owner")
            yield Input(value=self.default_due, placeholder="due YYYY-MM-DD (optional)", id="due")
            yield Label("", classes="error", id="error")
            yield Label("Enter saves · Tab next field · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#what", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = " ".join(self.query_one("#what", Input).value.split())
        owner = self.query_one("#owner", Input).value.strip()
        due = self.query_one("#due", Input).value.strip()
        error = self.query_one("#error", Label)
        if not text:
            error.update("Say what must be done.")
            self.query_one("#what", Input).focus()
            return
        if due:
            try:
                date.fromisoformat(due)
            except ValueError:
                error.update(f"Not a date: {due!r}. Use YYYY-MM-DD, or leave it empty.")
                self.query_one("#due", Input).focus()
                return
        self.dismiss(ActionItemDraft(text, owner, due))
