"""Views behind a pod row: its logs (virtualised: 100k lines stay responsive) and describe.

Pure views: they render lines and details handed to them and post intents (previous
container, follow) for the app to fetch; they never talk to the cluster themselves.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Label, Log, Static

from warroom.sanitize import one_line, strip_control
from warroom.widgets.dialogs import DIALOG_CSS, _Modal


class LogScreen(ModalScreen[None]):
    DEFAULT_CSS = (
        "LogScreen { align: center middle; }\n"
        + DIALOG_CSS
        + "LogScreen .dialog { width: 95%; height: 90%; } LogScreen Log { height: 1fr; }"
    )
    BINDINGS = [
        Binding("escape,q", "close", "Close", id="logs.close"),
        Binding("p", "previous", "Previous container", id="logs.previous"),
        Binding("f", "follow", "Follow", id="logs.follow"),
    ]

    class Wanted(Message):
        """The view wants lines: previous container or not, follow or not."""

        def __init__(self, screen: LogScreen) -> None:
            super().__init__()
            self.screen = screen

    def __init__(self, namespace: str, pod: str, tail: int) -> None:
        super().__init__()
        self.namespace = namespace
        self.pod = pod
        self.tail = tail
        self.previous = False
        self.following = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="logs"):
            yield Label(Text(""), classes="title", id="logs-title")
            yield Log(id="log", max_lines=200_000, auto_scroll=True)
            yield Label(Text("p previous container · f follow · esc close"), classes="hint")

    def on_mount(self) -> None:
        self._title("loading…")
        self.query_one(Log).focus()
        self.post_message(self.Wanted(self))

    def _title(self, state: str) -> None:
        which = "previous container" if self.previous else "current container"
        mode = ", following" if self.following else f", last {self.tail} lines"
        self.query_one("#logs-title", Label).update(
            Text(f"{one_line(self.namespace)}/{one_line(self.pod)}: {which}{mode}  {state}")
        )

    def show_lines(self, lines: list[str], state: str = "") -> None:
        log = self.query_one(Log)
        log.clear()
        log.write_lines([strip_control(line) for line in lines])
        self._title(state or f"{len(lines)} lines")

    def append_lines(self, lines: list[str]) -> None:
        self.query_one(Log).write_lines([strip_control(line) for line in lines])

    def show_error(self, error: str) -> None:
        log = self.query_one(Log)
        log.clear()
        log.write_line(strip_control(error))
        self._title("error")

    def action_previous(self) -> None:
        self.previous = not self.previous
        self.following = False
        self._title("loading…")
        self.post_message(self.Wanted(self))

    def action_follow(self) -> None:
        self.following = not self.following
        if self.following:
            self.previous = False
        self._title("loading…")
        self.post_message(self.Wanted(self))

    def action_close(self) -> None:
        self.following = False
        self.dismiss(None)


class DescribeScreen(_Modal):
    """Conditions, containers and recent events of one pod."""

    DEFAULT_CSS = "DescribeScreen .dialog { width: 110; }"

    def __init__(self, row: Any, details: Any | None, error: str | None) -> None:
        super().__init__()
        self.row = row
        self.details = details
        self.error = error

    def compose(self) -> ComposeResult:
        r = self.row
        with Vertical(classes="dialog", id="describe"):
            yield Label(
                Text(f"{one_line(r.namespace)}/{one_line(r.name)}  {one_line(r.status)}"),
                classes="title",
            )
            with VerticalScroll():
                if self.error:
                    yield Static(Text(one_line(self.error), style="red"))
                d = self.details
                if d is not None:
                    yield Static(
                        self._table(
                            "Conditions", ["type", "status", "reason", "message"], d.conditions
                        )
                    )
                    yield Static(
                        self._table(
                            "Containers",
                            ["name", "state", "ready", "restarts", "last_state"],
                            d.containers,
                        )
                    )
                    yield Static(
                        self._table(
                            "Events", ["last_seen", "type", "reason", "count", "message"], d.events
                        )
                    )
            yield Label(Text("esc closes"), classes="hint")

    @staticmethod
    def _table(title: str, cols: list[str], rows: list[dict[str, Any]]) -> Table:
        t = Table(
            title=title,
            title_justify="left",
            box=None,
            header_style="bold",
            padding=(0, 1),
            expand=True,
        )
        for c in cols:
            t.add_column(c.replace("_", " ").upper(), overflow="fold")
        for row in rows:
            t.add_row(*(Text(one_line(_cell(row.get(c)))) for c in cols))
        if not rows:
            t.add_row(*(Text("-", style="dim") for _ in cols))
        return t


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return " ".join(f"{k}={v}" for k, v in value.items() if v not in (None, ""))
    return str(value)
