"""Health pane: one row per Prometheus check (state, value, threshold, 30-minute sparkline),
then the alerts firing in Alertmanager. Rows are plain data; the app maps snapshots to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from warroom.model import utcnow
from warroom.sanitize import one_line
from warroom.widgets.cells import Since
from warroom.widgets.columns import end_ellipsis, middle_ellipsis
from warroom.widgets.keys import bindings_for

STATE_STYLES = {
    "ok": ("OK", "bold green"),
    "warn": ("WARN", "bold black on yellow"),
    "crit": ("CRIT", "bold white on red"),
    "nodata": ("NO DATA", "bold magenta"),
    "error": ("ERROR", "bold red"),
}
BLOCKS = "▁▂▃▄▅▆▇█"
AGE_STEP = 1.0  # seconds between redraws of the alerts' ages
TREND_POINTS = 24  # the sparkline's widest: one point a column
ERROR_CELLS = 40  # the most of a check's error the value column grows for


def sparkline(values: list[float], width: int = 24) -> str:
    """Unicode block sparkline of the last `width` points, scaled to their own min..max."""
    if width <= 0:
        return ""
    pts = [v for v in values if v == v][-width:]  # drop NaN
    if not pts:
        return ""
    lo, hi = min(pts), max(pts)
    if hi - lo < 1e-12:
        return BLOCKS[0] * len(pts)
    scale = (len(BLOCKS) - 1) / (hi - lo)
    return "".join(BLOCKS[round((v - lo) * scale)] for v in pts)


def _trend_style(state: str) -> str:
    return {"ok": "green", "warn": "yellow", "crit": "red"}.get(state, "magenta")


@dataclass(frozen=True)
class HealthRow:
    name: str
    state: str  # ok | warn | crit | nodata | error
    value: str
    threshold: str
    trend: list[float]
    detail: str = ""  # the error for this row, if any


@dataclass(frozen=True)
class AlertRow:
    fingerprint: str
    name: str
    severity: str
    starts_at: datetime | None  # AGE is drawn from it, so it ticks between refreshes
    summary: str
    silenced: bool = False  # suppressed by a silence: shown dim, `m` expires it


class FittedTable(DataTable):
    """A DataTable whose columns are fitted to its width, never scrolled sideways: each
    subclass says how its columns share the width (`_fit`) and draws its cells at those
    widths. Widths are fixed per layout, so a change of width rebuilds the columns (a few
    dozen rows at most: checks and alerts, not pods)."""

    DEFAULT_CSS = "FittedTable { overflow-x: hidden; }"
    COLUMNS: tuple[tuple[str, str], ...] = ()  # (key, label) in order

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rows: dict[str, Any] = {}
        self._widths: dict[str, int] = {}

    def _fit(self, rows: list[Any], width: int) -> dict[str, int]:
        """Each shown column's content width in `width` cells (cell padding included)."""
        raise NotImplementedError

    def _cells(self, row: Any, widths: dict[str, int]) -> dict[str, Any]:
        raise NotImplementedError

    def _key(self, row: Any) -> str:
        raise NotImplementedError

    def _room(self, rows: int) -> int:
        """The cells the columns may use: the vertical scrollbar takes its share only when
        the rows overflow."""
        bar = self.styles.scrollbar_size_vertical if rows + 1 > self.size.height else 0
        return max(0, self.size.width - bar)

    def on_resize(self) -> None:
        self._show(list(self._rows.values()))

    def set_rows(self, rows: list[Any]) -> None:
        """Diff by key: update changed cells, add and remove rows; rebuild only when the
        columns' widths change."""
        self._show(rows)

    def _show(self, rows: list[Any]) -> None:
        widths = self._fit(rows, self._room(len(rows)))
        if widths != self._widths:
            self._rebuild(rows, widths)
            return
        wanted = {self._key(r): r for r in rows}
        for key in list(self._rows):
            if key not in wanted:
                self.remove_row(key)
                del self._rows[key]
        for r in rows:
            key = self._key(r)
            old = self._rows.get(key)
            if old is None:
                self.add_row(*self._cells(r, widths).values(), key=key)
            elif old != r:
                for col, cell in self._cells(r, widths).items():
                    self.update_cell(key, col, cell)
            self._rows[key] = r

    def _rebuild(self, rows: list[Any], widths: dict[str, int]) -> None:
        cursor = self.cursor_row
        self.clear(columns=True)
        for key, label in self.COLUMNS:
            if key in widths:
                self.add_column(label, key=key, width=widths[key])
        self._widths = widths
        self._rows = {}
        for r in rows:
            self.add_row(*self._cells(r, widths).values(), key=self._key(r))
            self._rows[self._key(r)] = r
        if rows:
            self.move_cursor(row=min(max(cursor, 0), len(rows) - 1), animate=False)

    def selected_key(self) -> str | None:
        if not self._rows or self.cursor_row < 0:
            return None
        try:
            key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key
        except Exception:
            return None
        return str(key.value)


def _share(
    width: int, fixed: dict[str, int], flex: list[tuple[str, int, int]]
) -> tuple[dict[str, int], int]:
    """Widths for `fixed` columns (never cut) and then `flex` ones, in order, each given
    up to its natural width and dropped when it cannot have its minimum; and the cells left.
    DataTable pads each column with one cell on either side."""
    widths = dict(fixed)
    left = width - sum(w + 2 for w in fixed.values())
    for key, natural, least in flex:
        if left - 2 >= least:
            widths[key] = min(natural, left - 2)
            left -= widths[key] + 2
    return widths, left


