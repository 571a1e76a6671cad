"""Simulated kubelets: pod lifecycle (Pending -> ContainerCreating -> Running), readiness,
crash loops with back-off, graceful termination, and what a lost node does to its pods.

Each pod's timings carry jitter drawn from the scenario's seed and the pod's own identity
(pull time, when a crashing run dies, how long after its back-off the kubelet restarts it), so
pods started together drift apart as on a real node, and a drill replays identically.
"""

from __future__ import annotations

import hashlib
from typing import Any

from warroom.drill.cluster_api import ClusterApi
from warroom.drill.kubelet_status import PodStatus
from warroom.drill.pod_sim import ContainerSim, Key, PodSim, Run, go_duration
from warroom.drill.scenario_types import Behavior

__all__ = ["ContainerSim", "Kubelet", "PodSim", "Run", "go_duration"]


def image_size(image: str) -> int:
    """An image's size in bytes, 25-380 MB: a property of the image, the same everywhere."""
    digest = int.from_bytes(hashlib.sha256(image.encode()).digest()[:8], "big")
    return 25_000_000 + digest % 355_000_000


def go_precise(seconds: float) -> str:
    """Go's time.Duration.String() to the nanosecond: 812.5ms, 3.412345678s."""
    if seconds < 1:
        return f"{seconds * 1000:.6f}".rstrip("0").rstrip(".") + "ms"
    return f"{seconds:.9f}".rstrip("0").rstrip(".") + "s"


