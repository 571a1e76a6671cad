"""Health pane: one row per Prometheus check (state, value, threshold, 30-minute sparkline),
then the alerts firing in Alertmanager. Rows are plain data; the app maps snapshots to them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable

from warroom.model import utcnow
from warroom.sanitize import one_line
from warroom.widgets.cells import Since
from warroom.widgets.fast_table import FastRowsTable
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


def sparkline(values: list[float], width: int = 24) -> str:
    """Unicode block sparkline of the last `width` points, scaled to their own min..max."""
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


class HealthTable(DataTable):
    BINDINGS = bindings_for("health")

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self._rows: dict[str, HealthRow] = {}

    def on_mount(self) -> None:
        self.add_column("STATE", key="state", width=8)
        self.add_column("CHECK", key="name")
        self.add_column("VALUE", key="value")
        self.add_column("LAST 30m", key="trend", width=24)
        self.add_column("WARN / CRIT", key="threshold")

    def _cells(self, r: HealthRow) -> dict[str, Text]:
        label, style = STATE_STYLES.get(r.state, (one_line(r.state).upper(), "bold"))
        value = Text(one_line(r.value))
        if r.detail:
            # Short here (the row must keep its trend and thresholds in view); full text in
            # the series view.
            value = Text(_short(one_line(r.detail), 26), style="red")
        return {
            "state": Text(label, style=style),
            "name": Text(one_line(r.name)),
            "value": value,
            "trend": Text(sparkline(r.trend), style=_trend_style(r.state)),
            "threshold": Text(one_line(r.threshold), style="dim"),
        }

    def set_rows(self, rows: list[HealthRow]) -> None:
        """Diff by check name: update changed cells, add and remove rows; never clear()."""
        wanted = {r.name: r for r in rows}
        for name in list(self._rows):
            if name not in wanted:
                self.remove_row(name)
                del self._rows[name]
        for r in rows:
            old = self._rows.get(r.name)
            if old is None:
                cells = self._cells(r)
                self.add_row(*cells.values(), key=r.name)
            elif old != r:
                for col, cell in self._cells(r).items():
                    self.update_cell(r.name, col, cell, update_width=True)
            self._rows[r.name] = r

    def selected_name(self) -> str | None:
        if not self._rows or self.cursor_row < 0:
            return None
        try:
            key = self.coordinate_to_cell_key((self.cursor_row, 0)).row_key
        except Exception:
            return None
        return str(key.value)


class AlertsTable(FastRowsTable):
    BINDINGS = bindings_for("alerts", mutating=False)

    class SilenceRequested(Message):
        """`m` on an alert: silence it, or expire the silence of a silenced one."""

        def __init__(self, fingerprint: str) -> None:
            super().__init__()
            self.fingerprint = fingerprint

    def __init__(self, *, id: str | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(id=id, cursor_type="row")
        self.clock = clock
        self._rows: dict[str, AlertRow] = {}

    def on_mount(self) -> None:
        self.add_column("ALERT", key="name")
        self.add_column("SEV", key="severity")
        self.add_column("AGE", key="age")
        self.add_column("SUMMARY", key="summary")
        self.set_interval(AGE_STEP, self.touch, name="alert ages")

    def _cells(self, r: AlertRow) -> dict[str, Text | Since]:
        age: Text | Since = Text("-", style="dim")
        if r.starts_at is not None:
            age = Since(r.starts_at, "{}", "dim", self.clock)
        if r.silenced:
            return {
                "name": Text(one_line(r.name), style="dim strike"),
                "severity": Text("silenced", style="dim"),
                "age": age,
                "summary": Text(one_line(r.summary)[:120], style="dim"),
            }
        return {
            "name": Text(one_line(r.name), style="bold red"),
            "severity": Text(one_line(r.severity)),
            "age": age,
            "summary": Text(one_line(r.summary)[:120]),
        }

    def set_rows(self, rows: list[AlertRow]) -> None:
        wanted = {r.fingerprint: r for r in rows}
        for fp in list(self._rows):
            if fp not in wanted:
                self.remove_row(fp)
                del self._rows[fp]
        for r in rows:
            cells = self._cells(r)
            if r.fingerprint not in self._rows:
                self.add_row(*cells.values(), key=r.fingerprint)
            elif self._rows[r.fingerprint] != r:
                for col, cell in cells.items():
                    self.update_cell(r.fingerprint, col, cell, update_width=True)
            self._rows[r.fingerprint] = r

    def selected_fingerprint(self) -> str | None:
        if not self._rows:
            return None
        try:
            return str(self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value)
        except Exception:
            return None


class MutableAlertsTable(AlertsTable):
    """The alerts table with silence bound (never in read-only mode)."""

    BINDINGS = bindings_for("alerts", mutating=True)

    def action_silence(self) -> None:
        fp = self.selected_fingerprint()
        if fp:
            self.post_message(self.SilenceRequested(fp))


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