class HealthTable(FittedTable):
    """STATE, VALUE and the thresholds are never cut; the check's name gives way to its
    thresholds, and the sparkline takes what is left (dropped under 8 cells)."""

    BINDINGS = bindings_for("health")
    COLUMNS = (
        ("state", "STATE"),
        ("name", "CHECK"),
        ("value", "VALUE"),
        ("trend", "LAST 30m"),
        ("threshold", "WARN / CRIT"),
    )

    def _key(self, row: HealthRow) -> str:
        return row.name

    def _fit(self, rows: list[HealthRow], width: int) -> dict[str, int]:
        def widest(label: str, texts: list[str]) -> int:
            return max([cell_len(label), *(cell_len(t) for t in texts)])

        fixed = {
            "state": widest("STATE", [_state(r)[0] for r in rows]),
            "value": widest("VALUE", [one_line(r.value) for r in rows if not r.detail]),
            "threshold": widest("WARN / CRIT", [one_line(r.threshold) for r in rows]),
        }
        name = widest("CHECK", [one_line(r.name) for r in rows])
        trend = min(TREND_POINTS, max([len(r.trend) for r in rows] or [0]))
        widths, left = _share(width, fixed, [("name", name, min(name, 14))])
        if widths.get("name", 0) < name:  # the name is cut: nothing else gets room
            widths, left = _share(width, fixed, [("name", name, 5)])
            return widths
        # An error is said in the value column, as much as fits; in full in the series view.
        error = widest("", [one_line(r.detail) for r in rows if r.detail])
        widths["value"] += max(0, min(error - widths["value"], left, ERROR_CELLS))
        left = width - sum(w + 2 for w in widths.values())
        if min(trend, left - 2) >= 8:
            widths["trend"] = min(trend, left - 2)
        return widths

    def _cells(self, r: HealthRow, widths: dict[str, int]) -> dict[str, Text]:
        label, style = _state(r)
        value = Text(one_line(r.value))
        if r.detail:
            value = Text(end_ellipsis(one_line(r.detail), widths["value"]), style="red")
        cells = {
            "state": Text(label, style=style),
            "name": Text(middle_ellipsis(one_line(r.name), widths.get("name", 0))),
            "value": value,
            "trend": Text(sparkline(r.trend, widths.get("trend", 0)), style=_trend_style(r.state)),
            "threshold": Text(one_line(r.threshold), style="dim"),
        }
        return {k: v for k, v in cells.items() if k in widths}

    def selected_name(self) -> str | None:
        return self.selected_key()


class AlertsTable(FittedTable):
    """The alert's name, severity and age are never cut; the summary takes what is left."""

    BINDINGS = bindings_for("alerts", mutating=False)
    COLUMNS = (("name", "ALERT"), ("severity", "SEV"), ("age", "AGE"), ("summary", "SUMMARY"))

    class SilenceRequested(Message):
        """`m` on an alert: silence it, or expire the silence of a silenced one."""

        def __init__(self, fingerprint: str) -> None:
            super().__init__()
            self.fingerprint = fingerprint

    def __init__(self, *, id: str | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(id=id)
        self.clock = clock

    def on_mount(self) -> None:
        self.set_interval(AGE_STEP, self._redraw_ages, name="alert ages")

    def _redraw_ages(self) -> None:
        """AGE is drawn from the clock: give each age cell again, so DataTable redraws it."""
        for fp, r in self._rows.items():
            if r.starts_at is not None and "age" in self._widths:
                self.update_cell(fp, "age", self._age(r))

    def _key(self, row: AlertRow) -> str:
        return row.fingerprint

    def _age(self, r: AlertRow) -> Text | Since:
        if r.starts_at is None:
            return Text("-", style="dim")
        return Since(r.starts_at, "{}", "dim", self.clock)

    def _fit(self, rows: list[AlertRow], width: int) -> dict[str, int]:
        fixed = {
            "name": max([5, *(cell_len(one_line(r.name)) for r in rows)]),
            "severity": max([3, *(cell_len(_severity(r)) for r in rows)]),
            "age": 6,  # "23h59m"
        }
        summary = max([7, *(cell_len(one_line(r.summary)) for r in rows)])
        return _share(width, fixed, [("summary", min(summary, 200), 10)])[0]

    def _cells(self, r: AlertRow, widths: dict[str, int]) -> dict[str, Text | Since]:
        if r.silenced:  # suppressed: dim, struck through; `m` expires the silence
            cells = {
                "name": Text(one_line(r.name), style="dim strike"),
                "severity": Text(_severity(r), style="dim"),
                "age": self._age(r),
                "summary": Text(end_ellipsis(one_line(r.summary), widths.get("summary", 0)), "dim"),
            }
            return {k: v for k, v in cells.items() if k in widths}
        cells = {
            "name": Text(one_line(r.name), style="bold red"),
            "severity": Text(one_line(r.severity)),
            "age": self._age(r),
            "summary": Text(end_ellipsis(one_line(r.summary), widths.get("summary", 0))),
        }
        return {k: v for k, v in cells.items() if k in widths}

    def selected_fingerprint(self) -> str | None:
        return self.selected_key()


def _severity(r: AlertRow) -> str:
    return "silenced" if r.silenced else one_line(r.severity)


def _state(r: HealthRow) -> tuple[str, str]:
    return STATE_STYLES.get(r.state, (one_line(r.state).upper(), "bold"))


class MutableAlertsTable(AlertsTable):
    """The alerts table with silence bound (never in read-only mode)."""

    BINDINGS = bindings_for("alerts", mutating=True)

    def action_silence(self) -> None:
        fp = self.selected_fingerprint()
        if fp:
            self.post_message(self.SilenceRequested(fp))
