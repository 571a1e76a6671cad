"""The deployments view of the Kubernetes pane: Deployments, StatefulSets and DaemonSets of the
incident's namespaces, unhealthy first, as `kubectl get deploy,sts,ds -o wide` shows them plus
the revision and what `kubectl rollout status` would say. Watch-fed, by uid (KeyedTable, a
VirtualTable: only the lines on screen are drawn).

Columns fit the pane: AGE goes first, then AVAILABLE, UP-TO-DATE, REV, IMAGE and KIND; NAME,
READY and ROLLOUT stay, ROLLOUT cut at its end and NAME in its middle only when even that does
not fit. A click on a header sorts by that column; the mark column is unhealthy first."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from warroom.model import utcnow
from warroom.sanitize import one_line
from warroom.widgets.columns import Column
from warroom.widgets.keyed_table import GuardedTable, KeyedTable
from warroom.widgets.keys import bindings_for
from warroom.workloads import WorkloadRow

SHORT_KIND = {"Deployment": "deploy", "StatefulSet": "sts", "DaemonSet": "ds"}


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


def _rollout_style(r: WorkloadRow) -> str:
    if r.paused or r.rollout.startswith(("progressing", "pending")):
        return "yellow"
    return "bold red" if r.rollout.startswith("failed") else "green"


# Priorities: lower drops first when the pane is narrow; REQUIRED (default) never.
WORKLOAD_COLUMNS = (
    Column("mark", " ", max_width=1),
    Column("kind", "KIND", priority=6),
    Column("name", "NAME", min_width=16, overflow="middle"),
    Column("ready", "READY"),
    Column("updated", "UP-TO-DATE", priority=3),
    Column("available", "AVAILABLE", priority=2),
    Column("image", "IMAGE", priority=5),
    Column("revision", "REV", priority=4),
    Column("rollout", "ROLLOUT", min_width=11),  # "progressing" whole
    Column("age", "AGE", priority=1),
)


class WorkloadsTable(KeyedTable):
    VIEW = "workloads"
    BINDINGS = bindings_for("workloads", mutating=False)
    COLUMNS = WORKLOAD_COLUMNS

    def __init__(self, *, id: str | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(id=id, clock=clock)
        self._show_namespace = False

    @property
    def show_namespace(self) -> bool:
        """NAME as namespace/name (more than one namespace watched)."""
        return self._show_namespace

    @show_namespace.setter
    def show_namespace(self, value: bool) -> None:
        if value != self._show_namespace:
            self._show_namespace = value
            self._rebuild()

    def texts(self, r: WorkloadRow) -> Mapping[str, tuple[str, str]]:
        name = f"{r.namespace}/{r.name}" if self._show_namespace else r.name
        return {
            "mark": (" " if r.healthy else "●", "bold red"),
            "kind": (SHORT_KIND.get(r.kind) or one_line(r.kind), "dim"),
            "name": (one_line(name), ""),
            "ready": (f"{r.ready}/{r.desired}", "bold red" if r.ready < r.desired else ""),
            "updated": (str(r.updated), ""),
            "available": (str(r.available), ""),
            "image": (one_line(_short_image(r.images)), ""),
            "revision": (one_line(r.revision[:10] or "-"), ""),
            "rollout": (one_line(r.rollout), _rollout_style(r)),
            "age": (self.age(r.created_at), "dim"),
        }

    def sort_key(self, column: str, r: WorkloadRow) -> tuple[Any, ...]:
        name = (r.namespace, r.name, r.kind)
        if column == "mark":
            return (r.healthy, *name)
        if column in ("ready", "updated", "available"):  # the furthest from desired first
            return (getattr(r, column) - r.desired, *name)
        if column == "age":  # youngest first
            return (-r.created_at.timestamp() if r.created_at else 0.0, *name)
        if column == "name":
            return name
        return (self.texts(r)[column][0], *name)

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
