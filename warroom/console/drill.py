"""The console in a drill: the same console, told where the drill cluster is.

It adds no keys and changes no behaviour: the responder learns that kubectl works against the
drill cluster (and how), and the drill recorder's entries show up like any other writer's.
"""

from __future__ import annotations

from typing import Any

from textual.app import App


class DrillFeature:
    def __init__(self, app: App, world: Any) -> None:
        self.app = app
        self.world = world  # a warroom.drill.world.DrillHandle

    def hint(self) -> list[str]:
        """How to reach the drill cluster: the header shows the first line; help shows all.
        Kept on screen for the whole drill: two of the three scenarios want kubectl."""
        w = self.world
        path = w.kubeconfig_path
        return [
            f"KUBECONFIG={path}",
            "kubectl works against the drill cluster from another terminal:",
            f"  export KUBECONFIG={path}",
            "  kubectl get pods -n " + str(w.scenario.namespace),
        ]

    def start(self) -> None:
        w = self.world
        self.app.notify(
            f"{w.scenario.title} (speed x{w.speed:g}). kubectl works against the drill "
            "cluster: the header shows its KUBECONFIG, ? shows how.",
            title="Drill",
            timeout=15,
        )
