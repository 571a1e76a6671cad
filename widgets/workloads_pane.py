"""The deployments view of the Kubernetes pane: Deployments, StatefulSets and DaemonSets of the
incident's namespaces, unhealthy first, as `kubectl get deploy,sts,ds -o wide` shows them plus
the revision and what `kubectl rollout status` would say. Watch-fed, by uid (KeyedTable)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.text import Text

from warroom.model import utcnow
from warroom.sanitize import one_line
from warroom.widgets.cells import Since
from warroom.widgets.keyed_table import GuardedTable, KeyedTable
from warroom.widgets.keys import bindings_for
from warroom.workloads import WorkloadRow

SHORT_KIND = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds"}
AGE_STEP = 5.0


def workload_matches(row: WorkloadRow, query: str) -> bool:
    """Words over kind/namespace/name/image/rollout, or `-l k=v` over the selector."""
    query = query.strip()
    if not query:
        return True
    if query.startswith("-l"):
        labels = dict(row.selector)
        for term in query[2:].split(","):
            key, _, value = term.strip().partition("=")
            if key and labels.get(key) != value:
                return False
        return True
    hay = f"{SHORT_KIND.get(row.kind, '')} {row.namespace}/{row.name} {' '.join(row.images)}"
    hay = f"{hay} {row.rollout}".lower()
    return all(part in hay for part in query.lower().split())


def _short_image(images: tuple[str, ...]) -> str:
    if not images:
        return "-"
    first = images[0].rpartition("/")[2]
    return first + (f" +{len(images) - 1}" if len(images) > 1 else "")


class WorkloadsTable(KeyedTable):
    VIEW = "workloads"
    BINDINGS = bindings_for("workloads", mutating=False)
    COLUMNS = (
        ("mark", " "),
        ("kind", "KIND"),
        ("name", "NAME"),
        ("ready", "READY"),
        ("updated", "UP-TO-DATE"),
        ("available", "AVAILABLE"),
        ("image", "IMAGE"),
        ("revision", "REV"),
        ("rollout", "ROLLOUT"),
        ("age", "AGE"),
    )

    def __init__(self, *, id: str | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.show_namespace = False

    def on_mount(self) -> None:  # KeyedTable's adds the columns (Textual calls both)
        self.set_interval(AGE_STEP, self.touch, name="workload ages")

    def cells(self, r: WorkloadRow) -> dict[str, Any]:
        bad = not r.healthy
        name = f"{r.namespace}/{r.name}" if self.show_namespace else r.name
        if r.paused or r.rollout.startswith(("progressing", "pending")):
            rollout_style = "yellow"
        elif r.rollout.startswith("failed"):
            rollout_style = "bold red"
        else:
            rollout_style = "green"
        ready_style = "bold red" if r.ready < r.desired else ""
        age: Any = Text("-", style="dim")
        if r.created_at is not None:
            age = Since(r.created_at, "{}", "dim", self.clock)
        return {
            "mark": Text("●" if bad else " ", style="bold red"),
            "kind": Text(SHORT_KIND.get(r.kind, one_line(r.kind)), style="dim"),
            "name": Text(one_line(name)),
            "ready": Text(f"{r.ready}/{r.desired}", style=ready_style),
            "updated": Text(str(r.updated)),
            "available": Text(str(r.available)),
            "image": Text(one_line(_short_image(r.images))),
            "revision": Text(one_line(r.revision[:10] or "-")),
            "rollout": Text(one_line(r.rollout), style=rollout_style),
            "age": age,
        }

    def sort_key(self, r: WorkloadRow) -> tuple[Any, ...]:
        return (r.healthy, r.namespace, r.name, r.kind, r.uid)

    def matches(self, r: WorkloadRow, query: str) -> bool:
        return workload_matches(r, query)


class MutableWorkloadsTable(WorkloadsTable, GuardedTable):
    """The deployments view with scale, rollback, restart and pause bound (never read-only)."""

    BINDINGS = bindings_for("workloads", mutating=True)
    MUTATING = frozenset({"scale", "rollback", "restart", "pause"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        allowed = super().check_action(action, parameters)
        row = self.selected()
        if allowed and parameters and row is not None:
            # A DaemonSet has no replicas, and only a Deployment can be paused.
            if parameters[0] == "scale" and not row.scalable:
                return False
            if parameters[0] == "pause" and row.kind != "Deployment":
                return False
        return allowed
