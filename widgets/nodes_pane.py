"""The nodes view of the Kubernetes pane: the nodes the incident's pods run on and every node in
trouble, with STATUS as `kubectl get nodes` prints it (Ready, NotReady, SchedulingDisabled),
the pressure conditions, the pods on it (ours / all) and the CPU and memory its pods request
against what it can allocate. Watch-fed, by uid (KeyedTable)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from rich.text import Text

from warroom.model import utcnow
from warroom.nodes import NodeRow, cpu_text, memory_text
from warroom.sanitize import one_line
from warroom.widgets.cells import Since
from warroom.widgets.keyed_table import GuardedTable, KeyedTable
from warroom.widgets.keys import bindings_for

AGE_STEP = 5.0
FULL = 90  # percent requested from which a node cannot take much more


def _percent(used: int, total: int) -> tuple[str, str]:
    if used < 0:
        return "?", "dim"  # the pods' requests are not known (yet, or not allowed)
    if not total:
        return "-", "dim"
    p = round(100 * used / total)
    return f"{p}%", "bold red" if p >= FULL else "yellow" if p >= 75 else ""


class NodesTable(KeyedTable):
    VIEW = "nodes"
    BINDINGS = bindings_for("nodes", mutating=False)
    # What decides where pods can go first (the pane is half the screen): requested CPU and
    # memory as a share of allocatable, then the pods (ours/all), then the amounts.
    COLUMNS = (
        ("mark", " "),
        ("name", "NAME"),
        ("status", "STATUS"),
        ("cpu_pct", "CPU%"),
        ("mem_pct", "MEM%"),
        ("pods", "PODS"),
        ("pressure", "PRESSURE"),
        ("cpu", "CPU req/alloc"),
        ("mem", "MEM req/alloc"),
        ("age", "AGE"),
    )

    def __init__(self, *, id: str | None = None, clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__(id=id)
        self.clock = clock

    def on_mount(self) -> None:  # KeyedTable's adds the columns (Textual calls both)
        self.set_interval(AGE_STEP, self.touch, name="node ages")

    def cells(self, r: NodeRow) -> dict[str, Any]:
        status_style = "green" if r.status == "Ready" else "bold red"
        if r.status.startswith("Ready,"):
            status_style = "yellow"
        cpu_pct, cpu_style = _percent(r.cpu_used_m, r.cpu_m)
        mem_pct, mem_style = _percent(r.mem_used, r.memory)
        age: Any = Text("-", style="dim")
        if r.created_at is not None:
            age = Since(r.created_at, "{}", "dim", self.clock)
        return {
            "mark": Text(" " if r.healthy else "●", style="bold red"),
            "name": Text(one_line(r.name)),
            "status": Text(one_line(r.status), style=status_style),
            "pressure": Text(one_line(",".join(r.pressures) or "-"), style="bold red"),
            "pods": Text(f"{r.ours}/{r.pods}" if r.pods >= 0 else "?"),
            "cpu": Text(f"{cpu_text(r.cpu_used_m)}/{cpu_text(r.cpu_m)}" if r.pods >= 0 else "?"),
            "cpu_pct": Text(cpu_pct, style=cpu_style),
            "mem": Text(
                f"{memory_text(r.mem_used)}/{memory_text(r.memory)}" if r.pods >= 0 else "?"
            ),
            "mem_pct": Text(mem_pct, style=mem_style),
            "age": age,
        }

    def sort_key(self, r: NodeRow) -> tuple[Any, ...]:
        return (r.healthy, r.name, r.uid)

    def matches(self, r: NodeRow, query: str) -> bool:
        hay = f"{r.name} {r.status} {' '.join(r.pressures)}".lower()
        return all(part in hay for part in query.lower().split())


class MutableNodesTable(NodesTable, GuardedTable):
    """The nodes view with cordon/uncordon and drain bound (never read-only)."""

    BINDINGS = bindings_for("nodes", mutating=True)
    MUTATING = frozenset({"cordon", "drain"})
