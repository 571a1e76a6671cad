"""Pods pane: live pod status, unhealthy first, diffed by uid on every redraw (never cleared).

In read-only mode the table class without the mutating keys is used, so restart and delete are
not merely refused: they are not bound at all (k9s's rule).
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from warroom.sanitize import one_line

BAD_STATUS_STYLE = "bold red"
WARN_STATUS = {"Pending", "ContainerCreating", "PodInitializing", "Terminating", "NotReady"}


@dataclass(frozen=True)
class PodTableRow:
    uid: str
    namespace: str
    name: str
    ready: str
    status: str
    restarts: str  # "7 (2m ago)"
    age: str
    node: str
    healthy: bool
    labels: tuple[tuple[str, str], ...] = ()


class PodAction(Message):
    """A key on a pod row: verb is restart | delete | logs | describe."""

    def __init__(self, verb: str, uid: str) -> None:
        super().__init__()
        self.verb = verb
        self.uid = uid


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


class PodsTable(DataTable):
    BINDINGS = [
        Binding("l", "pod('logs')", "Logs", id="pods.logs"),
        Binding("d", "pod('describe')", "Describe", id="pods.describe"),
        Binding("e", "pod('evidence')", "Evidence", id="pods.evidence"),
        Binding("slash", "filter", "Filter", id="pods.filter"),
        Binding("full_stop", "cycle_sort", "Sort", id="pods.sort"),
    ]

    class FilterRequested(Message):
        pass

    def __init__(self, *, id: str | None = None, show_namespace: bool = False) -> None:
        super().__init__(id=id, cursor_type="row")
        self.show_namespace = show_namespace
        self.all_rows: dict[str, PodTableRow] = {}
        self._shown: dict[str, PodTableRow] = {}
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

    def _cells(self, r: PodTableRow) -> dict[str, Text]:
        if r.healthy:
            status_style = "green"
        elif r.status in WARN_STATUS:
            status_style = "yellow"
        else:
            status_style = BAD_STATUS_STYLE
        cells = {"mark": Text(" " if r.healthy else "●", style="bold red")}
        if self.show_namespace:
            cells["namespace"] = Text(one_line(r.namespace))
        cells.update(
            name=Text(one_line(r.name)),
            ready=Text(r.ready),
            status=Text(one_line(r.status), style=status_style),
            restarts=Text(r.restarts, style="bold red" if r.restarts[:1] not in "0" else ""),
            age=Text(r.age, style="dim"),
            node=Text(one_line(r.node), style="dim"),
        )
        return cells

    def set_rows(self, rows: dict[str, PodTableRow]) -> None:
        """Apply a full snapshot as a diff: add, remove, update_cell. Never clear()."""
        self.all_rows = rows
        wanted = {uid: r for uid, r in rows.items() if matches(r, self.filter_text)}
        changed = False
        for uid in [u for u in self._shown if u not in wanted]:
            self.remove_row(uid)
            del self._shown[uid]
            changed = True
        for uid, r in wanted.items():
            old = self._shown.get(uid)
            if old is r:
                continue  # the same row object: unchanged (the common case under churn)
            if old is None:
                self.add_row(*self._cells(r).values(), key=uid)
                changed = True
            elif old != r:
                new_cells = self._cells(r)
                old_cells = self._cells(old)
                for col, cell in new_cells.items():
                    if cell != old_cells[col]:
                        self.update_cell(uid, col, cell, update_width=True)
                changed = changed or (old.healthy != r.healthy)
            self._shown[uid] = r
        if changed:
            self._resort()

    def _resort(self) -> None:
        """Order rows by our own row map (DataTable.sort only sees cell values)."""
        col = self.sort_column
        rows = self._shown

        def key(uid: str) -> tuple:
            r = rows[uid]
            return {
                "mark": (r.healthy, r.namespace, r.name),
                "namespace": (r.namespace, r.name),
                "name": (r.name,),
                "status": (r.status, r.name),
                "restarts": (-_leading_int(r.restarts), r.name),
                "age": (r.age, r.name),
                "node": (r.node, r.name),
            }[col]

        # Once the commander has moved the cursor, it stays on their pod as rows reorder;
        # until then it rests on the top row, the most urgent one.
        keep = self.selected_uid() if self._user_moved else None
        ordered = sorted(rows, key=key)
        # The same re-indexing DataTable.sort() does, driven by our key.
        self._row_locations = TwoWayDict({RowKey(uid): i for i, uid in enumerate(ordered)})
        self._update_count += 1
        self.refresh()
        if keep is not None and keep in rows:
            self.move_cursor(row=self.get_row_index(keep))
        elif rows:
            self.move_cursor(row=0)

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
        self.border_subtitle = f"filter: {text}" if text else ""
        self.set_rows(self.all_rows)

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

    BINDINGS = [
        *PodsTable.BINDINGS,
        Binding("r", "pod('restart')", "Restart owner", id="pods.restart"),
        Binding("ctrl+d", "pod('delete')", "Delete pod", id="pods.delete"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Outside the namespace allow-list the mutating keys are not bound for that row.
        if action == "pod" and parameters and parameters[0] in ("restart", "delete"):
            uid = self.selected_uid()
            row = self._shown.get(uid or "")
            if row is None:
                return False
            if self.mutable_namespaces and row.namespace not in self.mutable_namespaces:
                return False
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
