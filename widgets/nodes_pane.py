"""The nodes view of the Kubernetes pane: the nodes the incident's pods run on and every node in
trouble, with STATUS as `kubectl get nodes` prints it (Ready, NotReady, SchedulingDisabled),
the pressure conditions, the pods on it (ours / all) and the CPU and memory its pods request
against what it can allocate. Watch-fed, by uid (KeyedTable, a VirtualTable: only the lines on
screen are drawn).

Columns fit the pane (half the screen): the amounts go first (MEM, then CPU req/alloc), then
AGE, PODS and PRESSURE; NAME, STATUS and the two percentages stay. A node name too long for what is
left is cut keeping its host part (`ip-10-0-1-17.…`), or, without a domain, in the middle
keeping its last word (`gke-prod-…-x7k9`); STATUS is cut at its end only after that."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from warroom.nodes import NodeRow, cpu_text, memory_text
from warroom.sanitize import one_line
from warroom.widgets.columns import REQUIRED, Column
from warroom.widgets.keyed_table import GuardedTable, KeyedTable
from warroom.widgets.keys import bindings_for

FULL = 90  # percent requested from which a node cannot take much more


def _percent(used: int, total: int) -> tuple[str, str]:
    if used < 0:
        return "?", "dim"  # the pods' requests are not known (yet, or not allowed)
    if not total:
        return "-", "dim"
    p = round(100 * used / total)
    return f"{p}%", "bold red" if p >= FULL else "yellow" if p >= 75 else ""


def host_part(name: str) -> int:
    """How much of a node name a cut keeps in front: its host name before the domain."""
    host, dot, _ = name.partition(".")
    return len(host) if dot else 0


def last_word(name: str) -> int:
    """How much a cut keeps at the end of a name without a domain: what tells nodes of a
    pool apart (gke-prod-default-pool-3f2a1b2c-x7k9)."""
    if "." in name:
        return 0
    _, dash, word = name.rpartition("-")
    return len(word) + 1 if dash else 0


# What decides where pods can go first (the pane is half the screen): requested CPU and memory
# as a share of allocatable, then the pressures and pods (ours/all), the age, the amounts.
NODE_COLUMNS = (
    Column("mark", " ", max_width=1),
    Column("name", "NAME", min_width=14, overflow="middle", head=host_part, tail=last_word),
    # Cut after NAME (a node name's domain says less), down to "NotReady" whole.
    Column("status", "STATUS", priority=REQUIRED + 1, min_width=9),
    Column("cpu_pct", "CPU%", justify="right"),
    Column("mem_pct", "MEM%", justify="right"),
    Column("pods", "PODS", priority=5),
    Column("pressure", "PRESSURE", priority=6),
    Column("cpu", "CPU req/alloc", priority=2),
    Column("mem", "MEM req/alloc", priority=1),
    Column("age", "AGE", priority=3),  # narrow: kept before the amounts (a node just added)
)


class NodesTable(KeyedTable):
    VIEW = "nodes"
    BINDINGS = bindings_for("nodes", mutating=False)
    COLUMNS = NODE_COLUMNS

    def texts(self, r: NodeRow) -> Mapping[str, tuple[str, str]]:
        status_style = "green" if r.status == "Ready" else "bold red"
        if r.status.startswith("Ready,"):
            status_style = "yellow"
        known = r.pods >= 0
        return {
            "mark": (" " if r.healthy else "●", "bold red"),
            "name": (one_line(r.name), ""),
            "status": (one_line(r.status), status_style),
            "pressure": (one_line(",".join(r.pressures) or "-"), "bold red"),
            "pods": (f"{r.ours}/{r.pods}" if known else "?", ""),
            "cpu": (f"{cpu_text(r.cpu_used_m)}/{cpu_text(r.cpu_m)}" if known else "?", ""),
            "cpu_pct": _percent(r.cpu_used_m, r.cpu_m),
            "mem": (f"{memory_text(r.mem_used)}/{memory_text(r.memory)}" if known else "?", ""),
            "mem_pct": _percent(r.mem_used, r.memory),
            "age": (self.age(r.created_at), "dim"),
        }

    def sort_key(self, column: str, r: NodeRow) -> tuple[Any, ...]:
        if column == "mark":
            return (r.healthy, r.name)
        if column in ("cpu_pct", "cpu"):  # the fullest first
            return (-r.cpu_percent, r.name)
        if column in ("mem_pct", "mem"):
            return (-r.mem_percent, r.name)
        if column == "pods":
            return (-r.ours, -r.pods, r.name)
        if column == "age":  # youngest first
            return (-r.created_at.timestamp() if r.created_at else 0.0, r.name)
        return (self.texts(r)[column][0], r.name)

    def matches(self, r: NodeRow, query: str) -> bool:
        hay = f"{r.name} {r.status} {' '.join(r.pressures)}".lower()
        return all(part in hay for part in query.lower().split())


class MutableNodesTable(NodesTable, GuardedTable):
    """The nodes view with cordon/uncordon and drain bound (never read-only)."""

    BINDINGS = bindings_for("nodes", mutating=True)
    MUTATING = frozenset({"cordon", "drain"})
