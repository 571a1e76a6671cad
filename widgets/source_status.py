"""One line that says plainly what a pane is waiting for or how stale its data is.

"not configured: ...", "connecting to URL", "stale since 10:04:05 (12s ago)  Connection refused
(URL)", "updated 3s ago" for a polled source, "live" for a watch that is connected. Never a
fake table: a pane without data says why it has none.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.widget import Widget

from warroom.model import format_duration
from warroom.sanitize import one_line


@dataclass(frozen=True)
class SourceState:
    kind: str  # "unconfigured" | "connecting" | "ok" | "live" | "stale" | "error"
    message: str = ""
    since: datetime | None = None  # ok: last success; stale: first failure
    summary: str = ""  # e.g. "3/42 unhealthy in 2 namespaces"


class SourceStatus(Widget):
    DEFAULT_CSS = """
    SourceStatus { height: 1; padding: 0 1; }
    """

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.state = SourceState("connecting")

    def show(self, state: SourceState) -> None:
        self.state = state
        self.refresh()

    def render(self) -> Text:
        s = self.state
        now = self.clock()
        t = Text(no_wrap=True, overflow="ellipsis")
        msg = one_line(s.message)
        if s.kind == "unconfigured":
            t.append("not configured: ", style="bold yellow")
            t.append(msg, style="dim")
        elif s.kind == "connecting":
            t.append("connecting", style="bold cyan")
            t.append(f" to {msg}" if msg else "…")
        elif s.kind == "stale":
            since = s.since.strftime("%H:%M:%S") if s.since else "?"
            ago = f" ({format_duration(now - s.since)} ago)" if s.since else ""
            t.append(f"stale since {since}{ago}", style="bold white on red")
            t.append(f"  {msg}", style="red")
        elif s.kind == "live":  # a watch: connected now, nothing to count up
            if s.summary:
                t.append(one_line(s.summary), style="bold")
                t.append("  ")
            t.append("live", style="bold green")
        elif s.kind == "error":
            t.append("error: ", style="bold red")
            t.append(msg)
        else:
            if s.summary:
                t.append(one_line(s.summary), style="bold")
                t.append("  ")
            if s.since:
                t.append(f"updated {format_duration(now - s.since)} ago", style="dim")
            if msg:
                t.append(f"  {msg}", style="dim")
        return t
