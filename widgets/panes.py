"""The four panes of the war room: a bordered box with a numbered title and focus highlight."""

from __future__ import annotations

from textual.containers import Vertical


class Pane(Vertical):
    """A titled box; `1`-`4` focus its first focusable child (or the pane itself); `z`
    maximises the pane the focus is in (Screen.maximize climbs to it), escape restores."""

    ALLOW_MAXIMIZE = True

    DEFAULT_CSS = """
    Pane {
        border: round $primary-darken-2;
        border-title-color: $text-muted;
        height: 1fr;
        padding: 0;
    }
    Pane:focus-within, Pane:focus {
        border: round $accent;
        border-title-color: $text;
        border-title-style: bold;
    }
    """

    def __init__(self, number: int, title: str, *, id: str) -> None:
        super().__init__(id=id)
        self.border_title = f"{number} {title}"
        self.can_focus = False

    def focus_first(self) -> None:
        """Focus now, not after the queue: Widget.focus() defers itself, so with `2 e` typed
        fast (or pasted) the `e` reached the old pane and did the wrong thing."""
        target = next((c for c in self.query("*") if c.focusable), None)
        if target is None:
            self.can_focus = True
            target = self
        self.screen.set_focus(target)
