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

    def start(self) -> None:
        w = self.world
        self.app.notify(
            f"{w.scenario.title} (speed x{w.speed:g}). kubectl works against "
            f"the drill cluster: KUBECONFIG={w.kubeconfig_path}",
            title="Drill",
            timeout=15,
        )
