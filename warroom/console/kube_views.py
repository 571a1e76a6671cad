"""Which view the Kubernetes pane shows: pods, deployments or nodes, switched k9s's way (`:`
then `pods`, `deploy`, `nodes`, or `v` for the next one), and `enter` on a workload or a node
showing its pods. Every view keeps watching while another is shown, so switching back is
instant and the timeline hears about changes whichever view is up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import App
from textual.widget import Widget

from warroom.widgets.dialogs import PromptScreen
from warroom.widgets.virtual_table import VirtualTable

if TYPE_CHECKING:
    from warroom.console.nodes import NodesFeature
    from warroom.console.screen import MainScreen
    from warroom.console.workloads import WorkloadsFeature

ALIASES = {
    **dict.fromkeys(("pods", "pod", "po"), "pods"),
    **dict.fromkeys(
        (
            "deploy",
            "deployments",
            "deployment",
            "dp",
            "sts",
            "statefulsets",
            "statefulset",
            "ds",
            "daemonsets",
            "daemonset",
            "workloads",
        ),
        "workloads",
    ),
    **dict.fromkeys(("nodes", "node", "no"), "nodes"),
}
HINTS = {  # what the `/` prompt says each view's filter takes
    "pods": "text, or -l app=checkout",
    "workloads": "text, or -l app=checkout",
    "nodes": "text",
}


class KubeViews:
    def __init__(
        self, app: App, main: MainScreen, workloads: WorkloadsFeature, nodes: NodesFeature
    ) -> None:
        self.app, self.pane, self.views = app, main.kube_pane, main.views
        self.tables: dict[str, Widget] = {
            "pods": main.pods_table,
            "workloads": main.workloads_table,
            "nodes": main.nodes_table,
        }
        self.workloads, self.nodes = workloads, nodes

    @property
    def current(self) -> str:
        return self.pane.view

    def show(self, view: str, *, focus: bool = True) -> None:
        for name, box in self.views.items():
            box.display = name == view
        self.pane.show_view(view)
        table = self.tables[view]
        # The main screen's focus, not app.screen's: from the `:` prompt's callback the
        # prompt may still be the top screen.
        if focus and table.display:
            self.pane.screen.set_focus(table)
        elif focus:
            self.pane.focus_first()

    def ask(self) -> None:
        def chosen(text: str | None) -> None:
            if text is None:
                return
            word = text.strip().lstrip(":").strip().lower()
            view = ALIASES.get(word)
            if view is None:
                self.app.notify(f"no view {word!r}: pods, deploy or nodes", severity="warning")
                return
            self.show(view)

        self.app.push_screen(PromptScreen("View (k9s :)", "pods, deploy or nodes"), chosen)

    def pods_where(self, query: str) -> None:
        """The pods view, filtered (a workload's selector, a node's name)."""
        self.show("pods")
        self.filter("pods", query)

    def filter(self, view: str, text: str) -> None:
        """Filter a view's table; the pane's border says so while that view shows (a filtered
        table hides rows: the commander must see that it is filtered)."""
        table = self.tables[view]
        assert isinstance(table, VirtualTable)
        table.apply_filter(text)
        self.pane.filters[view] = table.filter_text
        self.pane.show_view(self.pane.view)

    def ask_filter(self, view: str) -> None:
        table = self.tables[view]
        assert isinstance(table, VirtualTable)

        def apply(text: str | None) -> None:
            if text is not None:
                self.filter(view, text)

        what = HINTS.get(view, "text")
        prompt = PromptScreen(
            f"Filter {view}", f"{what} (empty clears)", value=table.filter_text, allow_empty=True
        )
        self.app.push_screen(prompt, apply)

    def on_action(self, view: str, verb: str, uid: str) -> None:
        """A key on a row of the deployments or nodes view."""
        if view == "workloads":
            row = self.workloads.row(uid)
            if row is not None and verb == "pods":
                self.pods_where("-l " + ",".join(f"{k}={v}" for k, v in row.selector))
            elif row is not None:
                self.workloads.on_action(verb, row)
        elif view == "nodes":
            node = self.nodes.row(uid)
            if node is not None and verb == "pods":
                self.pods_where(node.name)
            elif node is not None:
                self.nodes.on_action(verb, node)
