"""KeyedTable: the deployments and nodes views' table. Rows are plain frozen dataclasses keyed
by uid; a watch delta (changed and removed uids) touches only those rows, the order is
recomputed only when a sort key moved, and the table is never cleared. A few hundred to a few
thousand rows (1k Deployments): the pods table is a VirtualTable (virtual_table.py) for 100k.
On a plain DataTable; reordering sets the row order as DataTable.sort() does (its
`_row_locations`), since sort() sees only cell values and the order here is by row object.

A key on a row posts a KubeAction (view, verb, uid); the console does the rest. Mutating keys
are bound only on the Mutable* subclasses (never in read-only mode); on them `refused` and
`denied` decide per row, before anything is pressed: a namespace outside the allow-list
unbinds the key, an action the API server's RBAC refuses is shown greyed (SelfSubjectAccess-
Review).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from warroom.sanitize import one_line


class KubeAction(Message):
    """A key on a row of a Kubernetes view: `view` is workloads | nodes."""

    def __init__(self, view: str, verb: str, uid: str) -> None:
        super().__init__()
        self.view, self.verb, self.uid = view, verb, uid


class KeyedTable(DataTable):
    VIEW: ClassVar[str] = ""
    COLUMNS: ClassVar[tuple[tuple[str, str], ...]] = ()  # (key, header)

    class FilterRequested(Message):
        def __init__(self, view: str) -> None:
            super().__init__()
            self.view = view

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row")
        self.all_rows: dict[str, Any] = {}
        self._shown: dict[str, Any] = {}
        self._keys: dict[str, RowKey] = {}
        self._order: list[str] = []
        self.filter_text = ""
        self._user_moved = False

    # ----- what subclasses say -------------------------------------------------------------
    def cells(self, row: Any) -> dict[str, Text]:
        raise NotImplementedError

    def sort_key(self, row: Any) -> tuple[Any, ...]:
        raise NotImplementedError

    def matches(self, row: Any, query: str) -> bool:
        raise NotImplementedError

    # ----- DataTable, in bulk ------------------------------------------------------------------
    def order_rows(self, keys: Iterable[RowKey]) -> None:
        """Show the rows in this order (every row's key once), as DataTable.sort() does."""
        self._row_locations = TwoWayDict({key: i for i, key in enumerate(keys)})
        self.touch()

    def drop_rows(self, keys: Iterable[RowKey]) -> None:
        """Remove rows; call order_rows() after, with the keys that remain."""
        for key in keys:
            if key in self.rows:
                self.remove_row(key)

    def key_at(self, index: int) -> RowKey | None:
        """The key of the row shown at `index`."""
        return self._row_locations.get_key(index)

    def touch(self) -> None:
        """Redraw every cell (the ages): DataTable's render caches are keyed by its counter."""
        self._update_count += 1
        self.refresh()

    # ----- rows ----------------------------------------------------------------------------
    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    def on_key(self) -> None:
        self._user_moved = True

    def on_click(self) -> None:
        self._user_moved = True

    def set_rows(self, rows: Mapping[str, Any]) -> None:
        removed = [uid for uid in self.all_rows if uid not in rows]
        self.apply_delta(rows, rows.keys(), removed)

    def apply_delta(
        self, rows: Mapping[str, Any], changed: Collection[str], removed: Collection[str] = ()
    ) -> None:
        """`rows` holds at least the changed rows; `removed` the uids that are gone."""
        reorder = False
        gone = [uid for uid in removed if uid in self._shown]
        for uid in removed:
            self.all_rows.pop(uid, None)
        for uid in changed:
            r = rows[uid]
            self.all_rows[uid] = r
            old = self._shown.get(uid)
            if old is r or old == r:
                continue
            if not self.matches(r, self.filter_text):
                if old is not None:
                    gone.append(uid)
                continue
            if old is None:
                self._keys[uid] = self.add_row(*self._ordered(r), key=uid)
                reorder = True
            else:
                self._update(old, r)
                reorder = reorder or self.sort_key(old) != self.sort_key(r)
            self._shown[uid] = r
        if gone:
            for uid in gone:
                self._shown.pop(uid, None)
            self.drop_rows([k for uid in gone if (k := self._keys.pop(uid, None)) is not None])
            reorder = True
        if reorder:
            self._reorder()

    def _ordered(self, row: Any) -> list[Text]:
        # In COLUMNS order, whatever order `cells` builds its dict in.
        cells = self.cells(row)
        return [cells[key] for key, _ in self.COLUMNS]

    def _update(self, old: Any, new: Any) -> None:
        before = self.cells(old)
        for col, cell in self.cells(new).items():
            if cell != before[col]:
                wider = cell_len(cell.plain) > self.columns[col].content_width  # type: ignore[index]
                self.update_cell(new.uid, col, cell, update_width=wider)

    def _reorder(self) -> None:
        keep = self.selected_uid() if self._user_moved else None
        self._order = sorted(self._shown, key=lambda uid: self.sort_key(self._shown[uid]))
        self.order_rows(self._keys[uid] for uid in self._order)
        if keep is not None and keep in self._shown:
            self.move_cursor(row=self._order.index(keep))
        elif self._shown:
            last = len(self._shown) - 1
            self.move_cursor(row=min(self.cursor_row, last) if self._user_moved else 0)

    def apply_filter(self, text: str) -> None:
        self.filter_text = text
        self.border_subtitle = Text(f"filter: {one_line(text)}") if text else None
        wanted = {uid for uid, r in self.all_rows.items() if self.matches(r, text)}
        gone = [uid for uid in self._shown if uid not in wanted]
        for uid in gone:
            del self._shown[uid]
        self.drop_rows([k for uid in gone if (k := self._keys.pop(uid, None)) is not None])
        for uid in wanted - self._shown.keys():
            r = self.all_rows[uid]
            self._keys[uid] = self.add_row(*self._ordered(r), key=uid)
            self._shown[uid] = r
        self._reorder()

    # ----- keys ----------------------------------------------------------------------------
    def selected_uid(self) -> str | None:
        if not self._shown:
            return None
        key = self.key_at(self.cursor_row)
        return None if key is None else str(key.value)

    def selected(self) -> Any:
        return self._shown.get(self.selected_uid() or "")

    def select(self, uid: str) -> bool:
        """Put the cursor on that row (a script, the palette); False if it is not shown."""
        if uid not in self._shown:
            return False
        self._user_moved = True
        self.move_cursor(row=self.get_row_index(uid))
        return True

    def action_act(self, verb: str) -> None:
        uid = self.selected_uid()
        if uid:
            self.post_message(KubeAction(self.VIEW, verb, uid))

    def action_filter(self) -> None:
        self.post_message(self.FilterRequested(self.VIEW))


class GuardedTable(KeyedTable):
    """A view with its mutating keys bound. `refused(row, verb)` says why a row may not be
    changed here (the namespace allow-list): the key is then not bound for that row;
    `denied(row, verb)` is RBAC's refusal: the key shows greyed and does nothing."""

    MUTATING: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.refused: Callable[[Any, str], str | None] = lambda row, verb: None
        self.denied: Callable[[Any, str], str | None] = lambda row, verb: None
        self._allowed_here: Any = None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action != "act" or not parameters or parameters[0] not in self.MUTATING:
            return True
        verb = str(parameters[0])
        row = self.selected()
        if row is None or self.refused(row, verb):
            return False
        return None if self.denied(row, verb) else True

    def watch_cursor_coordinate(self, old: object, new: object) -> None:
        super().watch_cursor_coordinate(old, new)  # type: ignore[arg-type]
        # Refreshing bindings recomposes the footer: only when what may be done changes.
        allowed = tuple(self.check_action("act", (v,)) for v in sorted(self.MUTATING))
        if allowed != self._allowed_here:
            self._allowed_here = allowed
            self.refresh_bindings()
