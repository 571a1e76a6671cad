"""The incident header: who, what, how bad, how long, and what is due next.

The countdowns are the commander's clock: the next status update (cadence from the severity's
SLA) and, while nobody has acknowledged, the response and escalation deadlines. Each turns
warning-coloured shortly before its deadline and red once it has passed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rich.text import Text
from textual.widget import Widget

from warroom.model import format_duration
from warroom.sanitize import one_line
from warroom.widgets.columns import end_ellipsis

SEVERITY_STYLES = {
    "P0": "bold white on red",
    "P1": "bold black on dark_orange",
    "P2": "bold black on yellow",
    "P3": "bold white on blue",
}
STATUS_STYLES = {
    "investigating": "bold red",
    "identified": "bold dark_orange",
    "monitoring": "bold yellow",
    "resolved": "bold green",
}


@dataclass(frozen=True)
class HeaderData:
    incident_id: str
    title: str
    severity: str
    severity_name: str
    status: str
    declared_at: datetime | None
    resolved_at: datetime | None = None
    roles: dict[str, str] = field(default_factory=dict)
    next_update_at: datetime | None = None
    respond_by: datetime | None = None  # while unacknowledged
    escalate_by: datetime | None = None  # while unacknowledged and not escalated
    drill: bool = False
    read_only: bool = False
    undelivered: int = 0
    warn_before: timedelta = timedelta(minutes=5)
    note: str = ""  # e.g. "suggest P1: error ratio > 5% for 2m (press S)"
    offline_since: datetime | None = None  # the shared database is out of reach since then
    spooled: int = 0  # events written to the local spool meanwhile
    drill_hint: str = ""  # "KUBECONFIG=/tmp/…": how to reach the drill cluster
    # Each audience's next update ("execs", due) beside the responders' next_update_at.
    cadences: tuple[tuple[str, datetime], ...] = ()
    regulatory_by: datetime | None = None  # the regulator's notification deadline
    commander_phone: str = ""
    level: str = ""  # the escalation level reached ("L2")
    pages_undelivered: int = 0


def offline_text(since: datetime, spooled: int) -> Text:
    s = "" if spooled == 1 else "s"
    when = since.strftime("%H:%M:%S UTC")
    return Text(f"offline since {when}, {spooled} event{s} spooled", style="bold white on red")


def countdown(label: str, due: datetime, now: datetime, warn: timedelta) -> Text:
    left = due - now
    if left.total_seconds() < 0:
        return Text(f"{label} OVERDUE {format_duration(-left)}", style="bold white on red")
    style = "bold black on yellow" if left <= warn else "bold"
    return Text(f"{label} in {format_duration(left)}", style=style)


class IncidentHeader(Widget):
    DEFAULT_CSS = """
    IncidentHeader { height: 3; background: $panel; padding: 0 1; }
    """

    def __init__(self, clock: Callable[[], datetime], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.data: HeaderData | None = None

    def show(self, data: HeaderData) -> None:
        self.data = data
        self.refresh()

    def tick(self) -> None:
        self.refresh()

    def render(self) -> Text:
        d = self.data
        if d is None:
            return Text("warroom: no incident open", style="dim")
        now = self.clock()
        line1 = Text()
        if d.drill:
            line1.append(" DRILL ", style="bold black on bright_cyan")
            line1.append(" ")
        line1.append(
            f" {one_line(d.severity)} {one_line(d.severity_name)} ",
            style=SEVERITY_STYLES.get(d.severity, ""),
        )
        line1.append(" ")
        line1.append(one_line(d.incident_id), style="bold")
        line1.append("  ")
        tail = Text()
        tail.append(one_line(d.status).upper(), style=STATUS_STYLES.get(d.status, "bold"))
        if d.declared_at:
            end = d.resolved_at or now
            tail.append(f"  elapsed {format_duration(end - d.declared_at)}", style="bold")
        if d.read_only:
            tail.append("  READ-ONLY", style="bold magenta")
        # The title gives way: severity, id, status and the elapsed time stay on line 1.
        width = self.content_size.width or 200
        room = width - line1.cell_len - tail.cell_len - 2
        line1.append(end_ellipsis(one_line(d.title)[:90], max(0, room)))
        line1.append("  ")
        line1.append_text(tail)

        line2 = Text()
        if d.roles:
            parts = [f"{one_line(role)}: {one_line(name)}" for role, name in d.roles.items()]
            line2.append("  ".join(parts), style="cyan")
        else:
            line2.append("no roles assigned (o to assign)", style="dim")
        if d.commander_phone:
            line2.append(f"  ☎ commander {one_line(d.commander_phone)}", style="bold cyan")
        if d.level:
            line2.append(f"  escalated: {one_line(d.level)}", style="bold red")
        if d.drill_hint:
            line2.append("   ")
            line2.append(one_line(d.drill_hint), style="bright_cyan")

        line3 = Text()
        clocks: list[Text] = []
        if d.offline_since:
            clocks.append(offline_text(d.offline_since, d.spooled))
        if d.next_update_at:
            clocks.append(countdown("next update", d.next_update_at, now, d.warn_before))
        for label, due in d.cadences:
            clocks.append(countdown(one_line(label), due, now, d.warn_before))
        if d.regulatory_by:
            clocks.append(countdown("regulator", d.regulatory_by, now, d.warn_before))
        if d.respond_by:
            clocks.append(countdown("ack", d.respond_by, now, d.warn_before))
        if d.escalate_by:
            clocks.append(countdown("escalate", d.escalate_by, now, d.warn_before))
        if d.undelivered:
            s = "s" if d.undelivered != 1 else ""
            clocks.append(Text(f"{d.undelivered} update{s} undelivered", style="bold white on red"))
        if d.pages_undelivered:
            s = "s" if d.pages_undelivered != 1 else ""
            text = f"{d.pages_undelivered} page{s} undelivered"
            clocks.append(Text(text, style="bold white on red"))
        if d.resolved_at:
            clocks.append(Text("resolved", style="bold green"))
        for i, c in enumerate(clocks):
            if i:
                line3.append("   ")
            line3.append_text(c)
        if d.note:
            line3.append("   ")
            line3.append(one_line(d.note), style="bold magenta")
        for line in (line1, line2, line3):
            line.truncate(width, overflow="ellipsis")
        return Text("\n").join([line1, line2, line3])
