"""The status-update composer: the right template, prefilled from the timeline, editable.

What the commander sees in the editor is exactly what every destination receives.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, TextArea

from warroom.sanitize import one_line, strip_control
from warroom.widgets.dialogs import DIALOG_CSS


class ComposerScreen(ModalScreen[str | None]):
    DEFAULT_CSS = (
        "ComposerScreen { align: center middle; }\n"
        + DIALOG_CSS
        # The text gives way to the destinations and the buttons: all of it fits 100x30.
        + "ComposerScreen .dialog { width: 100; max-width: 100%; height: 34; max-height: 100%; }"
        + "ComposerScreen TextArea { height: 1fr; min-height: 4; }"
    )
    BINDINGS = [
        Binding("ctrl+s", "send", "Send", id="composer.send"),
        Binding("escape", "cancel", "Cancel", id="composer.cancel"),
    ]

    def __init__(self, title: str, text: str, destinations: list[str]) -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.destinations = destinations

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="composer"):
            yield Label(Text(one_line(self.title_text)), classes="title")
            # The prefill quotes outside text (titles, alert summaries): no escape may reach
            # the terminal, nor the channel the update goes to.
            yield TextArea(strip_control(self.text), id="body", soft_wrap=True)
            where = ", ".join(self.destinations) if self.destinations else "no destinations set"
            yield Label(Text(f"to: {one_line(where)}"), classes="hint", id="to")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Send (ctrl+s)", id="send", variant="primary")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "send":
            self.action_send()
        else:
            self.dismiss(None)

    def action_send(self) -> None:
        body = self.query_one(TextArea).text.strip()
        if body:
            self.dismiss(body)

    def action_cancel(self) -> None:
        self.dismiss(None)
