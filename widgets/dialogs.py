"""Modal screens: declare, choose, prompt, confirm (Cancel focused; typed for force delete),
silence, event details, help."""

from __future__ import annotations

import json
from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from warroom.sanitize import one_line, strip_control

DIALOG_CSS = """
.dialog {
    width: 72; max-width: 100%; height: auto; max-height: 90%;
    border: thick $accent; background: $surface; padding: 1 2;
}
.dialog .title { text-style: bold; margin-bottom: 1; }
.dialog .hint { color: $text-muted; margin-top: 1; }
.dialog .error { color: $error; }
.dialog Input, .dialog Select { margin-bottom: 1; }
.dialog .buttons { height: auto; margin-top: 1; align-horizontal: right; }
.dialog .buttons Button { margin-left: 2; }
"""


class _Modal(ModalScreen):
    DEFAULT_CSS = "_Modal { align: center middle; }\n" + DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="dialog.cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class Declaration:
    title: str
    severity: str
    category: str


class DeclareScreen(_Modal):
    """No incident is open: title, severity, category; Enter declares."""

    def __init__(self, severities: list[tuple[str, str]], categories: list[str]) -> None:
        super().__init__()
        self.severities = severities
        self.categories = categories

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="declare"):
            yield Label("Declare an incident", classes="title")
            yield Input(placeholder="What is happening? e.g. Checkout API 5xx", id="title")
            yield Select(
                [(Text(one_line(f"{s} {name}")), s) for s, name in self.severities],
                value=self.severities[1][0] if len(self.severities) > 1 else self.severities[0][0],
                allow_blank=False,
                id="severity",
            )
            yield Select(
                [(Text(one_line(c)), c) for c in self.categories],
                value=self.categories[0],
                allow_blank=False,
                id="category",
            )
            yield Label("", classes="error", id="error")
            yield Label("Enter declares · Esc quits without declaring", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#title", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._declare()

    def key_enter(self) -> None:
        self._declare()

    def _declare(self) -> None:
        title = " ".join(self.query_one("#title", Input).value.split())
        if not title:
            self.query_one("#error", Label).update("A title is required.")
            self.query_one("#title", Input).focus()
            return
        sev = str(self.query_one("#severity", Select).value)
        cat = str(self.query_one("#category", Select).value)
        self.dismiss(Declaration(title, sev, cat))


class Choices(OptionList):
    """An option list that stops at its ends: a tired hand pressing down once too often must
    not wrap from P3 to P0."""

    def action_cursor_down(self) -> None:
        if self.highlighted is not None and self.highlighted >= self.option_count - 1:
            return
        super().action_cursor_down()

    def action_cursor_up(self) -> None:
        if self.highlighted == 0:
            return
        super().action_cursor_up()


class ChoiceScreen(_Modal):
    """Pick one of a few values (severity, status, role). Enter picks, Esc cancels."""

    def __init__(
        self, title: str, choices: list[tuple[str, str]], current: str | None = None
    ) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(one_line(self.title_text)), classes="title")
            options = []
            for value, label in self.choices:
                mark = "  (current)" if value == self.current else ""
                options.append(Option(Text(one_line(label) + mark), id=value))
            yield Choices(*options, id="choices")
            yield Label("Enter picks · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        ol = self.query_one(Choices)
        ol.focus()
        values = [v for v, _ in self.choices]
        ol.highlighted = values.index(self.current) if self.current in values else 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)


