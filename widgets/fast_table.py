"""FastRowsTable: a DataTable for many one-line rows that change often. The one place in
warroom that touches DataTable internals; tests/ui/test_fast_table.py pins what it relies on,
so a Textual upgrade that moves them fails there, not in a console under load.

What it adds to DataTable (measured with 10k pods under churn, see bench/pods_pane.py):
- `order_rows(keys)`: put rows in a given order in O(n) (DataTable.sort only sees cell values
  and sorts itself);
- `drop_rows(keys)`: remove many rows with one re-index (remove_row re-indexes all rows for
  each removal);
- cells rendered once per content, wherever their row moves (DataTable keys its cell cache by
  row and an update counter that every change moves, so each snapshot re-rendered every
  visible cell); the click metadata is stamped again on a cached rendering;
- `ordered_rows` and `_y_offsets` as views over the row order instead of lists rebuilt after
  every cell update (every row here is one line high);
- small render caches: a screen's worth, not 10k dead versions for the collector to walk.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, overload

from rich.segment import Segment
from rich.style import Style
from textual._two_way_dict import TwoWayDict
from textual.cache import LRUCache
from textual.widgets import DataTable
from textual.widgets.data_table import CellKey, ColumnKey, Row, RowKey

MOVED_CELLS = 4000  # rendered cells kept by content, whatever row they are on


class FastRowsTable(DataTable):
    def __init__(self, *, id: str | None = None, cursor_type: Any = "row") -> None:
        super().__init__(id=id, cursor_type=cursor_type)
        self._cell_render_cache.maxsize = 2000
        self._row_render_cache.maxsize = 200
        self._line_cache.maxsize = 200
        self._moved_cells: LRUCache[tuple[Any, ...], list[list[Segment]]] = LRUCache(MOVED_CELLS)

    # ----- rows in bulk --------------------------------------------------------------------
    def order_rows(self, keys: Iterable[RowKey]) -> None:
        """Show the rows in this order (every row's key once), as DataTable.sort() would."""
        self._row_locations = TwoWayDict({key: i for i, key in enumerate(keys)})
        self.touch()

    def drop_rows(self, keys: Iterable[RowKey]) -> None:
        """Remove rows; call order_rows() after, with the keys that remain."""
        for key in keys:
            if key not in self.rows:
                continue
            for column_key in self._data[key]:
                self._updated_cells.discard(CellKey(key, column_key))
            del self.rows[key]
            del self._data[key]
        self._require_update_dimensions = True
        self.refresh(layout=True)

    def key_at(self, index: int) -> RowKey | None:
        """The key of the row shown at `index`."""
        return self._row_locations.get_key(index)

    def cell_at(self, key: RowKey, column: str) -> Any:
        """A cell's value as stored (no copy), or None."""
        data = self._data.get(key)
        return data.get(ColumnKey(column)) if data else None

    def touch(self) -> None:
        """Redraw: the render caches are keyed by the update counter."""
        self._update_count += 1
        self.refresh()

    # ----- rendering -------------------------------------------------------------------------
    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        if row_index < 0 or column_index < 0:  # header and label cells: DataTable's own
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        cell = self._data[row_key][column_key]  # type: ignore[index]
        plain = getattr(cell, "plain", None)
        if plain is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            column_key,
            plain,
            str(getattr(cell, "style", "")),
            base_style,
            width,
            cursor,
            hover,
            self._show_hover_cursor,
            self._pseudo_class_state,
        )
        meta = Style.from_meta({"row": row_index, "column": column_index})
        lines = self._moved_cells.get(key)
        if lines is None:
            lines = super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
            self._moved_cells[key] = lines
            return lines
        return [[Segment(t, s + meta if s else meta, c) for t, s, c in line] for line in lines]

    @property
    def ordered_rows(self) -> Sequence[Row]:  # type: ignore[override]
        return _RowsView(self)

    @property
    def _y_offsets(self) -> Sequence[tuple[RowKey, int]]:  # type: ignore[override]
        return _OffsetsView(self)


class _RowsView(Sequence[Row]):
    """The table's rows in display order, looked up when asked (DataTable.ordered_rows)."""

    def __init__(self, table: DataTable) -> None:
        self.rows, self.key_at = table.rows, table._row_locations.get_key

    def __len__(self) -> int:
        return len(self.rows)

    def _at(self, i: int) -> Row:
        key = self.key_at(i) if 0 <= i < len(self.rows) else None
        if key is None:
            raise IndexError(i)
        return self.rows[key]

    @overload
    def __getitem__(self, i: int) -> Row: ...
    @overload
    def __getitem__(self, i: slice) -> list[Row]: ...
    def __getitem__(self, i: int | slice) -> Row | list[Row]:
        if isinstance(i, slice):
            return [self._at(j) for j in range(*i.indices(len(self)))]
        return self._at(i + len(self) if i < 0 else i)


class _OffsetsView(_RowsView):
    """y -> (row key, line in row) for one-line rows (DataTable._y_offsets)."""

    def __getitem__(self, i: int | slice) -> Any:
        rows = super().__getitem__(i)
        return [(r.key, 0) for r in rows] if isinstance(rows, list) else (rows.key, 0)

    def clear(self) -> None:
        """DataTable.clear() empties its cached list; a view has nothing to empty."""
