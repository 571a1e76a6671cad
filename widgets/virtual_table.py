"""VirtualTable: a table shaped to what is on screen, for many rows that change often.

A Line API `ScrollView` (as widgets/timeline.py): only the lines on screen are rendered, from
rows kept as plain objects, so 100,000 rows cost the same per frame as 50. What it holds per
row is the row object itself and its sort key; cells are made when a line is drawn.

How to use it (columns are data; rows are any objects, keyed by a string):

    class PodsTable(VirtualTable[PodTableRow]):
        COLUMNS = (
            Column("name", "NAME", min_width=22, overflow="middle", tail=suffix_len),
            Column("status", "STATUS"),
            Column("node", "NODE", priority=1),
        )
        def cells(self, row):            # one Text (or str) per column, drawn when shown
        def sort_key(self, column, row):  # the order under a sort column
        def matches(self, row, query):    # the filter

    table.set_rows({key: row, ...})                 # a whole map, applied as a diff
    table.apply_delta(rows, changed, removed)       # only what moved
    table.apply_filter("text"); table.sort_by("status"); table.tick()  # time cells redrawn

Columns fit the width they are given (widgets/columns.py): a column's natural width is its
widest cell; the lowest `priority` columns are dropped first, then `min_width` ones are cut.

The cursor rests on the top row (the most urgent) until the user moves it; from then on it
stays on the user's row as rows move. Enter posts `RowSelected`; a click on the header sorts
by that column (`sortable` columns).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from warroom.sanitize import one_line
from warroom.widgets.columns import GAP, Column, column_at, cut, fit_columns

R = TypeVar("R")


class VirtualTable(ScrollView, Generic[R], can_focus=True):
    """See the module docstring. Subclasses set COLUMNS and override cells/sort_key/matches."""

    COLUMNS: ClassVar[tuple[Column, ...]] = ()
    BINDINGS: ClassVar[list[Any]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("enter", "select", "Select", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
    }
    DEFAULT_CSS = """
    VirtualTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        overflow-x: hidden;
        & > .virtual-table--header { text-style: bold; background: $panel; color: $foreground; }
        & > .virtual-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .virtual-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """
    LINE_CACHE = 400  # rendered lines kept: a few screens, not every row

    class RowSelected(Message):
        """Enter on a row."""

        def __init__(self, table: VirtualTable[Any], key: str) -> None:
            super().__init__()
            self.table, self.key = table, key

        @property
        def control(self) -> VirtualTable[Any]:
            return self.table

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.columns: tuple[Column, ...] = self.COLUMNS
        self.all_rows: dict[str, R] = {}
        self._shown: dict[str, R] = {}
        self._skeys: dict[str, tuple[Any, ...]] = {}  # key -> its sort key (in _order)
        self._order: list[tuple[Any, ...]] = []  # sort keys of the shown rows, sorted
        self.filter_text = ""
        self.sort_column = self.columns[0].key if self.columns else ""
        self.cursor_row = 0
        self._user_moved = False
        self._natural: list[int] = [cell_len(c.label) for c in self.columns]
        self._layout: list[tuple[int, int]] = []  # (column index, width) of shown columns
        self._layout_for: tuple[Any, ...] = ()
        self._epoch = 0  # bumped by tick() and _rebuild(): every cell is drawn again
        self._lines: LRUCache[tuple[Any, ...], tuple[Any, Strip]] = LRUCache(self.LINE_CACHE)
        self._cells: LRUCache[str, tuple[Any, int, list[Text]]] = LRUCache(self.LINE_CACHE)
        self._styles: dict[str | Style, Style] = {}  # a cell's style, parsed once
        self._header_strip: tuple[Any, Strip] | None = None

    # ----- what subclasses provide -------------------------------------------------------
    def cells(self, row: R) -> Sequence[Text | str]:
        """One cell per column of self.columns, drawn when the row is shown."""
        raise NotImplementedError

    def measure(self, row: R) -> Sequence[int]:
        """The natural width of each cell of a row (override to skip building Text)."""
        return [cell_len(c.plain if isinstance(c, Text) else c) for c in self.cells(row)]

    def measure_rows(self, rows: list[R]) -> list[int]:
        """The widest cell of each column over many rows (override: column-wise for many)."""
        widths = [0] * len(self.columns)
        for r in rows:
            widths = [max(a, b) for a, b in zip(widths, self.measure(r), strict=True)]
        return widths

    def sort_key(self, column: str, row: R) -> tuple[Any, ...]:
        """The order of rows under a sort column (the row key is appended: a total order)."""
        i = self.column_index(column)
        cell = self.cells(row)[i]
        return (cell.plain if isinstance(cell, Text) else cell,)

    def matches(self, row: R, query: str) -> bool:
        """Whether the row passes the filter (substring of every cell by default)."""
        hay = " ".join(c.plain if isinstance(c, Text) else c for c in self.cells(row)).lower()
        return all(part in hay for part in query.lower().split())

    def cursor_moved(self) -> None:
        """Called when the row under the cursor may have changed."""

    # ----- reading ---------------------------------------------------------------------------
    @property
    def rows(self) -> Mapping[str, R]:
        """The rows shown (the filter applied), by key."""
        return self._shown

    @property
    def row_count(self) -> int:
        return len(self._order)

    def __contains__(self, key: object) -> bool:
        return key in self._shown

    def column_index(self, key: str) -> int:
        for i, c in enumerate(self.columns):
            if c.key == key:
                return i
        raise KeyError(key)

    def key_at(self, index: int) -> str | None:
        return str(self._order[index][-1]) if 0 <= index < len(self._order) else None

    def row_at(self, index: int) -> R | None:
        key = self.key_at(index)
        return None if key is None else self._shown[key]

    def get_row_index(self, key: str) -> int:
        """The display index of a shown row; KeyError if it is not shown."""
        skey = self._skeys[key] if key in self._shown else None
        if skey is None:
            raise KeyError(key)
        return bisect_left(self._order, skey)

    def get_row(self, key: str) -> list[Text]:
        """A shown row's cells (the same objects while it and the clock's tick are unchanged)."""
        return self._row_cells(key, self._shown[key])

    def get_row_at(self, index: int) -> list[Text]:
        key = self.key_at(index)
        if key is None:
            raise IndexError(index)
        return self.get_row(key)

    def selected_key(self) -> str | None:
        return self.key_at(self.cursor_row)

    def ordered_keys(self) -> Iterator[str]:
        return (str(k[-1]) for k in self._order)

    # ----- changing rows ---------------------------------------------------------------------
    def set_rows(self, rows: Mapping[str, R]) -> None:
        """A whole map of rows, applied as a diff against what is held."""
        removed = [key for key in self.all_rows if key not in rows]
        self.apply_delta(rows, rows.keys(), removed, replace=True)

    def apply_delta(
        self,
        rows: Mapping[str, R],
        changed: Collection[str],
        removed: Collection[str] = (),
        *,
        replace: bool = False,
    ) -> None:
        """What moved since the last call: `rows` holds (at least) the changed rows, `removed`
        the keys that are gone. Only those rows are looked at; a row object that is the same
        object as before is unchanged. With replace=True `rows` is the whole map."""
        keep = self._anchor()
        if replace:
            self.all_rows = dict(rows)
        else:
            for key in removed:
                self.all_rows.pop(key, None)
        # Many changes (a first list of 100k rows): re-sort once at the end rather than one
        # insort each, which shifts the whole list every time.
        bulk = len(changed) + len(removed) > max(1000, len(self._order) // 8)
        unorder = self._forget if bulk else self._unorder
        moved = False
        for key in removed:
            if key in self._shown:
                unorder(key)
                moved = True
        grow = list(self._natural)
        shown, skeys, q = self._shown, self._skeys, self.filter_text
        fresh: list[R] = []  # rows to measure
        for key in changed:
            r = rows[key]
            if not replace:
                self.all_rows[key] = r
            old = shown.get(key)
            if old is r:
                continue
            if q and not self.matches(r, q):
                if old is not None:
                    unorder(key)
                    moved = True
                continue
            skey = (*self.sort_key(self.sort_column, r), key)
            if old is None or skeys[key] != skey:
                if old is not None:
                    unorder(key)
                if not bulk:
                    insort(self._order, skey)
                skeys[key] = skey
                moved = True
            shown[key] = r
            fresh.append(r)
        if bulk:
            self._order = sorted(skeys.values())
            widths = self.measure_rows(fresh)
        else:
            widths = [0] * len(grow)
            for r in fresh:
                widths = [max(a, b) for a, b in zip(widths, self.measure(r), strict=True)]
        self._natural = [max(a, b) for a, b in zip(grow, widths, strict=True)]
        self._changed(keep, moved)

    def _forget(self, key: str) -> None:
        """_unorder without touching the order list (rebuilt after a bulk change)."""
        del self._skeys[key]
        del self._shown[key]

    def _unorder(self, key: str) -> None:
        skey = self._skeys.pop(key)
        del self._shown[key]
        i = bisect_left(self._order, skey)
        if i < len(self._order) and self._order[i] == skey:
            del self._order[i]

    def _rebuild(self) -> None:
        """Shown rows, order, widths and cells from scratch (a filter, sort or columns)."""
        keep, self._epoch = self._anchor(), self._epoch + 1
        q, col = self.filter_text, self.sort_column
        self._shown = {k: r for k, r in self.all_rows.items() if not q or self.matches(r, q)}
        self._skeys = {k: (*self.sort_key(col, r), k) for k, r in self._shown.items()}
        self._order = sorted(self._skeys.values())
        self.remeasure()
        self._changed(keep, True)

    def remeasure(self) -> None:
        """Column widths from every shown row again: they otherwise only grow (a wide cell
        gone leaves its column wide) until the next filter or sort."""
        labels = [cell_len(c.label) for c in self.columns]
        widths = self.measure_rows(list(self._shown.values()))
        self._natural = [max(a, b) for a, b in zip(labels, widths, strict=True)]

    def apply_filter(self, text: str) -> None:
        self.filter_text = text.strip()
        self.border_subtitle = Text(f"filter: {one_line(text)}") if self.filter_text else None
        self._rebuild()

    def sort_by(self, column: str) -> None:
        self.sort_column = column
        self._rebuild()

    def tick(self) -> None:
        """Redraw the visible rows (cells drawn from a clock), letting columns grow."""
        self._epoch += 1
        top = round(self.scroll_offset.y)
        for i in range(top, min(self.row_count, top + self.size.height)):
            row = self.row_at(i)
            if row is not None:
                widths = zip(self._natural, self.measure(row), strict=True)
                self._natural = [max(a, b) for a, b in widths]
        self.refresh()

    def _anchor(self) -> str | None:
        """The row the cursor must stay on through a change (once the user has moved)."""
        return self.selected_key() if self._user_moved else None

    def _changed(self, keep: str | None, moved: bool) -> None:
        n = self.row_count
        if self.virtual_size.height != n + 1:
            self.virtual_size = Size(0, n + 1)
        if keep is not None and keep in self._shown:
            self._set_cursor(self.get_row_index(keep), scroll=False)
        elif not self._user_moved:
            self._set_cursor(0, scroll=False)
        else:
            self._set_cursor(min(self.cursor_row, max(0, n - 1)), scroll=False)
        if moved:
            self.cursor_moved()
        self.refresh()

    # ----- cursor ------------------------------------------------------------------------
    def _set_cursor(self, index: int, *, scroll: bool = True) -> None:
        index = max(0, min(index, self.row_count - 1)) if self.row_count else 0
        old, self.cursor_row = self.cursor_row, index
        if old != index:
            self._refresh_row(old)
            self._refresh_row(index)
            self.cursor_moved()
        if scroll:
            self._scroll_to_cursor()

    def _scroll_to_cursor(self) -> None:
        top, body = round(self.scroll_offset.y), max(1, self.size.height - 1)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + body:
            self.scroll_to(y=self.cursor_row - body + 1, animate=False, immediate=True)

    def move_cursor(self, *, row: int) -> None:
        self._user_move(row)  # on purpose: it stays on that row through re-sorts, as a key

    def _user_move(self, index: int) -> None:
        self._user_moved = True
        self._set_cursor(index)

    def on_key(self, event: events.Key) -> None:
        self._user_moved = True  # any key on the table: the commander is at work here

    def action_cursor(self, delta: int) -> None:
        self._user_move(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self._user_move(self.cursor_row + direction * max(1, self.size.height - 2))

    def action_first(self) -> None:
        self._user_move(0)

    def action_last(self) -> None:
        self._user_move(self.row_count - 1)

    def action_select(self) -> None:
        key = self.selected_key()
        if key is not None:
            self.post_message(self.RowSelected(self, key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            i = column_at(self._fit(), offset.x)
            if i is not None and self.columns[i].sortable:
                event.stop()
                self.sort_by(self.columns[i].key)
            return
        index = round(self.scroll_offset.y) + offset.y - 1
        if 0 <= index < self.row_count:
            event.stop()
            self._user_move(index)

    def on_focus(self) -> None:
        self._refresh_row(self.cursor_row)

    def on_blur(self) -> None:
        self._refresh_row(self.cursor_row)

    def _refresh_row(self, index: int) -> None:
        y = index - round(self.scroll_offset.y) + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    # ----- rendering -----------------------------------------------------------------------
    def _fit(self) -> list[tuple[int, int]]:
        """The shown columns and their widths, recomputed when the widths or size change."""
        width = self._width
        if self._layout_for != (width, self._natural):
            fitted = fit_columns(self.columns, self._natural, width)
            self._layout = [(i, w) for i, w in enumerate(fitted) if w is not None]
            self._layout_for = (width, list(self._natural))
            self._lines.clear()
        return self._layout

    def _row_cells(self, key: str, row: R) -> list[Text]:
        hit = self._cells.get(key)
        if hit is not None and hit[0] is row and hit[1] == self._epoch:
            return hit[2]
        cells = [c if isinstance(c, Text) else Text(c) for c in self.cells(row)]
        self._cells[key] = (row, self._epoch, cells)
        return cells

    @property
    def _width(self) -> int:  # the cells of a line: a scrollbar, once shown, takes two
        return self.scrollable_content_region.width

    def render_line(self, y: int) -> Strip:
        width = self._width
        layout = self._fit()
        if y == 0:
            return self._header(layout, width)
        index = round(self.scroll_offset.y) + y - 1
        key = self.key_at(index)
        if key is None:
            return Strip.blank(width, self.rich_style)
        row = self._shown[key]
        selected = index == self.cursor_row
        cache_key = (key, selected, self.has_focus, self._epoch, width)
        hit = self._lines.get(cache_key)
        if hit is not None and hit[0] is row:
            return hit[1]
        base = self.rich_style
        if selected:
            base = base + self.get_component_rich_style("virtual-table--cursor")
        strip = self._line(self._row_cells(key, row), layout, base, width)
        self._lines[cache_key] = (row, strip)
        return strip

    def _header(self, layout: list[tuple[int, int]], width: int) -> Strip:
        style = self.rich_style + self.get_component_rich_style("virtual-table--header")
        cache_key = (tuple(layout), width, self.sort_column, style)
        if self._header_strip is not None and self._header_strip[0] == cache_key:
            return self._header_strip[1]
        widths = dict(layout)
        labels = []
        for i, column in enumerate(self.columns):
            label = column.label
            if column.key == self.sort_column and cell_len(label) < widths.get(i, 0):
                label += "▾"  # the sort column, where there is room to say so
            labels.append(Text(label))
        strip = self._line(labels, layout, style, width)
        self._header_strip = (cache_key, strip)
        return strip

    def _line(
        self, cells: Sequence[Text], layout: list[tuple[int, int]], base: Style, width: int
    ) -> Strip:
        """One line from its cells: fitted to their columns' widths, as segments (no
        Text assembled per line: this runs for every line drawn)."""
        segments: list[Segment] = []
        styles = self._styles
        for n, (i, w) in enumerate(layout):
            if n:
                segments.append(Segment(" " * GAP, base))
            cell, column = cells[i], self.columns[i]
            plain = cell.plain
            used = cell_len(plain)
            if used > w:
                plain = cut(plain, w, column)
                used = cell_len(plain)
            pad = [Segment(" " * (w - used), base)]
            if cell.spans and plain is cell.plain:  # styled in parts, and whole: rich draws it
                console = self.app.console
                parts = [Segment(t, base + st if st else base) for t, st, _ in cell.render(console)]
            else:
                style = styles.get(cell.style)
                if style is None:
                    raw = cell.style
                    style = styles[raw] = Style.parse(raw) if isinstance(raw, str) else raw
                parts = [Segment(plain, base + style)]
            segments.extend(parts + pad if column.justify == "left" else pad + parts)
        return Strip(segments).crop_extend(0, width, base)