class PromptScreen(_Modal):
    """One line of text (a note, a name, a reason). Enter submits, Esc cancels."""

    def __init__(
        self, title: str, placeholder: str = "", value: str = "", allow_empty: bool = False
    ) -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder
        self.value = value
        self.allow_empty = allow_empty

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(one_line(self.title_text)), classes="title")
            # Prefilled from outside (a role's current name): shown inert, edited as text.
            yield Input(
                value=one_line(self.value), placeholder=one_line(self.placeholder), id="prompt"
            )
            yield Label("Enter saves · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        if value or self.allow_empty:
            self.dismiss(value)


class ConfirmScreen(ModalScreen[bool]):
    """A destructive action: says exactly what will happen; Cancel is focused."""

    DEFAULT_CSS = "ConfirmScreen { align: center middle; }\n" + DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm.cancel")]

    def __init__(self, title: str, body: str, confirm_label: str = "Confirm") -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(one_line(self.title_text)), classes="title")
            yield Static(Text(strip_control(self.body)))
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(Text(one_line(self.confirm_label)), id="confirm", variant="error")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm")

    def action_cancel(self) -> None:
        self.dismiss(False)


class TypedConfirmScreen(ConfirmScreen):
    """A confirmation stronger than a button: the action is done only once `word` (the pod's
    name) is typed, so a reflex `tab enter` cannot do it. Cancel is still focused first."""

    def __init__(self, title: str, body: str, confirm_label: str, word: str) -> None:
        super().__init__(title, body, confirm_label)
        self.word = word

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(one_line(self.title_text)), classes="title")
            yield Static(Text(strip_control(self.body)))
            yield Label(Text(f"Type {one_line(self.word)} to confirm:"), classes="hint")
            yield Input(placeholder=one_line(self.word), id="typed")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(
                    Text(one_line(self.confirm_label)), id="confirm", variant="error", disabled=True
                )

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one("#confirm", Button).disabled = event.value.strip() != self.word

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.value.strip() == self.word:
            self.dismiss(True)


@dataclass(frozen=True)
class SilenceRequest:
    minutes: int
    comment: str


