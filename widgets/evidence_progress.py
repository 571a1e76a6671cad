"""Long work in flight (an evidence collection, a node's drain): a progress line above the
footer, never a modal.

Collecting can take a minute (log streams of twenty pods); the commander keeps working the
incident meanwhile, so the progress takes one line instead of the screen. The line says what
is being collected and how to stop it; the app owns the collection itself.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from warroom.sanitize import one_line

PROGRESS_STEPS = 1000  # the bar's total: fractions from the collector map onto it


class EvidenceProgress(Horizontal):
    stop_key = "e"  # named on the line; the app passes the key its keymap binds

    DEFAULT_CSS = """
    EvidenceProgress {
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    EvidenceProgress #evidence-scope { width: auto; text-style: bold; padding-right: 1; }
    EvidenceProgress ProgressBar { width: auto; padding-right: 1; }
    EvidenceProgress #evidence-step { width: 1fr; color: $text-muted; }
    """

    def on_mount(self) -> None:
        self.display = False  # shown while a collection runs; setting it re-lays the screen

    def compose(self) -> ComposeResult:
        yield Label(id="evidence-scope")
        yield ProgressBar(total=PROGRESS_STEPS, show_eta=False, id="evidence-bar")
        yield Label(id="evidence-step")

    @property
    def running(self) -> bool:
        return self.display

    def start(self, scope: str, stop_key: str = "e", title: str = "Evidence") -> None:
        """`scope`: what is collected, e.g. "shop/checkout-api-7d9f" or "shop (incident)";
        `title`: the work (the same line shows a node's drain)."""
        self.stop_key = stop_key
        self.query_one("#evidence-scope", Label).update(
            Text(f"{one_line(title)} {one_line(scope)}", no_wrap=True)
        )
        self.query_one(ProgressBar).update(progress=0)
        self._step("starting")
        self.display = True

    def progress(self, fraction: float, message: str) -> None:
        if not self.running:
            return
        self.query_one(ProgressBar).update(progress=round(fraction * PROGRESS_STEPS))
        self._step(message)

    def finish(self) -> None:
        self.display = False

    def _step(self, message: str) -> None:
        t = Text(one_line(message), no_wrap=True, overflow="ellipsis")
        t.append(f"   {one_line(self.stop_key)}: stop", style="dim")
        self.query_one("#evidence-step", Label).update(t)
