"""PodDisruptionBudgets: the disruption controller's status and the eviction subresource's check.

The drill's platform ships one budget per scenario Deployment and StatefulSet, as a platform
team's policy would: `maxUnavailable: 1`, and `minAvailable: 1` for a single-replica
StatefulSet (the budget that blocks every voluntary eviction of it, and so a node drain: a
classic incident of its own). The arithmetic and messages are those of kube-controller-
manager's disruption controller and the API server's pods/eviction (policy/v1).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warroom.drill.cluster_api import ClusterApi
from warroom.drill.podsets import PodSets
from warroom.drill.selectors import selector_matcher
from warroom.drill.store import Change, rfc3339

DELETION_TIMEOUT = 120.0  # a disrupted pod not deleted within this is counted again
BLOCKED = "Cannot evict pod as it would violate the pod's disruption budget."


@dataclass
class Refusal(Exception):
    """The eviction is refused: the API server's status code, reason, message, details."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] | None = None


def _scaled(value: Any, total: int) -> int:
    """intstr.GetScaledValueFromIntOrPercent with roundUp, as the disruption controller calls it."""
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(total * float(value[:-1]) / 100)
    return int(value)


def pod_ready(pod: dict[str, Any]) -> bool:
    conds = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


class Disruption:
    def __init__(self, cluster: ClusterApi, new_uid: Callable[[], str]) -> None:
        self.c = cluster
        self.new_uid = new_uid
        self.pods = PodSets(cluster.store, cluster.kick)

    # --- objects ---------------------------------------------------------------------------

    def populate(self, workload: dict[str, Any], created: str) -> None:
        meta, spec = workload["metadata"], workload["spec"]
        single_sts = workload["kind"] == "StatefulSet" and spec.get("replicas", 1) == 1
        budget: dict[str, Any] = {"minAvailable": 1} if single_sts else {"maxUnavailable": 1}
        pdb = {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": self.new_uid(),
                "creationTimestamp": created,
                "labels": dict(meta.get("labels") or {}),
                "generation": 1,
            },
            "spec": {**budget, "selector": {"matchLabels": dict(spec["selector"]["matchLabels"])}},
            "status": {},
        }
        self.c.store.create("poddisruptionbudgets", pdb)
        key = (meta["namespace"], meta["name"])
        self.pods.track(key, selector_matcher(pdb["spec"]["selector"]))

    def budgets_for(self, pod: dict[str, Any]) -> list[dict[str, Any]]:
        labels = pod["metadata"].get("labels") or {}
        ns = pod["metadata"]["namespace"]
        return [
            p
            for p in self.c.store.objects("poddisruptionbudgets", ns)
            if selector_matcher(p["spec"].get("selector"))(labels)
        ]

    def on_change(self, ch: Change) -> None:
        """Pods join and leave budgets; a workload's scale changes what a budget expects."""
        if ch.resource == "pods":
            self.pods.on_change(ch)
        elif ch.resource in ("deployments", "statefulsets", "replicasets"):
            self.pods.touch_namespace(ch.namespace)

    # --- controller ------------------------------------------------------------------------

    def _expected_scale(self, pods: list[dict[str, Any]]) -> int:
        """Sum of the replicas of the controllers owning the pods (Deployment, not its RS)."""
        owners: dict[str, int] = {}
        for p in pods:
            for ref in p["metadata"].get("ownerReferences") or []:
                if not ref.get("controller"):
                    continue
                ns = p["metadata"]["namespace"]
                if ref["kind"] == "ReplicaSet":
                    rs = self.c.store.get("replicasets", ns, ref["name"])
                    dref = next(
                        (r for r in (rs or {}).get("metadata", {}).get("ownerReferences") or []),
                        None,
                    )
                    if dref is not None:
                        d = self.c.store.get("deployments", ns, dref["name"])
                        if d is not None:
                            owners[d["metadata"]["uid"]] = d["spec"].get("replicas", 1)
                            continue
                    if rs is not None:
                        owners[rs["metadata"]["uid"]] = rs["spec"].get("replicas", 1)
                elif ref["kind"] == "StatefulSet":
                    s = self.c.store.get("statefulsets", ns, ref["name"])
                    if s is not None:
                        owners[s["metadata"]["uid"]] = s["spec"].get("replicas", 1)
        return sum(owners.values())

    def sync(self) -> None:
        for key in self.pods.take_dirty():
            pdb = self.c.store.get("poddisruptionbudgets", *key)
            if pdb is not None:
                self._sync(pdb, self.pods.pods(key))

    def _sync(self, pdb: dict[str, Any], pods: list[dict[str, Any]]) -> None:
        now = self.c.clock.now()
        spec, old = pdb["spec"], pdb.get("status") or {}
        if spec.get("maxUnavailable") is not None:
            expected = self._expected_scale(pods)
            desired = max(0, expected - _scaled(spec["maxUnavailable"], expected))
        elif isinstance(spec.get("minAvailable"), int):
            expected, desired = len(pods), int(spec["minAvailable"])
        else:
            expected = self._expected_scale(pods)
            desired = _scaled(spec.get("minAvailable", 0), expected)
        live = {p["metadata"]["name"]: p for p in pods}
        disrupted = {}
        for name, since in (old.get("disruptedPods") or {}).items():
            pod = live.get(name)
            if pod is None or pod["metadata"].get("deletionTimestamp"):
                continue  # the controller has seen it go
            if (now - _parse(since)).total_seconds() < DELETION_TIMEOUT:
                disrupted[name] = since
        healthy = sum(
            1
            for p in pods
            if not p["metadata"].get("deletionTimestamp")
            and p["metadata"]["name"] not in disrupted
            and pod_ready(p)
        )
        allowed = max(0, healthy - desired) if expected > 0 else 0
        status: dict[str, Any] = {"observedGeneration": pdb["metadata"].get("generation", 1)}
        if disrupted:
            status["disruptedPods"] = disrupted
        status.update(
            disruptionsAllowed=allowed,
            currentHealthy=healthy,
            desiredHealthy=desired,
            expectedPods=expected,
            conditions=[self._condition(old, allowed > 0, status["observedGeneration"])],
        )
        if status != old:
            pdb["status"] = status
            self.c.store.put("poddisruptionbudgets", pdb)

    def _condition(self, old: dict[str, Any], ok: bool, generation: int) -> dict[str, Any]:
        prev = next(iter(old.get("conditions") or []), None)
        status = "True" if ok else "False"
        since = rfc3339(self.c.clock.now())
        if prev is not None and prev.get("status") == status:
            since = prev["lastTransitionTime"]
        return {
            "type": "DisruptionAllowed",
            "status": status,
            "observedGeneration": generation,
            "lastTransitionTime": since,
            "reason": "SufficientPods" if ok else "InsufficientPods",
            "message": "",
        }

    # --- eviction --------------------------------------------------------------------------

    def check(self, pod: dict[str, Any], dry_run: bool) -> None:
        """Raise Refusal if evicting the pod would break its budget; else take one disruption."""
        status = pod.get("status") or {}
        if pod["metadata"].get("deletionTimestamp") or status.get("phase") in (
            "Succeeded",
            "Failed",
            "Pending",
        ):
            return  # it already caused its disruption: deleted without looking at budgets
        pdbs = self.budgets_for(pod)
        if len(pdbs) > 1:
            raise Refusal(
                500,
                "InternalError",
                "This pod has more than one PodDisruptionBudget, which the eviction "
                "subresource does not support.",
            )
        if not pdbs:
            return
        pdb = pdbs[0]
        st = pdb.get("status") or {}
        if not pod_ready(pod) and st.get("currentHealthy", 0) >= st.get("desiredHealthy", 0) > 0:
            return  # an unready pod does not count towards healthy: nothing to take
        stale = st.get("observedGeneration", 0) < pdb["metadata"].get("generation", 1)
        if stale or st.get("disruptionsAllowed", 0) <= 0:
            raise Refusal(
                429,
                "TooManyRequests",
                BLOCKED,
                {"causes": [{"reason": "DisruptionBudget", "message": _budget_msg(pdb)}]},
            )
        if dry_run:
            return
        st["disruptionsAllowed"] -= 1
        if st["disruptionsAllowed"] == 0:
            st["conditions"] = [self._condition(st, False, st.get("observedGeneration", 1))]
        st.setdefault("disruptedPods", {})[pod["metadata"]["name"]] = rfc3339(self.c.clock.now())
        pdb["status"] = st
        self.c.store.put("poddisruptionbudgets", pdb)


def _budget_msg(pdb: dict[str, Any]) -> str:
    st = pdb.get("status") or {}
    return (
        f"The disruption budget {pdb['metadata']['name']} needs {st.get('desiredHealthy', 0)} "
        f"healthy pods and has {st.get('currentHealthy', 0)} currently"
    )


def _parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))
