"""The pod status a kubelet posts: conditions, IPs, container states, as the API shows them."""

from __future__ import annotations

import hashlib
from typing import Any

from warroom.drill.cluster_api import ClusterApi
from warroom.drill.pod_sim import ContainerSim, PodSim, Run
from warroom.drill.store import rfc3339


class PodStatus:
    """Mixed into the Kubelet: its clock, and what it writes to a pod's `status`."""

    c: ClusterApi

    @property
    def _t(self) -> float:
        return self.c.clock.elapsed()

    def _ts(self, t: float | None = None) -> str:
        return rfc3339(self.c.clock.at(self._t if t is None else t))

    def _cond(
        self, sim: PodSim, ctype: str, ok: bool, reason: str = "", msg: str = ""
    ) -> dict[str, Any]:
        status = "True" if ok else "False"
        prev = sim.transitions.get(ctype)
        if prev is None or prev[0] != status:
            sim.transitions[ctype] = (status, self._t if prev else (sim.scheduled_at or self._t))
        out: dict[str, Any] = {
            "type": ctype,
            "status": status,
            "lastProbeTime": None,
            "lastTransitionTime": self._ts(sim.transitions[ctype][1]),
        }
        if not ok and reason:
            out["reason"], out["message"] = reason, msg
        return out

    def status(self, sim: PodSim) -> dict[str, Any]:
        st: dict[str, Any] = {"phase": sim.phase}
        if sim.node is None:
            if sim.unschedulable:
                st["conditions"] = [
                    self._cond(sim, "PodScheduled", False, "Unschedulable", sim.unschedulable)
                ]
            st["qosClass"] = "Burstable"
            return st
        unready = [c.name for c in sorted(sim.containers, key=lambda c: c.name) if not c.ready]
        msg = f"containers with unready status: [{' '.join(unready)}]"
        ready = sim.ready
        st["conditions"] = [
            self._cond(sim, "PodReadyToStartContainers", sim.sandbox_ready),
            self._cond(sim, "Initialized", True),
            self._cond(sim, "Ready", ready, "ContainersNotReady", msg),
            self._cond(sim, "ContainersReady", ready, "ContainersNotReady", msg),
            self._cond(sim, "PodScheduled", True),
        ]
        st["hostIP"] = sim.host_ip
        st["hostIPs"] = [{"ip": sim.host_ip}]
        if sim.sandbox_ready:
            st["podIP"] = sim.ip
            st["podIPs"] = [{"ip": sim.ip}]
        st["startTime"] = self._ts(sim.scheduled_at)
        st["containerStatuses"] = [
            self._container_status(c) for c in sorted(sim.containers, key=lambda c: c.name)
        ]
        st["qosClass"] = "Burstable"
        if sim.node_lost and sim.deleting:
            st["reason"] = "NodeLost"
            st["message"] = f"Node {sim.node} which was running pod {sim.name} is unresponsive"
        return st

    def _terminated(self, r: Run) -> dict[str, Any]:
        return {
            "terminated": {
                "exitCode": r.exit_code,
                "reason": r.reason,
                "startedAt": self._ts(r.started),
                "finishedAt": self._ts(r.finished),
                "containerID": f"containerd://{r.id}",
            }
        }

    def _container_status(self, c: ContainerSim) -> dict[str, Any]:
        repo = c.image.rsplit(":", 1)[0]
        digest = hashlib.sha256(c.image.encode()).hexdigest()
        out: dict[str, Any] = {"name": c.name, "image": c.image, "imageID": ""}
        if c.state == "waiting":
            w: dict[str, Any] = {"reason": c.waiting_reason}
            if c.waiting_message:
                w["message"] = c.waiting_message
            state: dict[str, Any] = {"waiting": w}
        elif c.state == "running":
            assert c.run is not None
            state = {"running": {"startedAt": self._ts(c.run.started)}}
        else:
            assert c.run is not None
            state = self._terminated(c.run)
        if c.run is not None:
            out["imageID"] = f"{repo}@sha256:{digest}"
            out["containerID"] = f"containerd://{c.run.id}"
        out["state"] = state
        out["lastState"] = self._terminated(c.last) if c.last else {}
        out["ready"] = c.ready
        out["restartCount"] = c.restarts
        out["started"] = c.state == "running"
        return out
