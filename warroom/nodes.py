"""Nodes as warroom sees them: Node JSON -> NodeInfo (STATUS as `kubectl get nodes` prints it,
pressure conditions, allocatable), pods -> their requests (as `kubectl describe node` sums
them), and the two folded into the rows of the nodes view. Pure: no I/O.

"Used" is what the scheduler counts: the requests of the pods bound to the node, against its
allocatable CPU and memory. Live usage needs metrics-server, which a cluster in trouble may not
have; requests are what decide whether evicted pods fit elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from warroom.pods import parse_time

PRESSURES = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")
_SUFFIX = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]?)$")


def quantity(text: Any) -> Decimal:
    """A Kubernetes quantity ("3920m", "14967004Ki", "1.5", "1e3") as a number; 0 if malformed."""
    m = _QUANTITY.match(str(text or "").strip())
    if not m:
        return Decimal(0)
    try:
        return Decimal(m.group(1)) * _SUFFIX[m.group(2)]
    except InvalidOperation:
        return Decimal(0)


def millicores(text: Any) -> int:
    return int((quantity(text) * 1000).to_integral_value(rounding="ROUND_CEILING"))


def byte_count(text: Any) -> int:
    return int(quantity(text).to_integral_value(rounding="ROUND_CEILING"))


@dataclass(frozen=True, slots=True)
class NodeInfo:
    uid: str
    name: str
    status: str  # Ready | NotReady | Unknown, with ",SchedulingDisabled" when cordoned
    ready: bool
    unschedulable: bool
    pressures: tuple[str, ...]  # the pressure conditions that are True (or Unknown: node lost)
    cpu_m: int  # allocatable
    memory: int  # allocatable bytes
    max_pods: int
    created_at: datetime | None
    taints: tuple[str, ...]  # "key:Effect"
    reason: str  # the Ready condition's message when not ready


def node_info(obj: dict[str, Any]) -> NodeInfo:
    meta, spec, st = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    conditions = {str(c.get("type")): c for c in st.get("conditions") or []}
    ready_c = conditions.get("Ready")
    # kubectl's printNode: the Ready condition True -> Ready, otherwise NotReady; no Ready
    # condition at all -> Unknown.
    if ready_c is None:
        status = "Unknown"
    else:
        status = "Ready" if ready_c.get("status") == "True" else "NotReady"
    ready = status == "Ready"
    unschedulable = bool(spec.get("unschedulable"))
    if unschedulable:
        status += ",SchedulingDisabled"
    lost = ready_c is not None and ready_c.get("status") == "Unknown"
    pressures = tuple(
        p
        for p in PRESSURES
        if (conditions.get(p) or {}).get("status") == "True"
        and not (lost and p != "NetworkUnavailable")
    )
    alloc = st.get("allocatable") or st.get("capacity") or {}
    taints = tuple(f"{t.get('key')}:{t.get('effect')}" for t in spec.get("taints") or [])
    return NodeInfo(
        uid=str(meta.get("uid") or meta.get("name") or ""),
        name=str(meta.get("name") or ""),
        status=status,
        ready=ready,
        unschedulable=unschedulable,
        pressures=pressures,
        cpu_m=millicores(alloc.get("cpu")),
        memory=byte_count(alloc.get("memory")),
        max_pods=int(quantity(alloc.get("pods"))),
        created_at=parse_time(meta.get("creationTimestamp")),
        taints=taints,
        reason="" if ready_c is None or ready else str(ready_c.get("message") or ""),
    )


@dataclass(frozen=True, slots=True)
class PodLoad:
    """What one pod takes of its node: enough of a pod for the nodes view, no more."""

    uid: str
    namespace: str
    node: str
    cpu_m: int
    memory: int


def _requests(containers: Iterable[dict[str, Any]]) -> tuple[int, int]:
    cpu = mem = 0
    for c in containers:
        req = (c.get("resources") or {}).get("requests") or {}
        cpu += millicores(req.get("cpu"))
        mem += byte_count(req.get("memory"))
    return cpu, mem


def pod_load(pod: dict[str, Any]) -> PodLoad | None:
    """The pod's requests as the scheduler counts them (containers, or the largest init
    container if larger, plus the overhead); None for a finished pod, which holds nothing."""
    meta, spec, st = pod.get("metadata") or {}, pod.get("spec") or {}, pod.get("status") or {}
    if st.get("phase") in ("Succeeded", "Failed"):
        return None
    cpu, mem = _requests(spec.get("containers") or [])
    for init in spec.get("initContainers") or []:
        icpu, imem = _requests([init])
        cpu, mem = max(cpu, icpu), max(mem, imem)
    overhead = spec.get("overhead") or {}
    return PodLoad(
        uid=str(meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"),
        namespace=str(meta.get("namespace") or ""),
        node=str(spec.get("nodeName") or ""),
        cpu_m=cpu + millicores(overhead.get("cpu")),
        memory=mem + byte_count(overhead.get("memory")),
    )


@dataclass(slots=True)
class _Sums:
    pods: int = 0
    ours: int = 0  # pods of the incident's namespaces
    cpu_m: int = 0
    memory: int = 0


class NodeLoads:
    """Requests per node, kept up to date from pod deltas: a pod moved, added or gone
    changes its node's sums only, so 10k pods are walked once, not per snapshot."""

    def __init__(self, namespaces: Collection[str]) -> None:
        self.all_namespaces = "*" in namespaces or not namespaces
        self.namespaces = frozenset(namespaces)
        self.pods: dict[str, PodLoad] = {}
        self.sums: dict[str, _Sums] = {}
        self.known = False  # no list of the pods yet (or not allowed): the sums mean nothing

    def _add(self, p: PodLoad, sign: int) -> None:
        if not p.node:
            return
        s = self.sums.setdefault(p.node, _Sums())
        s.pods += sign
        s.ours += sign if self.all_namespaces or p.namespace in self.namespaces else 0
        s.cpu_m += sign * p.cpu_m
        s.memory += sign * p.memory
        if s.pods <= 0:
            del self.sums[p.node]

    def apply(
        self,
        rows: Mapping[str, PodLoad | None],
        changed: Iterable[str] | None,
        removed: Iterable[str] = (),
    ) -> None:
        """`changed` None: `rows` is everything (a list); else only those uids moved."""
        if changed is None:
            self.pods, self.sums = {}, {}
            changed, removed = list(rows), ()
        self.known = True
        for uid in removed:
            old = self.pods.pop(uid, None)
            if old is not None:
                self._add(old, -1)
        for uid in changed:
            new = rows.get(uid)
            old = self.pods.pop(uid, None)
            if old is not None:
                self._add(old, -1)
            if new is not None:
                self.pods[uid] = new
                self._add(new, +1)

    def of(self, node: str) -> tuple[int, int, int, int]:
        """(pods, pods of ours, requested CPU m, requested memory bytes)."""
        s = self.sums.get(node)
        return (s.pods, s.ours, s.cpu_m, s.memory) if s else (0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class NodeRow:
    """A row of the nodes view."""

    uid: str
    name: str
    status: str
    pressures: tuple[str, ...]
    pods: int
    ours: int  # pods of the incident's namespaces on it
    max_pods: int
    cpu_used_m: int
    cpu_m: int
    mem_used: int
    memory: int
    created_at: datetime | None
    healthy: bool
    unschedulable: bool
    reason: str

    @property
    def cpu_percent(self) -> int:
        return round(100 * self.cpu_used_m / self.cpu_m) if self.cpu_m else 0

    @property
    def mem_percent(self) -> int:
        return round(100 * self.mem_used / self.memory) if self.memory else 0


def node_row(info: NodeInfo, loads: NodeLoads) -> NodeRow:
    """The node with its pods' requests; -1 where they are not known."""
    pods, ours, cpu, mem = loads.of(info.name) if loads.known else (-1, -1, -1, -1)
    return NodeRow(
        uid=info.uid,
        name=info.name,
        status=info.status,
        pressures=info.pressures,
        pods=pods,
        ours=ours,
        max_pods=info.max_pods,
        cpu_used_m=cpu,
        cpu_m=info.cpu_m,
        mem_used=mem,
        memory=info.memory,
        created_at=info.created_at,
        healthy=info.ready and not info.pressures and not info.unschedulable,
        unschedulable=info.unschedulable,
        reason=info.reason,
    )


def incident_nodes(
    infos: Iterable[NodeInfo], loads: NodeLoads, known: Collection[str] = ()
) -> dict[str, NodeRow]:
    """The nodes the incident is about: those running its namespaces' pods, and every node in
    trouble (not ready, cordoned, under pressure), which is where its pods go or come from.
    `known`: node names the pods view shows (counted even before the loads arrive)."""
    out = {}
    for info in infos:
        row = node_row(info, loads)
        if loads.all_namespaces or row.ours > 0 or not row.healthy or info.name in known:
            out[info.uid] = row
    return out


def cpu_text(millis: int) -> str:
    return f"{millis / 1000:.1f}" if millis % 1000 else str(millis // 1000)


def memory_text(n: int) -> str:
    for unit, size in (("Ti", 2**40), ("Gi", 2**30), ("Mi", 2**20), ("Ki", 2**10)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)
