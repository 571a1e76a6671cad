"""Outside text never acts: the same hostile strings go into every dialog, title and pane.

Pod names, log lines, alert names and annotations, role names, severity names in settings,
notes from other consoles: each can carry console markup (`[@click=app.quit]`, `[/]` that
crashes a parser), terminal escape sequences (a window title, C1 CSI) and invisible
characters that reorder what is read (bidi overrides, zero-width spaces). Each target is
rendered with them; the screen must show them as text, with no escape or invisible character
reaching the terminal, and no markup acting (the app keeps running, nothing is clicked).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from types import SimpleNamespace

import pytest
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widget import Widget

from warroom.nodes import NodeRow
from warroom.pods import PodDetails
from warroom.widgets.checklist import Checklist, ChecklistRow
from warroom.widgets.composer import ComposerScreen
from warroom.widgets.dialogs import (
    ChoiceScreen,
    ConfirmScreen,
    DeclareScreen,
    EventScreen,
    HelpEntry,
    HelpScreen,
    PromptScreen,
    SilenceScreen,
    TypedConfirmScreen,
)
from warroom.widgets.escalation import EscalateScreen, LevelRow
from warroom.widgets.evidence_progress import EvidenceProgress
from warroom.widgets.header import HeaderData, IncidentHeader
from warroom.widgets.health_pane import (
    AlertRow,
    AlertsTable,
    HealthRow,
    HealthTable,
    MutableAlertsTable,
)
from warroom.widgets.nodes_pane import MutableNodesTable
from warroom.widgets.pod_views import DescribeScreen, LogScreen
from warroom.widgets.pods_pane import PodsTable, PodTableRow
from warroom.widgets.series import QueryResultScreen, SeriesScreen
from warroom.widgets.source_status import SourceState, SourceStatus
from warroom.widgets.timeline import Timeline, TimelineRow
from warroom.widgets.workloads_pane import MutableWorkloadsTable
from warroom.workloads import WorkloadRow

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
MARKUP = "Disk[@click=app.quit]CLICK-QUIT[/] [/]oops [bold red]RED[/bold red] [link=x]L[/link]"
ESCAPES = "T\x1b]0;PWNED\x07I\x1b[31mR\x9b32mC\x07"
INVISIBLE = "exe\u202etxt.\u200bZW\u2066I\u2069"
HOSTILE = {
    "markup": MARKUP,
    "escapes": ESCAPES,
    "invisible": INVISIBLE,
    "all": f"{MARKUP} {ESCAPES} {INVISIBLE}",
}
BAD_CHARS = ["\x1b", "\x9b", "\x07", "\u202e", "\u200b", "\u2066", "\u2069"]


def header(s: str) -> Widget:
    w = IncidentHeader(lambda: NOW)
    w.show(
        HeaderData(
            incident_id="INC-1",
            title=s,
            severity="P1",
            severity_name=s,
            status="investigating",
            declared_at=NOW,
            roles={"commander": s, s: s},
            note=s,
            cadences=((s, NOW + timedelta(minutes=30)),),
            commander_phone=s,
            level=s,
            regulatory_by=NOW + timedelta(hours=70),
            pages_undelivered=2,
        )
    )
    return w


def timeline(s: str) -> Widget:
    w = Timeline()
    rows = [TimelineRow(1, "10:00:00", "note", s, s), TimelineRow(2, "10:00:01", s, s, s)]
    w.call_after_refresh(w.add_rows, rows)
    return w


def checklist(s: str) -> Widget:
    w = Checklist()
    w.set_rows(
        [ChecklistRow("a", "p", s, s, False, due="5m"), ChecklistRow("b", "p", s, s, True, by=s)]
    )
    return w


def health_table(s: str) -> Widget:
    """Names and errors come from outside; the columns fit the width, so each field is
    tried where it is shown in full (a never-cut value beside a long name cuts the name)."""
    w = HealthTable()
    w.call_after_refresh(
        w.set_rows,
        [
            HealthRow(s, "crit", "1", "≥1", [1.0, 2.0], detail=s),
            HealthRow("x", "error", "1", "", []),
        ],
    )
    return w


def health_values(s: str) -> Widget:
    w = HealthTable()
    w.call_after_refresh(
        w.set_rows, [HealthRow("x", "crit", s, s, [1.0]), HealthRow("y", "ok", s, s, [])]
    )
    return w


def alerts_table(s: str) -> Widget:
    w = AlertsTable(clock=lambda: NOW)
    w.call_after_refresh(w.set_rows, [AlertRow("fp", s, s, NOW - timedelta(minutes=3), s)])
    return w


def pods_table(s: str) -> Widget:
    w = PodsTable(clock=lambda: NOW)
    w.show_namespace = True
    row = PodTableRow("u1", s, s, "0/1", s, "3", s, s, False, ((s, s),), NOW, NOW)
    w.call_after_refresh(w.set_rows, {"u1": row})
    w.call_after_refresh(w.apply_filter, s[:20])
    w.call_after_refresh(w.apply_filter, "")
    return w


def silenced_alerts_table(s: str) -> Widget:
    w = MutableAlertsTable(clock=lambda: NOW)
    w.call_after_refresh(w.set_rows, [AlertRow("fp", s, s, NOW, s, silenced=True)])
    return w


def workloads_table(s: str) -> Widget:
    w = MutableWorkloadsTable(clock=lambda: NOW)
    w.show_namespace = True
    row = WorkloadRow(
        "u1",
        s,
        s,
        s,
        3,
        1,
        2,
        1,
        (s, s),
        s,
        f"progressing: {s}",
        False,
        2,
        1,
        NOW,
        s,
        ((s, s),),
        False,
    )
    w.call_after_refresh(w.set_rows, {"u1": row})
    w.call_after_refresh(w.apply_filter, s[:20])
    w.call_after_refresh(w.apply_filter, "")
    return w


def nodes_table(s: str) -> Widget:
    w = MutableNodesTable(clock=lambda: NOW)
    row = NodeRow("u1", s, s, (s,), 7, 3, 58, 3000, 3920, 2**33, 2**34, NOW, False, True, s)
    w.call_after_refresh(w.set_rows, {"u1": row})
    w.call_after_refresh(w.apply_filter, s[:20])
    w.call_after_refresh(w.apply_filter, "")
    return w


def drain_progress(s: str) -> Widget:
    w = EvidenceProgress()
    w.call_after_refresh(w.start, s, s, s)
    w.call_after_refresh(w.progress, 0.25, s)
    return w


def source_status(kind: str, s: str) -> Widget:
    w = SourceStatus(lambda: NOW)
    w.show(SourceState(kind, s, since=NOW - timedelta(seconds=9), summary=s))
    return w


def progress(s: str) -> Widget:
    w = EvidenceProgress()
    w.call_after_refresh(w.start, s, s)
    w.call_after_refresh(w.progress, 0.5, s)
    return w


def describe(s: str) -> Screen:
    row = SimpleNamespace(
        namespace=s,
        name=s,
        status=s,
        ready="0/1",
        node=s,
        owner_kind=s,
        owner_name=s,
        restarts=3,
        reason_detail=s,
        labels={s: s},
    )
    details = PodDetails(
        conditions=[{"type": s, "status": s, "reason": s, "message": s, "last_transition": NOW}],
        events=[
            {
                "type": s,
                "reason": s,
                "message": s,
                "count": 2,
                "last_seen": NOW,
                "first_seen": NOW,
                "source": s,
            }
        ],
        containers=[
            {
                "name": s,
                "image": s,
                "init": False,
                "ready": False,
                "restarts": 1,
                "state": s,
                "reason": s,
                "message": s,
                "exit_code": 1,
                "last_state": None,
            }
        ],
        row=row,
    )
    return DescribeScreen(row, details, s)


def logs(s: str) -> Screen:
    screen = LogScreen(s, s, 100)
    screen.call_after_refresh(screen.show_lines, [s, s * 3], s)
    return screen


def series(s: str) -> Screen:
    one = SimpleNamespace(points=[(0.0, 1.0), (1.0, 3.0)], labels={s: s})
    return SeriesScreen(s, str, [one], s, s)


WIDGETS: dict[str, Callable[[str], Widget]] = {
    "header": header,
    "timeline": timeline,
    "checklist": checklist,
    "health table": health_table,
    "health values": health_values,
    "alerts table": alerts_table,
    "pods table": pods_table,
    "silenced alerts table": silenced_alerts_table,
    "workloads table": workloads_table,
    "nodes table": nodes_table,
    "drain progress": drain_progress,
    "status ok": partial(source_status, "ok"),
    "status stale": partial(source_status, "stale"),
    "status live": partial(source_status, "live"),
    "status unconfigured": partial(source_status, "unconfigured"),
    "evidence progress": progress,
}
SCREENS: dict[str, Callable[[str], Screen]] = {
    "choice": lambda s: ChoiceScreen(s, [(s, s), ("x", s)], s),
    "prompt": lambda s: PromptScreen(s, s, s),
    "confirm": lambda s: ConfirmScreen(s, s, s),
    "typed confirm": lambda s: TypedConfirmScreen(s, s, s, s),
    "silence": lambda s: SilenceScreen(s, s),
    "declare": lambda s: DeclareScreen([("P1", s), ("P2", s)], [s, "app"]),
    "event": lambda s: EventScreen(
        {"seq": 1, "kind": s, "ts": s, "actor": s, "text": s, "data": {s: s}, "hash": s, "prev": s},
        s,
    ),
    "help": lambda s: HelpScreen([HelpEntry(s, s, s)]),
    "composer": lambda s: ComposerScreen(s, s, [s]),
    "escalate": lambda s: EscalateScreen([LevelRow(s, s, s, s), LevelRow("L3", s, s, "")], s, s),
    "series": series,
    "query": lambda s: QueryResultScreen(s, [{"labels": {s: s}, "value": s}], s),
    "logs": logs,
    "describe": describe,
}


class Host(App[None]):
    def __init__(self, widget: Widget | None = None, screen: Screen | None = None) -> None:
        super().__init__()
        self.widget, self.pushed = widget, screen
        self.clicked: list[str] = []

    def compose(self) -> ComposeResult:
        if self.widget is not None:
            yield self.widget

    def on_mount(self) -> None:
        if self.pushed is not None:
            self.push_screen(self.pushed)

    def action_quit(self) -> None:  # what [@click=app.quit] would run
        self.clicked.append("quit")
        super().exit()


async def look(app: Host, click: bool = False) -> str:
    async with app.run_test(size=(150, 45)) as pilot:
        await pilot.pause()
        await pilot.pause()
        shown = app.export_screenshot()
        if click:  # click about: markup must not have made a link
            for x in range(2, 150, 30):
                for y in range(1, 45, 8):
                    await pilot.click(offset=(x, y))
            await pilot.pause()
        running = app.is_running
    assert running and app.clicked == [], "outside text acted (a click ran an action)"
    return shown


def assert_inert(svg: str, hostile: str) -> None:
    for ch in BAD_CHARS:
        assert ch not in svg, f"{ch!r} reached the screen"
    if "CLICK-QUIT" in hostile:
        assert "CLICK" in svg  # shown as text, not swallowed as a tag
        assert "click=app.quit" in svg.replace("&#160;", " ")


@pytest.mark.parametrize("hostile", list(HOSTILE), ids=list(HOSTILE))
@pytest.mark.parametrize("name", list(WIDGETS))
async def test_panes_show_outside_text_inert(name: str, hostile: str) -> None:
    s = HOSTILE[hostile]
    assert_inert(await look(Host(widget=WIDGETS[name](s)), click="[@click" in s), s)


@pytest.mark.parametrize("hostile", list(HOSTILE), ids=list(HOSTILE))
@pytest.mark.parametrize("name", list(SCREENS))
async def test_dialogs_show_outside_text_inert(name: str, hostile: str) -> None:
    s = HOSTILE[hostile]
    assert_inert(await look(Host(screen=SCREENS[name](s)), click="[@click" in s), s)


async def test_a_megabyte_line_is_shown_not_choked_on() -> None:
    line = ("x" * 1023 + "\u202e") * 1024
    await look(Host(widget=timeline(line)))
    await look(Host(screen=ConfirmScreen("t", line[:200_000], "ok")))
