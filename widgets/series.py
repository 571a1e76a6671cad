"""Larger views behind the health pane: one check's series, an ad-hoc PromQL result."""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Label, Static

from warroom.sanitize import one_line
from warroom.widgets.dialogs import _Modal

BLOCKS = " ▁▂▃▄▅▆▇█"


def chart(points: list[float], width: int = 100, height: int = 8) -> Text:
    """A block bar chart: `height` rows of eighth-blocks, the newest point on the right."""
    pts = [p for p in points if p == p][-width:]
    if not pts:
        return Text("no data in the last 30 minutes", style="dim")
    lo, hi = min(0.0, min(pts)), max(pts)
    span = hi - lo or 1.0
    levels = [round((p - lo) / span * height * 8) for p in pts]
    lines = []
    for row in range(height, 0, -1):
        base = (row - 1) * 8
        lines.append("".join(BLOCKS[max(0, min(8, lv - base))] for lv in levels))
    return Text("\n".join(lines), style="cyan")


class SeriesScreen(_Modal):
    def __init__(
        self, name: str, unit: str, series: list[Any], error: str | None, threshold: str
    ) -> None:
        super().__init__()
        self.check = name
        self.unit = unit
        self.series = series
        self.error = error
        self.threshold = threshold

    def compose(self) -> ComposeResult:
        from warroom.health import format_value

        with Vertical(classes="dialog", id="series"):
            yield Label(f"{one_line(self.check)}: last 30 minutes", classes="title")
            with VerticalScroll():
                if self.error:
                    yield Static(Text(one_line(self.error), style="red"))
                for s in self.series[:6]:
                    values = [v for _, v in s.points]
                    labels = ", ".join(f"{k}={v}" for k, v in sorted(s.labels.items()))
                    yield Static(Text(one_line(labels) or "(no labels)", style="bold"))
                    yield Static(chart(values, width=64, height=6))
                    if values:
                        yield Static(
                            Text(
                                f"min {format_value(min(values), self.unit)}  "
                                f"max {format_value(max(values), self.unit)}  "
                                f"last {format_value(values[-1], self.unit)}  "
                                f"({self.threshold})",
                                style="dim",
                            )
                        )
                if not self.series and not self.error:
                    yield Static(Text("no data", style="dim"))
            yield Label("Esc closes", classes="hint")


class QueryResultScreen(_Modal):
    def __init__(self, expr: str, rows: list[dict[str, Any]], error: str | None) -> None:
        super().__init__()
        self.expr = expr
        self.rows = rows
        self.error = error

    def compose(self) -> ComposeResult:
        t = Table(box=None, header_style="bold", padding=(0, 2))
        t.add_column("series")
        t.add_column("value", justify="right")
        for r in self.rows[:200]:
            labels = r.get("labels") or {}
            name = labels.get("__name__", "")
            rest = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__")
            t.add_row(Text(one_line(f"{name}{{{rest}}}")), Text(f"{r.get('value')}"))
        with Vertical(classes="dialog", id="query"):
            yield Label(Text(one_line(self.expr)), classes="title")
            with VerticalScroll():
                if self.error:
                    yield Static(Text(one_line(self.error), style="red"))
                elif not self.rows:
                    yield Static(Text("empty result", style="dim"))
                else:
                    yield Static(t)
            yield Label(f"{len(self.rows)} series · Esc closes", classes="hint")
