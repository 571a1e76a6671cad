"""The response checklist, grouped by phase with progress per phase; space toggles an item."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from warroom.sanitize import one_line
from warroom.widgets.keys import bindings_for
from warroom.widgets.messages import ToggleRequested


@dataclass(frozen=True, slots=True)
class ChecklistRow:
    id: str
    phase: str
    phase_title: str
    text: str
    done: bool
    by: str | None = None
    at: str | None = None  # HH:MM when done
    due: str | None = None  # time left (or overdue by), when due and not done
    overdue: bool = False


class Checklist(OptionList):
    BINDINGS = bindings_for("checklist")

    DEFAULT_CSS = """
    Checklist { height: 1fr; border: none; padding: 0; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: list[ChecklistRow] = []

    def set_rows(self, rows: list[ChecklistRow]) -> None:
        if rows == self._rows:
            return
        keep = self.highlighted_option_id()
        self._rows = list(rows)
        phases: dict[str, list[ChecklistRow]] = {}
        titles: dict[str, str] = {}
        for r in rows:
            phases.setdefault(r.phase, []).append(r)
            titles.setdefault(r.phase, r.phase_title)
        options: list[Option] = []
        for phase, items in phases.items():
            done = sum(r.done for r in items)
            head = Text()
            head.append(f"{one_line(titles[phase])} ", style="bold")
            style = "green" if done == len(items) else "yellow" if done else "dim"
            head.append(f"{done}/{len(items)}", style=style)
            options.append(Option(head, id=f"phase:{phase}", disabled=True))
            options.extend(Option(self._item_prompt(r), id=f"item:{r.id}") for r in items)
        self.clear_options()
        self.add_options(options)
        if keep is not None:
            with contextlib.suppress(Exception):  # the item vanished: keep the highlight
                self.highlighted = self.get_option_index(keep)
        elif self.highlighted is None and rows:
            self.highlighted = 1

    @staticmethod
    def _item_prompt(r: ChecklistRow) -> Text:
        t = Text("  ")
        if r.done:
            t.append("[x] ", style="green")
            t.append(one_line(r.text), style="dim")
            t.append(f"  {one_line(r.by or '')} {r.at or ''}", style="dim italic")
        else:
            # The due time leads: a wrapped item kept "due in" on one line and "35m" on the
            # next in a narrow pane.
            t.append("[ ] ", style="bold red" if r.overdue else "")
            if r.overdue:
                t.append(f"OVERDUE {r.due}", style="bold white on red")
                t.append(" ")
            elif r.due:
                t.append(f"due {r.due}", style="yellow")
                t.append(" ")
            t.append(one_line(r.text))
        return t

    def highlighted_option_id(self) -> str | None:
        if self.highlighted is None:
            return None
        try:
            return self.get_option_at_index(self.highlighted).id
        except Exception:
            return None

    def action_toggle(self) -> None:
        oid = self.highlighted_option_id()
        if oid and oid.startswith("item:"):
            self.post_message(ToggleRequested(oid.removeprefix("item:")))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id and event.option.id.startswith("item:"):
            self.post_message(ToggleRequested(event.option.id.removeprefix("item:")))
