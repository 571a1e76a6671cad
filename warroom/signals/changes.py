"""Changes made elsewhere: someone ran `kubectl scale`, a pipeline rolled out a new image, an
autoscaler moved the replicas. The workloads watch sees the object change; here successive
rows become "seen changes" with the object and the before/after, for the timeline. Nodes too:
a cordon or uncordon made in kubectl, by a drain elsewhere or by an autoscaler.

Not ours: a change whose generation an action of this console produced is dropped at once
(`ours`), and the writer skips one when an ACTION on the same object is on the timeline already
(another console's, or the drill's record of kubectl): the change ledger says it once. A change
is held HOLD before it is told, so the controller's follow-up (the new ReplicaSet's revision)
folds into it and an action's own record has time to land. Pure: times come in with the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.nodes import NodeInfo
from warroom.workloads import SpecChange, WorkloadRow, change_words, spec_change

HOLD = timedelta(seconds=3)


@dataclass(frozen=True, slots=True)
class SeenChange:
    target: str  # "deployments/shop/inventory", "nodes/worker-2", as ACTION events name them
    ref: str  # "deployment/inventory", "node/worker-2"
    namespace: str  # empty for a node
    verb: str
    fields: dict[str, tuple[str, str]]
    generation: int
    at: datetime  # when the watch first showed it
    uid: str

    @property
    def text(self) -> str:
        words = change_words(self.fields)
        where = f" in {self.namespace}" if self.namespace else ""
        return f"Seen change to {self.ref}{where}, not made here: {words}"


@dataclass(slots=True)
class _Held:
    before: WorkloadRow
    after: WorkloadRow
    first_seen: datetime


class WorkloadChangeTracker:
    def __init__(self, hold: timedelta = HOLD) -> None:
        self.hold = hold
        self._rows: dict[str, WorkloadRow] | None = None
        self._held: dict[str, _Held] = {}
        self._ours: dict[str, set[int]] = {}  # target -> generations our actions produced

    def ours(self, target: str, generation: int) -> None:
        """An action of this console made `target` reach `generation`: not news."""
        self._ours.setdefault(target, set()).add(generation)
        for uid, h in list(self._held.items()):
            if _target(h.after) == target and h.after.generation in self._ours[target]:
                del self._held[uid]

    def feed(
        self,
        rows: Mapping[str, WorkloadRow],
        at: datetime,
        *,
        changed: Iterable[str] | None = None,
        removed: Iterable[str] = (),
    ) -> list[SeenChange]:
        """The changes due now. The first map is the baseline; `changed` None is a full map."""
        if self._rows is None:
            self._rows = dict(rows)
            return []
        if changed is None:
            removed = [u for u in self._rows if u not in rows]
            changed = list(rows)
        for uid in removed:
            self._rows.pop(uid, None)
            self._held.pop(uid, None)
        for uid in changed:
            new = rows[uid]
            old = self._rows.get(uid)
            self._rows[uid] = new
            if old is None or old == new:
                continue
            held = self._held.get(uid)
            if held is not None:
                held.after = new
            elif spec_change(old, new) is not None:
                self._held[uid] = _Held(old, new, at)
        return self.due(at)

    def due(self, at: datetime) -> list[SeenChange]:
        out = []
        for uid, h in list(self._held.items()):
            if at - h.first_seen < self.hold:
                continue
            del self._held[uid]
            change = spec_change(h.before, h.after)
            target = _target(h.after)
            if change is None or h.after.generation in self._ours.get(target, ()):
                continue
            out.append(_seen(h, change, target))
        return out


def _target(r: WorkloadRow) -> str:
    return f"{r.resource}/{r.namespace}/{r.name}"


def _seen(h: _Held, change: SpecChange, target: str) -> SeenChange:
    r = h.after
    return SeenChange(
        target, r.ref, r.namespace, change.verb, change.fields, r.generation, h.first_seen, r.uid
    )


class NodeCordonTracker:
    """spec.unschedulable flipping on the nodes watch. Held HOLD like a workload change: a
    flip undone within it is not told, and this console's own cordon has its ACTION on the
    timeline by then (record_changes drops what an ACTION explains)."""

    def __init__(self, hold: timedelta = HOLD) -> None:
        self.hold = hold
        self._was: dict[str, bool] | None = None
        self._held: dict[str, tuple[bool, datetime]] = {}  # uid -> (state before, first seen)
        self._nodes: dict[str, NodeInfo] = {}

    def feed(self, nodes: Mapping[str, NodeInfo], at: datetime) -> list[SeenChange]:
        """`nodes`: every node the watch holds (the first map is the baseline)."""
        now = {uid: n.unschedulable for uid, n in nodes.items()}
        self._nodes = dict(nodes)
        if self._was is None:
            self._was = now
            return []
        for uid, state in now.items():
            before = self._was.get(uid)
            if before is not None and before != state and uid not in self._held:
                self._held[uid] = (before, at)
        for uid in [u for u in self._held if u not in now]:
            del self._held[uid]
        self._was = now
        return self.due(at)

    def due(self, at: datetime) -> list[SeenChange]:
        out = []
        for uid, (before, first_seen) in list(self._held.items()):
            if at - first_seen < self.hold:
                continue
            del self._held[uid]
            node = self._nodes.get(uid)
            if node is None or node.unschedulable == before:
                continue  # flipped back within the hold: nothing to tell
            verb = "cordon" if node.unschedulable else "uncordon"
            fields = {"unschedulable": (str(before).lower(), str(node.unschedulable).lower())}
            target, ref = f"nodes/{node.name}", f"node/{node.name}"
            out.append(SeenChange(target, ref, "", verb, fields, 0, first_seen, uid))
        return out
