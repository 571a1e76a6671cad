"""KeyedTable: what the deployments and nodes views share on top of VirtualTable.

Rows are plain frozen dataclasses keyed by uid (WorkloadRow, NodeRow); VirtualTable draws only
the lines on screen from them, so a watch delta or the 5 s age tick costs the rows shown, not
every cell of a DataTable (issue #16). What is added here:

- a cell is text and a style by column key (`texts`), drawn when the line is, measured
  without building it; AGE is drawn from the table's clock (`age`), redrawn by `tick()`;
- a watch rebuilds a row equal to the one held as a new object: the held one is kept, so its
  drawn line stays cached;
- a key on a row posts a KubeAction (view, verb, uid), `/` a FilterRequested (view); the
  console does the rest.

Mutating keys are bound only on the GuardedTable subclasses (never in read-only mode); on them
`refused` and `denied` decide per row, before anything is pressed: a namespace outside the
allow-list unbinds the key, an action the API server's RBAC refuses is shown greyed
(SelfSubjectAccessReview).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual.message import Message

from warroom.model import format_duration, utcnow
from warroom.widgets.virtual_table import VirtualTable

AGE_STEP = 5.0  # seconds between redraws of the visible ages


class KubeAction(Message):
    """A key on a row of a Kubernetes view: `view` is workloads | nodes."""

    def __init__(self, view: str, verb: str, uid: str) -> None:
        super().__init__()
        self.view, self.verb, self.uid = view, verb, uid


class KeyedTable(VirtualTable[Any]):
    VIEW: ClassVar[str] = ""
    # A cell of margin on the right: a table that fills the pane would otherwise put its last
    # column's text against the border, where it reads as cut.
    DEFAULT_CSS = "KeyedTable { padding-right: 1; }"

    class FilterRequested(Message):
        def __init__(self, view: str) -> None:
            super().__init__()
            self.view = view

    def __init__(self, *, id: str | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(id=id)
        self.clock = clock

    def on_mount(self) -> None:
        self.set_interval(AGE_STEP, self.tick, name=f"{self.VIEW} ages")

    # ----- what subclasses say -------------------------------------------------------------
    def texts(self, row: Any) -> Mapping[str, tuple[str, str]]:
        """(text, style) by column key: inert text (one_line), drawn when the line is."""
        raise NotImplementedError

    def age(self, at: datetime | None) -> str:
        return format_duration(self.clock() - at) if at is not None else "-"

    # ----- VirtualTable ----------------------------------------------------------------------
    def cells(self, row: Any) -> Sequence[Text]:
        texts = self.texts(row)
        return [Text(*texts[c.key]) for c in self.columns]

    def measure(self, row: Any) -> Sequence[int]:
        texts = self.texts(row)
        return [cell_len(texts[c.key][0]) for c in self.columns]

    def apply_delta(
        self,
        rows: Mapping[str, Any],
        changed: Collection[str],
        removed: Collection[str] = (),
        *,
        replace: bool = False,
    ) -> None:
        held = self.all_rows
        same = {
            uid
            for uid in changed
            if (old := held.get(uid)) is not None and old is not rows[uid] and old == rows[uid]
        }
        if same:
            if replace:
                rows = {uid: held[uid] if uid in same else r for uid, r in rows.items()}
            changed = [uid for uid in changed if uid not in same]
        super().apply_delta(rows, changed, removed, replace=replace)

    def tick(self) -> None:
        """The ages redrawn, and the widths measured again over every row shown (a few
        thousand at most): a column shrinks back once its widest text is gone (a node
        uncordoned, a rollout complete), giving the room back to NAME."""
        self.remeasure()
        super().tick()

    # ----- keys ----------------------------------------------------------------------------
    def selected_uid(self) -> str | None:
        return self.selected_key()

    def select(self, uid: str) -> bool:
        """Put the cursor on that row on purpose (a drill script, the palette): it stays
        there through re-sorts. False if the row is not shown."""
        if uid not in self.rows:
            return False
        self.move_cursor(row=self.get_row_index(uid))
        return True

    def selected(self) -> Any:
        return self.row_at(self.cursor_row)

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

    def cursor_moved(self) -> None:
        # Refreshing bindings recomposes the footer: only when what may be done changes.
        allowed = tuple(self.check_action("act", (v,)) for v in sorted(self.MUTATING))
        if allowed != self._allowed_here:
            self._allowed_here = allowed
            self.refresh_bindings()