class Kubelet(PodStatus):
    def __init__(self, cluster: ClusterApi) -> None:
        self.c = cluster
        self.pods: dict[Key, PodSim] = {}
        self._runs = 0

    # --- helpers ---------------------------------------------------------------------------

    def _run_id(self, sim: PodSim, c: ContainerSim) -> str:
        self._runs += 1
        return hashlib.sha256(f"{sim.uid}/{c.name}/{self._runs}".encode()).hexdigest()

    def _obj(self, sim: PodSim) -> dict[str, Any] | None:
        return self.c.store.get("pods", sim.namespace, sim.name)

    def _event(
        self, sim: PodSim, etype: str, reason: str, msg: str, c: ContainerSim | None = None
    ) -> None:
        obj = self._obj(sim)
        if obj is None:
            return
        fp = f"spec.containers{{{c.name}}}" if c else ""
        self.c.events.record(obj, etype, reason, msg, "kubelet", sim.node or "", fp)

    def _later(self, delay: float, fn: Any, *args: Any) -> None:
        self.c.scheduler.after(delay, fn, *args)

    # --- lifecycle -------------------------------------------------------------------------

    def admit(
        self,
        obj: dict[str, Any],
        workload: str,
        behavior: Behavior,
        profiles: dict[str, str | None],
        running_since: float | None = None,
        node: str | None = None,
        pinned: str | None = None,
    ) -> PodSim:
        """Create the pod in the store. `running_since`: it has been running since then."""
        meta = obj["metadata"]
        containers = []
        for i, spec in enumerate(obj["spec"]["containers"]):
            containers.append(
                ContainerSim(
                    name=spec["name"],
                    image=spec["image"],
                    behavior=behavior if i == 0 else Behavior("healthy"),
                    log_profile=profiles.get(spec["name"]),
                )
            )
        if not meta.get("uid"):
            meta["uid"] = self.c.new_uid()
        sim = PodSim(meta["namespace"], meta["name"], meta["uid"], workload, containers)
        sim.pinned = pinned
        self.pods[sim.key] = sim
        if running_since is not None and node:
            self._place(sim, node, running_since)
            sim.sandbox_ready, sim.phase = True, "Running"
            for c in containers:
                c.run = Run(self._run_id(sim, c), running_since + self.c.timings.pull)
                c.state, c.ready = "running", True
                self._arm(sim, c, c.run.started)
            obj["spec"]["nodeName"] = node
        else:
            self._later(self.c.timings.schedule, self._schedule, sim)
        obj["status"] = self.status(sim)
        self.c.store.create("pods", obj)  # one write: the status is known at creation
        self.c.kick()
        return sim

    def _place(self, sim: PodSim, node: str, t: float) -> None:
        sim.node, sim.scheduled_at = node, t
        self.c.node_load(sim, +1)
        sim.host_ip = self.c.node_ip(node)
        sim.ip = self.c.next_pod_ip(node)

    def _schedule(self, sim: PodSim) -> None:
        if sim.gone or sim.deleting or sim.node:
            return
        node = self.c.pick_node(sim)
        if node is None:
            n = len(self.c.nodes)
            sim.unschedulable = (
                f"0/{n} nodes are available: {n} node(s) had untolerated taint "
                "{node.kubernetes.io/unreachable: }. preemption: 0/"
                f"{n} nodes are available: {n} Preemption is not helpful for scheduling."
            )
            self._sync(sim)
            self._later(5.0, self._schedule, sim)
            return
        sim.unschedulable = ""
        self._place(sim, node, self._t)
        obj = self._obj(sim)
        if obj is not None:
            self.c.events.record(
                obj,
                "Normal",
                "Scheduled",
                f"Successfully assigned {sim.namespace}/{sim.name} to {node}",
                "default-scheduler",
            )
        for c in sim.containers:
            self._event(sim, "Normal", "Pulling", f'Pulling image "{c.image}"', c)
        self._sync(sim)
        self._later(self._pull_time(sim), self._pulled, sim)

    def _pull_time(self, sim: PodSim) -> float:
        """How long this pod's pull takes: the scenario's `pull`, give or take a third."""
        return self.c.timings.pull * self.c.jitter(f"pull/{sim.uid}", 0.7, 1.4)

    def _pulled(self, sim: PodSim) -> None:
        if sim.gone or sim.deleting or sim.node_lost:
            return
        sim.sandbox_ready, sim.phase = True, "Running"
        pull = go_precise(self._pull_time(sim))
        for c in sim.containers:
            self._event(
                sim,
                "Normal",
                "Pulled",
                f'Successfully pulled image "{c.image}" in {pull} ({pull} including waiting). '
                f"Image size: {image_size(c.image)} bytes.",
                c,
            )
            self._start(sim, c)
        self._sync(sim)

    def _start(self, sim: PodSim, c: ContainerSim) -> None:
        self._event(sim, "Normal", "Created", f"Created container: {c.name}", c)
        self._event(sim, "Normal", "Started", f"Started container {c.name}", c)
        c.epoch += 1
        c.run = Run(self._run_id(sim, c), self._t)
        c.state, c.ready, c.waiting_reason = "running", False, ""
        self._arm(sim, c, self._t)

    def _arm(self, sim: PodSim, c: ContainerSim, started: float) -> None:
        """Schedule what this run will do: become ready, fail readiness, or crash."""
        b, now, ep = c.behavior, self._t, c.epoch
        ready_at = started + self.c.timings.ready
        crash_after = 0.0
        if b.crash is not None:
            # Runs that crash die a little sooner or later each: pods turned bad together do
            # not crash, back off and restart in lockstep.
            assert c.run is not None
            crash_after = b.crash.after * self.c.jitter(f"crash/{c.run.id}/{ep}", 0.8, 1.25)
            self._later(max(0.0, started + crash_after - now), self._crash, sim, c, ep)
        if b.ready and (b.crash is None or self.c.timings.ready < crash_after):
            if not c.ready:
                self._later(max(0.0, ready_at - now), self._ready, sim, c, ep)
        elif b.crash is None:
            self._later(max(0.0, ready_at - now), self._unready, sim, c, ep)

    def _ready(self, sim: PodSim, c: ContainerSim, epoch: int) -> None:
        if sim.gone or c.epoch != epoch or c.state != "running" or sim.node_lost:
            return
        c.ready = True
        self._sync(sim)

    def _unready(self, sim: PodSim, c: ContainerSim, epoch: int) -> None:
        if sim.gone or c.epoch != epoch or c.state != "running" or sim.node_lost:
            return
        msg = "Readiness probe failed: HTTP probe failed with statuscode: 503"
        self._event(sim, "Warning", "Unhealthy", msg, c)
        self._later(10.0, self._unready, sim, c, epoch)

    def _crash(self, sim: PodSim, c: ContainerSim, epoch: int) -> None:
        if sim.gone or sim.deleting or c.epoch != epoch or c.state != "running":
            return
        crash = c.behavior.crash
        if crash is None or sim.node_lost:
            return
        assert c.run is not None
        c.run.finished, c.run.reason, c.run.exit_code = self._t, crash.reason, crash.exit_code
        c.state, c.ready = "terminated", False
        c.crashes += 1
        self._sync(sim)
        seen = self.c.jitter(f"display/{c.run.id}", 0.0, 1.0)  # the kubelet's next sync
        self._later(self.c.timings.crash_display + seen, self._backoff, sim, c, epoch)

    def _backoff(self, sim: PodSim, c: ContainerSim, epoch: int) -> None:
        if sim.gone or sim.deleting or c.epoch != epoch or sim.node_lost:
            return
        assert c.run is not None and c.run.finished is not None
        if c.crashes <= 1:  # the kubelet restarts a first crash at once
            self._restart(sim, c, epoch)
            return
        t = self.c.timings
        delay = min(t.backoff * 2 ** (c.crashes - 2), t.backoff_max)
        c.last, c.state = c.run, "waiting"
        c.waiting_reason = "CrashLoopBackOff"
        c.waiting_message = (
            f"back-off {go_duration(delay)} restarting failed container={c.name} "
            f"pod={sim.name}_{sim.namespace}({sim.uid})"
        )
        self._event(
            sim,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {c.name} in pod "
            f"{sim.name}_{sim.namespace}({sim.uid})",
            c,
        )
        self._sync(sim)
        # The kubelet restarts it at its next pod sync after the back-off expires.
        sync = self.c.jitter(f"restart/{c.run.id}", 0.0, 1.5)
        self._later(max(0.0, c.run.finished + delay + sync - self._t), self._restart, sim, c, epoch)

    def _restart(self, sim: PodSim, c: ContainerSim, epoch: int) -> None:
        if sim.gone or sim.deleting or c.epoch != epoch or sim.node_lost:
            return
        c.last = c.run
        c.restarts += 1
        self._event(
            sim, "Normal", "Pulled", f'Container image "{c.image}" already present on machine', c
        )
        self._start(sim, c)
        self._sync(sim)

    def set_behavior(self, sim: PodSim, behavior: Behavior) -> None:
        """Change a running pod's main container (a scenario turning healthy pods bad)."""
        c = sim.containers[0]
        c.behavior = behavior
        if c.state == "running" and not sim.deleting:
            c.epoch += 1
            if behavior.crash is not None and not behavior.ready:
                c.ready = False
            self._arm(sim, c, self._t)
            self._sync(sim)

    # --- deletion and nodes ----------------------------------------------------------------

    def delete(self, sim: PodSim, grace: int = 30) -> None:
        if sim.gone:
            return
        if sim.deleting:
            if grace == 0:
                self._remove(sim)
            return
        sim.deleting = True
        self.c.node_load(sim, -1)
        obj = self._obj(sim)
        if obj is not None:
            meta = obj["metadata"]
            meta["deletionTimestamp"] = self._ts(self._t + grace)
            meta["deletionGracePeriodSeconds"] = grace
        for c in sim.containers:
            c.epoch += 1
            c.ready = False
            if c.state == "running":
                self._event(sim, "Normal", "Killing", f"Stopping container {c.name}", c)
        self._sync(sim)
        if grace == 0:
            self._remove(sim)
        elif not sim.node_lost:  # a dead kubelet cannot confirm: the pod stays Terminating
            self._later(min(float(grace), self.c.timings.terminate), self._remove, sim)

    def _remove(self, sim: PodSim) -> None:
        if sim.gone:
            return
        if not sim.deleting:
            self.c.node_load(sim, -1)
        sim.gone = True
        self.pods.pop(sim.key, None)
        self.c.store.delete("pods", sim.namespace, sim.name)
        self.c.pod_removed(sim)

    def node_changed(self, node: str, ready: bool) -> None:
        for sim in [s for s in self.pods.values() if s.node == node]:
            if not ready:
                sim.node_lost = True
                for c in sim.containers:
                    c.epoch += 1
                    c.ready = False
                self._sync(sim)
                self._later(self.c.timings.eviction, self._evict, sim)
            elif sim.node_lost:
                sim.node_lost = False
                if sim.deleting:
                    self._remove(sim)
                    continue
                if not sim.sandbox_ready:
                    self._later(self._pull_time(sim), self._pulled, sim)
                for c in sim.containers:
                    if c.state == "running":
                        c.epoch += 1
                        self._arm(sim, c, self._t)
                self._sync(sim)

    def _evict(self, sim: PodSim) -> None:
        if sim.gone or sim.deleting or not sim.node_lost:
            return
        obj = self._obj(sim)
        if obj is not None:
            self.c.events.record(
                obj,
                "Normal",
                "TaintManagerEviction",
                f"Marking for deletion Pod {sim.namespace}/{sim.name}",
                "taint-eviction-controller",
            )
        self.delete(sim, 30)

    # --- status ----------------------------------------------------------------------------

    def _sync(self, sim: PodSim) -> None:
        obj = self._obj(sim)
        if obj is None or sim.gone:
            return
        if sim.node:
            obj["spec"]["nodeName"] = sim.node
        obj["status"] = self.status(sim)
        self.c.store.put("pods", obj)
        self.c.kick()
