"""Pods pane: live pod status, unhealthy first, updated by uid (never cleared).

Built for 10k pods under churn: a snapshot's delta (changed and removed uids) touches only
those rows; the order is kept in a sorted list (bisect), so a changed pod moves without a full
sort; AGE and "restarted 2m ago" are computed when a row is drawn (only visible rows are), so
they never need 10k cell updates; columns only grow (DataTable re-measures a whole column when
a cell gets narrower: 10k measures per cell).

In read-only mode the table class without the mutating keys is used, so restart and delete are
not merely refused: they are not bound at all (k9s's rule).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from warroom.model import utcnow
from warroom.sanitize import one_line
from warroom.widgets.cells import Since
from warroom.widgets.fast_table import FastRowsTable
from warroom.widgets.keys import bindings_for

BAD_STATUS_STYLE = "bold red"
WARN_STATUS = {"Pending", "ContainerCreating", "PodInitializing", "Terminating", "NotReady"}
AGE_STEP = 5.0  # seconds between redraws of the visible relative times


@dataclass(frozen=True)
class PodTableRow:
    uid: str
    namespace: str
    name: str
    ready: str
    status: str
    restarts: str  # "7", or static text such as "7 (2m ago)"
    age: str  # static text, shown when created_at is None
    node: str
    healthy: bool
    labels: tuple[tuple[str, str], ...] = ()
    created_at: datetime | None = None  # AGE is drawn from it, relative to the table's clock
    last_restart_at: datetime | None = None  # RESTARTS gets " (2m ago)" from it


class PodAction(Message):
    """A key on a pod row: verb is restart | delete | logs | describe."""

    def __init__(self, verb: str, uid: str) -> None:
        super().__init__()
        self.verb = verb
        self.uid = uid


MUTATING_VERBS = ("restart", "delete", "force_delete")
SORT_COLUMNS = ("mark", "namespace", "name", "status", "restarts", "age", "node")


def matches(row: PodTableRow, query: str) -> bool:
    """Substring over namespace/name/status/node, or `-l k=v[,k2=v2]` label selector."""
    query = query.strip()
    if not query:
        return True
    if query.startswith("-l"):
        labels = dict(row.labels)
        for term in query[2:].strip().split(","):
            key, sep, value = term.strip().partition("=")
            key = key.rstrip("!")
            if not key:
                continue
            if not sep:
                if key not in labels:
                    return False
            elif term.strip().split("=")[0].endswith("!"):
                if labels.get(key) == value.lstrip("="):
                    return False
            elif labels.get(key) != value.lstrip("="):
                return False
        return True
    hay = f"{row.namespace}/{row.name} {row.status} {row.node}".lower()
    return all(part in hay for part in query.lower().split())


def sort_key(column: str, r: PodTableRow) -> tuple[Any, ...]:
    """The order of rows for a sort column; the uid last makes it total (bisect needs that)."""
    if column == "mark":
        key: tuple[Any, ...] = (r.healthy, r.namespace, r.name)
    elif column == "namespace":
        key = (r.namespace, r.name)
    elif column == "restarts":
        key = (-_leading_int(r.restarts), r.name)
    elif column == "age":  # youngest first
        key = (-r.created_at.timestamp() if r.created_at else 0.0, r.age, r.name)
    elif column in ("name", "status", "node"):
        key = (getattr(r, column), r.name)
    else:
        raise ValueError(f"unknown sort column {column!r}")
    return (*key, r.uid)


class PodsTable(FastRowsTable):
    BINDINGS = bindings_for("pods", mutating=False)

    class FilterRequested(Message):
        pass

    def __init__(
        self,
        *,
        id: str | None = None,
        show_namespace: bool = False,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        super().__init__(id=id, cursor_type="row")
        self.show_namespace = show_namespace
        self.clock = clock
        self.all_rows: dict[str, PodTableRow] = {}
        self._shown: dict[str, PodTableRow] = {}
        self._order: list[tuple[Any, ...]] = []  # sort_key of every shown row, sorted
        self._order_column = "mark"  # the sort column _order was built with
        self._keys: dict[str, RowKey] = {}  # uid -> its RowKey (one object per row, reused)
        self.filter_text = ""
        self.sort_column = "mark"
        self._user_moved = False
        self.mutable_namespaces: set[str] = set()  # empty: any namespace may be changed

    def on_key(self) -> None:
        self._user_moved = True

    def on_click(self) -> None:
        self._user_moved = True

    def on_mount(self) -> None:
        self.add_column(" ", key="mark", width=1)
        if self.show_namespace:
            self.add_column("NAMESPACE", key="namespace")
        self.add_column("NAME", key="name")
        self.add_column("READY", key="ready")
        self.add_column("STATUS", key="status")
        self.add_column("RESTARTS", key="restarts")
        self.add_column("AGE", key="age")
        self.add_column("NODE", key="node")
        self.set_interval(AGE_STEP, self._redraw_times, name="pod ages")

    def _cells(self, r: PodTableRow) -> dict[str, Text | Since]:
        if r.healthy:
            status_style = "green"
        elif r.status in WARN_STATUS:
            status_style = "yellow"
        else:
            status_style = BAD_STATUS_STYLE
        cells: dict[str, Text | Since] = {"mark": Text(" " if r.healthy else "●", style="bold red")}
        if self.show_namespace:
            cells["namespace"] = Text(one_line(r.namespace))
        restarts_style = "bold red" if r.restarts[:1] not in "0" else ""
        restarts: Text | Since = Text(r.restarts, style=restarts_style)
        if r.last_restart_at is not None:
            template = r.restarts.replace("{", "{{").replace("}", "}}") + " ({} ago)"
            restarts = Since(r.last_restart_at, template, restarts_style, self.clock)
        age: Text | Since = Text(r.age, style="dim")
        if r.created_at is not None:
            age = Since(r.created_at, "{}", "dim", self.clock)
        cells.update(
            name=Text(one_line(r.name)),
            ready=Text(r.ready),
            status=Text(one_line(r.status), style=status_style),
            restarts=restarts,
            age=age,
            node=Text(one_line(r.node), style="dim"),
        )
        return cells

    # ----- applying snapshots --------------------------------------------------------------
    def set_rows(self, rows: dict[str, PodTableRow]) -> None:
        """Apply a full map of rows as a diff against what is shown. Never clear()."""
        removed = [uid for uid in self.all_rows if uid not in rows]
        self.apply_delta(rows, rows.keys(), removed, replace=True)

    def apply_delta(
        self,
        rows: Mapping[str, PodTableRow],
        changed: Collection[str],
        removed: Collection[str] = (),
        *,
        replace: bool = False,
    ) -> None:
        """Apply what moved since the last call: `rows` holds (at least) the changed rows,
        `removed` the uids that are gone. Only those rows are looked at: cells that differ
        are updated, a row whose sort key changed moves, new rows are added, gone rows
        removed. With replace=True `rows` is the whole map (set_rows)."""
        if replace:
            self.all_rows = dict(rows)
        else:
            for uid in removed:
                self.all_rows.pop(uid, None)
            for uid in changed:
                self.all_rows[uid] = rows[uid]
        if self._order_column != self.sort_column:
            self._resort()
        gone = [uid for uid in removed if uid in self._shown]
        added: list[PodTableRow] = []
        moved = bool(gone)
        for uid in gone:
            self._unorder(self._shown.pop(uid))
        for uid in changed:
            r = rows[uid]
            old = self._shown.get(uid)
            if old is r:
                continue  # the same row object: unchanged
            if not matches(r, self.filter_text):
                if old is not None:
                    gone.append(uid)
                    self._unorder(self._shown.pop(uid))
                    moved = True
                continue
            if old is None:
                added.append(r)
            elif old != r:
                self._update_cells(old, r)
                if sort_key(self._order_column, old) != sort_key(self._order_column, r):
                    self._unorder(old)
                    insort(self._order, sort_key(self._order_column, r))
                    moved = True
            self._shown[uid] = r
        for r in added:  # before the removals: add_row indexes by row_count
            self._add(r)
            insort(self._order, sort_key(self._order_column, r))
            moved = True
        if gone:
            self._drop_rows(gone)
        if moved:
            self._reindex()

    def _add(self, r: PodTableRow) -> None:
        self._keys[r.uid] = self.add_row(*self._cells(r).values(), key=r.uid)

    def _unorder(self, r: PodTableRow) -> None:
        key = sort_key(self._order_column, r)
        i = bisect_left(self._order, key)
        if i < len(self._order) and self._order[i] == key:
            del self._order[i]

    def _update_cells(self, old: PodTableRow, new: PodTableRow) -> None:
        old_cells = self._cells(old)
        for col, cell in self._cells(new).items():
            if cell == old_cells[col]:
                continue
            # Grow a column, never shrink it: shrinking makes DataTable measure every cell
            # of the column (10k) for each narrower cell.
            column = self.columns[col]  # type: ignore[index]
            wider = cell_len(cell.plain) > column.content_width
            self.update_cell(new.uid, col, cell, update_width=wider)

    def _drop_rows(self, uids: list[str]) -> None:
        """Remove them all, then re-index once (in _reindex)."""
        self.drop_rows([key for uid in uids if (key := self._keys.pop(uid, None)) is not None])

    def _reindex(self) -> None:
        """Put rows in self._order (DataTable.sort only sees cell values)."""
        # Once the commander has moved the cursor, it stays on their pod as rows reorder;
        # until then it rests on the top row, the most urgent one.
        # If their pod is gone, the cursor stays where it was (on the next pod).
        keep = self.selected_uid() if self._user_moved else None
        # The same re-indexing DataTable.sort() does, driven by our order.
        keys = self._keys
        self.order_rows(keys[k[-1]] for k in self._order)
        if keep is not None and keep in self._shown:
            self.move_cursor(row=self.get_row_index(keep))
        elif self._shown:
            last = len(self._shown) - 1
            self.move_cursor(row=min(self.cursor_row, last) if self._user_moved else 0)
        else:
            self.cursor_coordinate = self.cursor_coordinate  # clamped to the empty table

    def _resort(self) -> None:
        self._order_column = self.sort_column
        self._order = sorted(sort_key(self.sort_column, r) for r in self._shown.values())
        self._reindex()

    def _redraw_times(self) -> None:
        """Relative times are drawn from the clock: redraw (only visible rows are drawn) and
        let a column grow if a visible time got wider ("59s" -> "1m00s")."""
        if not self._shown:
            return
        top = int(self.scroll_y)
        for i in range(top, min(self.row_count, top + self.size.height)):
            key = self.key_at(i)
            if key is None:
                continue
            for col in ("restarts", "age"):
                cell = self.cell_at(key, col)
                if isinstance(cell, Since):
                    column = self.columns[col]  # type: ignore[index]
                    if cell_len(cell.plain) > column.content_width:
                        self.update_cell(key, col, cell, update_width=True)
        self.touch()

    # ----- keys ----------------------------------------------------------------------------
    def selected_uid(self) -> str | None:
        if not self._shown:
            return None
        try:
            return str(self.coordinate_to_cell_key((self.cursor_row, 0)).row_key.value)
        except Exception:
            return None

    def action_pod(self, verb: str) -> None:
        uid = self.selected_uid()
        if uid:
            self.post_message(PodAction(verb, uid))

    def action_filter(self) -> None:
        self.post_message(self.FilterRequested())

    def apply_filter(self, text: str) -> None:
        self.filter_text = text
        self.border_subtitle = Text(f"filter: {one_line(text)}") if text else None
        shown = self._shown
        wanted = {uid: r for uid, r in self.all_rows.items() if matches(r, text)}
        gone = [uid for uid in shown if uid not in wanted]
        for uid, r in wanted.items():
            if uid not in shown:
                shown[uid] = r
                self._add(r)
        for uid in gone:
            del shown[uid]
        if gone:
            self._drop_rows(gone)
        self._resort()

    def action_cycle_sort(self) -> None:
        cols = [c for c in SORT_COLUMNS if c != "namespace" or self.show_namespace]
        self.sort_column = cols[(cols.index(self.sort_column) + 1) % len(cols)]
        self.notify(f"sorted by {self.sort_column if self.sort_column != 'mark' else 'health'}")
        self._resort()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        col = str(event.column_key.value)
        if col in SORT_COLUMNS:
            self.sort_column = col
            self._resort()


class MutablePodsTable(PodsTable):
    """The pods table with restart and delete bound (never used in read-only mode)."""

    BINDINGS = bindings_for("pods", mutating=True)
    # RBAC's refusal of a verb on a pod (SelfSubjectAccessReview): the key shows greyed.
    denied: Callable[[str, str], str | None] = staticmethod(lambda uid, verb: None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Outside the namespace allow-list the mutating keys are not bound for that row.
        if action == "pod" and parameters and parameters[0] in MUTATING_VERBS:
            uid = self.selected_uid()
            row = self._shown.get(uid or "")
            if row is None:
                return False
            if self.mutable_namespaces and row.namespace not in self.mutable_namespaces:
                return False
            if self.denied(row.uid, str(parameters[0])):
                return None
        return True

    def watch_cursor_coordinate(self, old: object, new: object) -> None:
        super().watch_cursor_coordinate(old, new)  # type: ignore[arg-type]
        # DataTable re-sets the cursor on every row change; refreshing bindings recomposes the
        # footer, so do it only when the row under the cursor changes what may be done.
        if not self.mutable_namespaces:
            return
        row = self._shown.get(self.selected_uid() or "")
        allowed = row is not None and row.namespace in self.mutable_namespaces
        if allowed != getattr(self, "_allowed_here", None):
            self._allowed_here = allowed
            self.refresh_bindings()


def _leading_int(text: str) -> int:
    digits = ""
    for ch in text:
        if not ch.isdigit():
            break
        digits += ch
    return int(digits) if digits else 0
