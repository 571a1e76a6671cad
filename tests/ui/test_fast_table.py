"""FastRowsTable pins the DataTable internals it relies on: if a Textual upgrade moves them,
these fail (not a console under load). See widgets/fast_table.py for why each exists."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets.data_table import RowKey

from warroom.widgets.fast_table import FastRowsTable


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield FastRowsTable(id="t")


def fill(table: FastRowsTable, n: int) -> list[RowKey]:
    table.add_column("NAME", key="name")
    table.add_column("STATE", key="state")
    return [table.add_row(Text(f"pod-{i}"), Text("Running"), key=f"u{i}") for i in range(n)]


def shown(table: FastRowsTable) -> list[str]:
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def test_order_rows_and_lookups() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(FastRowsTable)
        keys = fill(table, 5)
        table.order_rows(reversed(keys))
        await pilot.pause()
        assert shown(table) == [f"pod-{i}" for i in (4, 3, 2, 1, 0)]
        assert table.key_at(0) == keys[4] and table.get_row_index("u4") == 0
        assert table.cell_at(keys[2], "name").plain == "pod-2"
        assert table.cell_at(keys[2], "nope") is None
        # The views DataTable reads while drawing and scrolling follow the order.
        assert [r.key for r in table.ordered_rows] == list(reversed(keys))
        assert table._y_offsets[1] == (keys[3], 0)
        assert [k for k, _ in table._y_offsets[1:3]] == [keys[3], keys[2]]


async def test_drop_rows_then_order() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(FastRowsTable)
        keys = fill(table, 6)
        table.drop_rows([keys[1], keys[4], RowKey("never-added")])
        table.order_rows([keys[5], keys[0], keys[2], keys[3]])
        await pilot.pause()
        assert table.row_count == 4
        assert shown(table) == ["pod-5", "pod-0", "pod-2", "pod-3"]
        table.move_cursor(row=3)
        assert table.coordinate_to_cell_key((3, 0)).row_key == keys[3]


async def test_cells_render_once_and_clicks_land_on_the_moved_row() -> None:
    app = TableApp()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(FastRowsTable)
        keys = fill(table, 3)
        await pilot.pause()
        first = table._render_cell(0, 0, table.rich_style, 10)
        assert table._moved_cells  # rendered once, kept by content
        table.order_rows([keys[2], keys[0], keys[1]])  # pod-0 moves from row 0 to row 1
        await pilot.pause()
        again = table._render_cell(1, 0, table.rich_style, 10)
        assert [s.text for s in again[0]] == [s.text for s in first[0]]
        metas = {s.style.meta.get("row") for s in again[0] if s.style}
        assert metas == {1}  # a click on it selects row 1, where it is now
        await pilot.click(FastRowsTable, offset=(2, 2))  # header is line 0: row 1 is line 2
        await pilot.pause()
        assert table.cursor_row == 1 and table.coordinate_to_cell_key((1, 0)).row_key == keys[0]