class SilenceScreen(_Modal):
    """How long to silence an alert, and why (Alertmanager requires a comment)."""

    DURATIONS = (
        (30, "30 minutes"),
        (60, "1 hour"),
        (120, "2 hours"),
        (240, "4 hours"),
        (480, "8 hours"),
        (1440, "24 hours"),
    )

    def __init__(self, alert: str, matchers: str) -> None:
        super().__init__()
        self.alert, self.matchers = alert, matchers

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(one_line(f"Silence {self.alert}")), classes="title")
            yield Static(Text(strip_control(f"matchers: {self.matchers}")))
            yield Select(
                [(label, minutes) for minutes, label in self.DURATIONS],
                value=120,
                allow_blank=False,
                id="duration",
            )
            yield Input(placeholder="Why (required): e.g. known, fix rolling out", id="comment")
            yield Label("", classes="error", id="error")
            yield Label("Enter continues (a confirmation follows) · Esc cancels", classes="hint")

    def on_mount(self) -> None:
        self.query_one("#comment", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        comment = " ".join(event.value.split())
        if not comment:
            self.query_one("#error", Label).update("A comment is required.")
            return
        minutes = self.query_one("#duration", Select).value
        self.dismiss(SilenceRequest(int(minutes), comment))  # type: ignore[arg-type]


class EventScreen(_Modal):
    """Everything about one event: full text, data, hash and the hash it chains to."""

    BINDINGS = [
        Binding("escape,enter,q", "cancel", "Close", id="event.close"),
    ]

    def __init__(self, event_dict: dict, current_text: str | None = None) -> None:
        super().__init__()
        self.event_dict = event_dict
        self.current_text = current_text

    def compose(self) -> ComposeResult:
        e = self.event_dict
        t = Table.grid(padding=(0, 2))
        t.add_column(style="bold")
        t.add_column()
        t.add_row("event", Text(one_line(f"#{e['seq']}  {e['kind']}")))
        t.add_row("time", Text(one_line(str(e["ts"]))))
        t.add_row("actor", Text(one_line(e["actor"])))
        t.add_row("text", Text(strip_control(e["text"])))
        if self.current_text is not None and self.current_text != e["text"]:
            t.add_row("edited to", Text(strip_control(self.current_text)))
        data = json.dumps(e.get("data") or {}, indent=2, ensure_ascii=False, sort_keys=True)
        t.add_row("data", Text(strip_control(data)))
        t.add_row("hash", Text(one_line(str(e["hash"]))))
        t.add_row("prev", Text(one_line(str(e["prev"]))))
        with Vertical(classes="dialog", id="event"):
            yield Label(Text(one_line(f"Event #{e['seq']}")), classes="title")
            with VerticalScroll():
                yield Static(t)
            yield Label("Esc closes", classes="hint")


@dataclass(frozen=True)
class HelpEntry:
    keys: str
    description: str
    group: str  # the binding id (what a keymap names)
    section: str = ""  # "Pods pane", ...: a heading row when it changes


class HelpScreen(_Modal):
    DEFAULT_CSS = "HelpScreen #help { width: 110; max-width: 100%; }"
    BINDINGS = [Binding("escape,q,question_mark", "cancel", "Close", id="help.close")]

    def __init__(self, entries: list[HelpEntry], intro: list[str] | None = None) -> None:
        super().__init__()
        self.entries = entries
        self.intro = intro or []  # e.g. the drill's KUBECONFIG line, shown above the keys

    def compose(self) -> ComposeResult:
        t = Table(box=None, show_header=True, header_style="bold", padding=(0, 2))
        t.add_column("Key", style="bold cyan", no_wrap=True)
        t.add_column("Action")
        t.add_column("Binding id (keymap)", style="dim", no_wrap=True)
        section = None
        for e in self.entries:
            if e.section and e.section != section:
                section = e.section
                t.add_row(Text(""), Text(one_line(section), style="bold underline"), Text(""))
            t.add_row(
                Text(one_line(e.keys)), Text(one_line(e.description)), Text(one_line(e.group))
            )
        with Vertical(classes="dialog", id="help"):
            yield Label("Keys", classes="title")
            with VerticalScroll():
                for line in self.intro:
                    yield Static(Text(strip_control(line)), classes="intro")
                yield Static(t)
            yield Label(
                Text(
                    'Rebind under [keymap] (note = "N") · ctrl+p: any action by name · '
                    "`warroom keys` prints them"
                ),
                classes="hint",
            )


@dataclass(frozen=True)
class SeverityLevel:
    value: str  # "P1"
    name: str  # "high"
    criteria: str
    sla: str  # "respond 1h · update every 1h · resolve 8h"


class SeverityScreen(_Modal):
    """Pick a severity with what each level means beside it, then say why (a reclassification
    is recorded with its reason). Dismisses with (value, reason) or None."""

    DEFAULT_CSS = "SeverityScreen .dialog { width: 96; }"

    def __init__(self, levels: list[SeverityLevel], current: str) -> None:
        super().__init__()
        self.levels = levels
        self.current = current
        self.picked: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(one_line(f"Severity (now {self.current})")), classes="title")
            options = []
            for lv in self.levels:
                head = Text(f"{one_line(lv.value)} {one_line(lv.name)}", style="bold")
                if lv.value == self.current:
                    head.append("  (current)", style="dim")
                body = Text("\n   " + one_line(lv.criteria)) if lv.criteria else Text()
                sla = Text("\n   " + one_line(lv.sla), style="dim")
                options.append(Option(Text.assemble(head, body, sla), id=lv.value))
            yield Choices(*options, id="levels")
            yield Input(placeholder="why? (recorded with the change)", id="reason")
            yield Label(Text("Enter picks · then the reason, Enter · Esc cancels"), classes="hint")

    def on_mount(self) -> None:
        levels = self.query_one(Choices)
        self.query_one(Input).display = False
        values = [lv.value for lv in self.levels]
        levels.highlighted = values.index(self.current) if self.current in values else 0
        levels.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id == self.current:
            self.dismiss(None)
            return
        self.picked = event.option.id
        reason = self.query_one(Input)
        reason.display = True
        reason.placeholder = f"why {self.picked}? (recorded with the change)"
        reason.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.picked and event.value.strip():
            self.dismiss((self.picked, event.value.strip()))
