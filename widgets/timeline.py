"""The timeline: every fact of the incident, newest at the bottom.

A Line API ScrollView: only the rows on screen are rendered, so 10k+ events cost the same per
frame as 50. It follows new events while the cursor sits on the last row; once the commander
moves up to read, it stays put (and says how many new events arrived below).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

from warroom.sanitize import one_line, strip_control
from warroom.widgets.keys import bindings_for
from warroom.widgets.messages import EventHighlighted, EventSelected, PinRequested

# A distinct mark and colour per kind, so a scan of the left edge tells the story.
KIND_MARKS: dict[str, tuple[str, str]] = {
    "declared": ("◆", "bold magenta"),
    "severity": ("▲", "bold red"),
    "status": ("●", "bold cyan"),
    "role": ("@", "cyan"),
    "note": ("✎", "white"),
    "pin": ("★", "yellow"),
    "checklist": ("☑", "green"),
    "action": ("»", "bold yellow"),
    "outcome": ("⇒", "yellow"),
    "change": ("Δ", "bold yellow"),
    "ack": ("✓", "green"),
    "escalated": ("↑", "bold red"),
    "page": ("☏", "bold red"),
    "detected": ("◎", "magenta"),
    "alert": ("!", "bold red"),
    "check": ("♦", "yellow"),
    "pod": ("■", "blue"),
    "evidence": ("#", "bright_blue"),
    "update": ("✉", "bright_cyan"),
    "deadline": ("‼", "bold red"),
    "suggestion": ("?", "bold magenta"),
    "edit": ("✎", "dim"),
    "resolved": ("✔", "bold green"),
    "system": ("·", "dim"),
    "action_item": ("✚", "bold green"),
    "checkpoint": ("≡", "green"),
    "custody": ("⇄", "bright_blue"),
}


MARGIN = 1  # blank cells between a row's text and the pane's right border


@dataclass(frozen=True, slots=True)
class TimelineRow:
    seq: int
    time: str  # HH:MM:SS, UTC
    kind: str
    actor: str
    text: str
    pinned: bool = False
    edited: bool = False
    badge: str = ""  # leads the text, highlighted: "Notification → #incidents"


class Timeline(ScrollView, can_focus=True):
    BINDINGS = [
        # Arrow keys only: letters belong to the incident actions (k acknowledges anywhere).
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        *bindings_for("timeline"),  # end / G: follow again
    ]

    DEFAULT_CSS = """
    Timeline { height: 1fr; overflow-x: hidden; }
    """

    cursor: reactive[int] = reactive(-1, always_update=True)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: list[TimelineRow] = []
        self._index: dict[int, int] = {}  # seq -> row index
        self.unseen = 0  # rows that arrived below while the user was reading above

    # ----- data -------------------------------------------------------------------------
    @property
    def following(self) -> bool:
        return self.cursor >= len(self.rows) - 1

    def add_rows(self, rows: list[TimelineRow]) -> None:
        if not rows:
            return
        follow = self.following
        for row in rows:
            self._index[row.seq] = len(self.rows)
            self.rows.append(row)
        self._grow(Size(self._content_width(), len(self.rows)))
        if follow:
            self.unseen = 0
            self.cursor = len(self.rows) - 1
            self.scroll_to(y=max(0, len(self.rows) - self.size.height), animate=False)
        else:
            self.unseen += len(rows)
        self.refresh()

    def _grow(self, size: Size) -> None:
        """More rows without a screen-wide layout. virtual_size is a layout reactive: setting
        it re-laid the whole screen for every batch of events (4 a second while pods churn,
        with a 10k-row pods table beside it). Only the scrollbar depends on it, so update
        that; a scrollbar appearing still asks for a layout by itself."""
        self.set_reactive(Timeline.virtual_size, size)
        self._scroll_update(size)

    def clear_rows(self) -> None:
        self.rows = []
        self._index = {}
        self.unseen = 0
        self.cursor = -1
        self.virtual_size = Size(self._content_width(), 0)
        self.scroll_to(y=0, animate=False)
        self.refresh()

    def update_row(self, seq: int, **changes: object) -> None:
        i = self._index.get(seq)
        if i is None:
            return
        old = self.rows[i]
        self.rows[i] = TimelineRow(**{**_asdict(old), **changes})  # type: ignore[arg-type]
        self.refresh_line(i)

    def refresh_line(self, index: int) -> None:
        y = index - round(self.scroll_offset.y)
        if 0 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _content_width(self) -> int:
        return max(self.scrollable_content_region.width, 1)

    # ----- rendering --------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        _scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width  # beside the scrollbar, not under it
        if self.unseen and y == self.size.height - 1:
            return self._unseen_line(width)
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        row = self.rows[index]
        selected = index == self.cursor and self.has_focus
        mark, mark_style = KIND_MARKS.get(row.kind, ("•", "white"))
        base = self.rich_style
        if row.pinned:
            base = base + Style(bgcolor="grey23")
        if selected:
            base = base + Style(reverse=True)
        text = one_line(row.text) + (" (edited)" if row.edited else "")
        segments = [
            Segment(f"{row.time} ", base + Style(dim=True)),
            Segment("★" if row.pinned else " ", base + Style(color="yellow", bold=True)),
            Segment(f"{mark} ", base + Style.parse(mark_style)),
            Segment(f"{one_line(row.actor)[:12]:<12} ", base + Style(color="bright_black")),
        ]
        if row.badge:
            badge = Style(color="black", bgcolor="bright_cyan", bold=True)
            segments += [Segment(f" {one_line(row.badge)} ", base + badge), Segment(" ", base)]
        segments.append(Segment(text, base))
        strip = Strip(segments)
        room = width - MARGIN  # text never touches the border
        if strip.cell_length > room > 1:  # a cut row says so; its full text is below
            strip = Strip.join([strip.crop(0, room - 1), Strip([Segment("…", base)])])
        return strip.crop_extend(0, width, base)

    def _unseen_line(self, width: int) -> Strip:
        """Over the last visible row while new events arrive below the one being read."""
        s = "" if self.unseen == 1 else "s"
        text = f" ↓ {self.unseen} new event{s} below · end or G to follow "
        style = self.rich_style + Style(color="black", bgcolor="yellow", bold=True)
        return Strip([Segment(text.center(width, "─")[:width], style)]).crop_extend(0, width, style)

    PREFIX = 25  # time, pin, mark and actor columns before the text

    def watch_cursor(self, old: int, new: int) -> None:
        if self.rows and new == len(self.rows) - 1:
            self.unseen = 0
        self._announce()
        self.refresh()

    def on_resize(self) -> None:
        self._announce()  # a row that fitted may be cut now, or the other way round

    def _announce(self) -> None:
        """Tell the screen which event is under the cursor and whether its row cuts it."""
        if not 0 <= self.cursor < len(self.rows) or self.size.width == 0:
            return  # not laid out yet: on_resize tells
        row = self.rows[self.cursor]
        shown = len(one_line(row.text)) + (len(row.badge) + 3 if row.badge else 0)
        width = self.scrollable_content_region.width
        cut = shown > width - MARGIN - self.PREFIX or "\n" in row.text
        self.post_message(EventHighlighted(row.seq, cut))

    def on_focus(self) -> None:
        self.cursor = self.cursor if self.cursor >= 0 or not self.rows else len(self.rows) - 1
        self.refresh()

    def on_blur(self) -> None:
        self.post_message(EventHighlighted(-1, False))  # the details line goes with the focus
        self.refresh()

    # ----- actions ----------------------------------------------------------------------
    def _move_to(self, index: int) -> None:
        if not self.rows:
            return
        index = max(0, min(index, len(self.rows) - 1))
        self.cursor = index
        top = round(self.scroll_offset.y)
        height = max(self.size.height, 1)
        if index < top:
            self.scroll_to(y=index, animate=False)
        elif index >= top + height:
            self.scroll_to(y=index - height + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self._move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move_to(self.cursor + direction * max(self.size.height - 1, 1))

    def action_first(self) -> None:
        self._move_to(0)

    def action_last(self) -> None:
        self._move_to(len(self.rows) - 1)

    def selected_seq(self) -> int | None:
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor].seq
        return None

    def action_open(self) -> None:
        seq = self.selected_seq()
        if seq is not None:
            self.post_message(EventSelected(seq))

    def action_pin(self) -> None:
        seq = self.selected_seq()
        if seq is not None:
            self.post_message(PinRequested(seq))


class TimelineDetails(Static):
    """The full text of the event under the cursor when its row cuts it: every line, wrapped,
    inert. Hidden while the row shows everything."""

    DEFAULT_CSS = """
    TimelineDetails {
        height: auto; max-height: 8; border-top: solid $primary-darken-3;
        padding: 0 1; display: none; overflow-y: auto;
    }
    """

    def show_text(self, text: str | None) -> None:
        if not text:
            self.display = False
            return
        self.update(Text(strip_control(text)))
        self.display = True


def _asdict(row: TimelineRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in TimelineRow.__slots__}
