"""The four panes of the war room: a bordered box with a numbered title and focus highlight."""

from __future__ import annotations

from rich.text import Text
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget

from warroom.sanitize import one_line
from warroom.widgets.keys import bindings_for


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
        target = next((c for c in self.query("*") if c.focusable and self._shown(c)), None)
        if target is None:
            self.can_focus = True
            target = self
        self.screen.set_focus(target)

    def _shown(self, widget: Widget) -> bool:
        """Displayed, and so are its parents up to this pane (a hidden view's table is not)."""
        node: Widget | None = widget
        while node is not None and node is not self:
            if not node.display:
                return False
            node = node.parent if isinstance(node.parent, Widget) else None
        return True


class KubePane(Pane):
    """The Kubernetes pane: one of its views (pods, deployments, nodes) shows at a time;
    `:` asks which (k9s's `:deploy`), `v` shows the next. The console does the switching."""

    BINDINGS = bindings_for("kube")
    VIEWS = ("pods", "workloads", "nodes")
    TITLES = {"pods": "Pods", "workloads": "Deployments", "nodes": "Nodes"}

    class ViewRequested(Message):
        """`view` is one of VIEWS, or None to ask for it."""

        def __init__(self, view: str | None) -> None:
            super().__init__()
            self.view = view

    def __init__(self, number: int, *, id: str) -> None:
        super().__init__(number, self.TITLES["pods"], id=id)
        self.number = number
        self.view = "pods"
        self.filters: dict[str, str] = {}  # view -> its table's filter ("" or absent: none)

    def show_view(self, view: str) -> None:
        self.view = view
        self.border_title = f"{self.number} {self.TITLES[view]}"
        # On the border, in the pane's colours: a filtered view hides rows.
        query = self.filters.get(view, "")
        self.border_subtitle = Text(f"filter: {one_line(query)}") if query else None

    def action_ask_view(self) -> None:
        self.post_message(self.ViewRequested(None))

    def action_next_view(self) -> None:
        nxt = self.VIEWS[(self.VIEWS.index(self.view) + 1) % len(self.VIEWS)]
        self.post_message(self.ViewRequested(nxt))
