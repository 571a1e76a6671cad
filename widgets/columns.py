"""Columns as data, and how they fit a width: the layout policy of VirtualTable (issue #15).

Pure: no Textual. A column's natural width is its widest cell. When the columns do not fit,
the lowest-priority ones are dropped first (NODE before AGE before RESTARTS in the pods pane);
only then are the columns that allow it cut, down to their min_width, with an ellipsis at the
end or in the middle (a middle cut keeps the row's distinguishing tail: a pod's hash suffix).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from rich.cells import cell_len

REQUIRED = 1_000_000  # a priority that is never dropped
GAP = 1  # cells between columns
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class Column:
    """One column, as data. `priority`: lower drops first when the table is too narrow
    (REQUIRED or above never; among those, the higher is cut last); `min_width`: how far the
    column may be cut (None: never cut);
    `overflow`: where the ellipsis goes when cut; `tail(text)`: for a middle cut, how many
    trailing characters must stay (a pod's hash suffix); `head(text)`: how many leading ones
    (a node's host name before its domain)."""

    key: str
    label: str
    priority: int = REQUIRED
    min_width: int | None = None
    max_width: int | None = None
    overflow: Literal["end", "middle"] = "end"
    tail: Callable[[str], int] | None = None
    head: Callable[[str], int] | None = None
    justify: Literal["left", "right"] = "left"
    sortable: bool = True


def fit_columns(
    columns: Sequence[Column], natural: Sequence[int], width: int, gap: int = GAP
) -> list[int | None]:
    """Each column's width in `width` cells, None for a dropped one. Lower-priority columns
    are dropped before any column is cut; then cuttable columns shrink towards their
    min_width, the lowest priority first. What still does not fit is cropped on the right."""
    widths: list[int | None] = [
        min(n, c.max_width) if c.max_width else n for c, n in zip(columns, natural, strict=True)
    ]

    def total() -> int:
        shown = [w for w in widths if w is not None]
        return sum(shown) + gap * max(0, len(shown) - 1)

    by_priority = sorted(range(len(columns)), key=lambda i: (columns[i].priority, -i))
    for i in by_priority:
        if total() <= width:
            return widths
        if columns[i].priority < REQUIRED:
            widths[i] = None
    for i in by_priority:
        over = total() - width
        w, floor = widths[i], columns[i].min_width
        if over <= 0:
            break
        if w is not None and floor is not None and w > floor:
            widths[i] = max(floor, w - over)
    return widths


def column_at(layout: Sequence[tuple[int, int]], x: int, gap: int = GAP) -> int | None:
    """The index of the column drawn at cell `x` of a line laid out as (index, width)."""
    start = 0
    for i, w in layout:
        if start <= x < start + w + gap:
            return i
        start += w + gap
    return None


def middle_ellipsis(text: str, width: int, tail: int = 0, head: int = 0) -> str:
    """`text` in `width` cells with the middle cut out, keeping at least `tail` trailing
    characters ("checkout-api-…-59965679df-d8d2v" keeps the pod's hash suffix), then as many
    of `head` leading ones as fit ("ip-10-0-1-17.eu-…" keeps the node's host name)."""
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    keep = width - 1
    back = min(max(tail, keep // 2), keep)
    if head > keep - back:  # the head does not fit in front of the half split: the rest goes
        back = min(tail, keep)  # to the front ("ip-10-0-1-17.…"), the tail still kept
    front = keep - back
    return text[:front] + ELLIPSIS + (text[-back:] if back else "")


def end_ellipsis(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return text
    return text[: max(0, width - 1)] + ELLIPSIS if width > 0 else ""


def cut(text: str, width: int, column: Column) -> str:
    """`text` in `width` cells, cut as `column` says (end, or middle with its tail and head)."""
    if column.overflow == "end":
        return end_ellipsis(text, width)
    tail = column.tail(text) if column.tail else 0
    return middle_ellipsis(text, width, tail, column.head(text) if column.head else 0)
