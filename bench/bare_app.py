"""A bare Textual app with the console's layout (header, health | pods, timeline | checklist,
footer) and nothing of warroom: the yardstick of bench/startup.py. Writes the time of its
first frame to $WARROOM_FIRST_FRAME_FILE, as the console does."""

from __future__ import annotations

import os
import time

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Footer, Static


class Pane(Vertical):
    DEFAULT_CSS = "Pane { border: round $primary-darken-2; height: 1fr; }"


class BareApp(App[None]):
    def compose(self) -> ComposeResult:
        yield Static("INC-0 P1 header\nroles\nnext update", id="header")
        with Horizontal():
            with Pane():
                yield DataTable(id="health")
            with Pane():
                yield DataTable(id="pods")
        with Horizontal():
            with Pane():
                yield DataTable(id="timeline")
            with Pane():
                yield Static("checklist")
        yield Footer()

    def on_mount(self) -> None:
        self.call_after_refresh(self._first_frame)

    def _first_frame(self) -> None:
        marker = os.environ.get("WARROOM_FIRST_FRAME_FILE")
        if marker:
            with open(marker, "w", encoding="utf-8") as f:
                f.write(f"{time.time():.6f}\n")


if __name__ == "__main__":
    BareApp().run()
