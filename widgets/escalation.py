"""The escalation dialog (`E`): every level with its criteria and who it pages, the next
level highlighted. Enter escalates to the highlighted level; one line lets a name be typed
instead (someone outside the directory)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from warroom.sanitize import one_line
from warroom.widgets.dialogs import _Modal

OTHER = "__other__"  # the option that asks for a name instead


@dataclass(frozen=True)
class LevelRow:
    id: str  # "L2"
    name: str
    criteria: str
    paged: str  # "Bo Chen (pagerduty, email)"; empty: nobody configured
    # "now": the incident is at this level; "passed": it went past it (which says nothing of
    # a page: an automatic escalation to L2 skips L1's); "": not reached.
    state: str = ""


class EscalateScreen(_Modal):
    DEFAULT_CSS = (
        "EscalateScreen .dialog { width: 100; } "
        "EscalateScreen OptionList { height: auto; max-height: 24; }"
    )

    def __init__(self, levels: list[LevelRow], suggested: str | None, where: str) -> None:
        super().__init__()
        self.levels = levels
        self.suggested = suggested
        self.where = where  # "now at L2" / "not escalated yet"

    def compose(self) -> ComposeResult:
        options = []
        for lv in self.levels:
            t = Text()
            t.append(one_line(f"{lv.id}  {lv.name}"), style="bold")
            if lv.state:
                t.append(f"  ({lv.state})", style="bold" if lv.state == "now" else "dim")
            if lv.criteria:
                t.append("\n    when: " + one_line(lv.criteria), style="italic")
            t.append("\n    pages: " + (one_line(lv.paged) or "nobody configured"))
            options.append(Option(t, id=lv.id))
        options.append(Option(Text("Someone else… (type a name)"), id=OTHER))
        with Vertical(classes="dialog", id="escalate"):
            yield Label(Text(one_line(f"Escalate ({self.where})")), classes="title")
            yield OptionList(*options, id="levels")
            yield Label("Enter escalates and pages · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        ol.focus()
        ids = [lv.id for lv in self.levels]
        ol.highlighted = ids.index(self.suggested) if self.suggested in ids else len(ids)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)
