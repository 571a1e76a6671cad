"""Workload controllers: Deployment -> ReplicaSet -> Pod, StatefulSet and DaemonSet.

The Deployment rolling update follows kube-controller-manager's arithmetic (maxSurge rounds up,
maxUnavailable down, unhealthy old replicas are cleaned up first), so a rollout restart of a
crash-looping Deployment replaces its pods one at a time as the new ones become available.
"""

from __future__ import annotations

import copy
from typing import Any

from warroom.drill import objects
from warroom.drill.cluster_api import ClusterApi
from warroom.drill.kubelet import PodSim
from warroom.drill.store import rfc3339


def _rev(obj: dict[str, Any]) -> int:
    return int((obj["metadata"].get("annotations") or {}).get(objects.REVISION, "0"))


class Controllers:
    def __init__(self, cluster: ClusterApi) -> None:
        self.c = cluster

    # --- helpers ---------------------------------------------------------------------------

    def _now(self) -> str:
        return rfc3339(self.c.clock.now())

    def _pods(self, owner: dict[str, Any]) -> list[PodSim]:
        return self.c.owned_pods(owner["metadata"]["uid"])

    def _active(self, owner: dict[str, Any]) -> list[PodSim]:
        return [p for p in self._pods(owner) if not p.deleting]

    def _event(self, obj: dict[str, Any], reason: str, msg: str, component: str) -> None:
        self.c.events.record(obj, "Normal", reason, msg, component)

    def _put_status(self, resource: str, obj: dict[str, Any], status: dict[str, Any]) -> None:
        if obj.get("status") != status:
            obj["status"] = status
            self.c.store.put(resource, obj)

    def _cond(
        self, old: list[dict[str, Any]], ctype: str, status: str, reason: str, msg: str
    ) -> dict[str, Any]:
        prev = next((c for c in old if c.get("type") == ctype), None)
        now = self._now()
        if prev and prev.get("status") == status and prev.get("reason") == reason:
            return {**prev, "message": msg, "lastUpdateTime": prev.get("lastUpdateTime", now)}
        since = (
            prev.get("lastTransitionTime", now) if prev and prev.get("status") == status else now
        )
        return {
            "type": ctype,
            "status": status,
            "lastUpdateTime": now,
            "lastTransitionTime": since,
            "reason": reason,
            "message": msg,
        }

    # --- Deployment ------------------------------------------------------------------------

    def deployment(self, d: dict[str, Any]) -> None:
        ns = d["metadata"]["namespace"]
        rss = [
            rs
            for rs in self.c.store.objects("replicasets", ns)
            if self.c.owner_uid(rs) == d["metadata"]["uid"]
        ]
        spec = d["spec"]
        desired = int(spec.get("replicas", 1))
        new = next(
            (rs for rs in rss if objects.strip_hash(rs["spec"]["template"]) == spec["template"]),
            None,
        )
        paused = bool(spec.get("paused"))
        if not paused:
            max_rev = max((_rev(rs) for rs in rss), default=0)
            if new is None:
                h = objects.template_hash(spec["template"])
                rs_name = f"{d['metadata']['name']}-{h}"
                new = objects.replicaset(d, rs_name, h, 0, max_rev + 1, self._now())
                self.c.store.create("replicasets", new)
                rss.append(new)
                self._set_revision(d, max_rev + 1)
            elif _rev(new) < max_rev:  # rollback to an older template
                new["metadata"]["annotations"][objects.REVISION] = str(max_rev + 1)
                self.c.store.put("replicasets", new)
                self._set_revision(d, max_rev + 1)
            old = [rs for rs in rss if rs is not new]
            if (spec.get("strategy") or {}).get("type") == "Recreate":
                self._recreate(d, new, old, desired)
            else:
                self._rolling(d, new, old, desired)
            self._cleanup(d, old)
        elif new is not None and all(rs["spec"]["replicas"] == 0 for rs in rss if rs is not new):
            self._scale_rs(d, new, desired)
        self._deployment_status(d, new, rss, desired)

    def _set_revision(self, d: dict[str, Any], rev: int) -> None:
        d["metadata"].setdefault("annotations", {})[objects.REVISION] = str(rev)
        self.c.store.put("deployments", d)

    def _available(self, rs: dict[str, Any]) -> int:
        return sum(1 for p in self._active(rs) if p.ready)

    def _scale_rs(self, d: dict[str, Any], rs: dict[str, Any], n: int) -> None:
        cur = rs["spec"]["replicas"]
        if cur == n:
            return
        rs["spec"]["replicas"] = n
        rs["metadata"]["generation"] = rs["metadata"].get("generation", 1) + 1
        ann = rs["metadata"].setdefault("annotations", {})
        ann["deployment.kubernetes.io/desired-replicas"] = str(d["spec"].get("replicas", 1))
        self.c.store.put("replicasets", rs)
        word = "up" if n > cur else "down"
        self._event(
            d,
            "ScalingReplicaSet",
            f"Scaled {word} replica set {rs['metadata']['name']} to {n} from {cur}",
            "deployment-controller",
        )

    def _recreate(
        self, d: dict[str, Any], new: dict[str, Any], old: list[dict[str, Any]], desired: int
    ) -> None:
        for rs in old:
            if rs["spec"]["replicas"]:
                self._scale_rs(d, rs, 0)
        if any(self._pods(rs) for rs in old):
            return  # Recreate waits until every old pod is gone
        self._scale_rs(d, new, desired)

    def _rolling(
        self, d: dict[str, Any], new: dict[str, Any], old: list[dict[str, Any]], desired: int
    ) -> None:
        ru = (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}
        surge = objects.percent(ru.get("maxSurge", "25%"), desired, True)
        unavail = objects.percent(ru.get("maxUnavailable", "25%"), desired, False)
        if surge == 0 and unavail == 0:
            unavail = 1
        all_rs = [new, *old]
        # Scale up the new ReplicaSet within maxSurge.
        cur_new = new["spec"]["replicas"]
        if cur_new > desired:
            self._scale_rs(d, new, desired)
        elif cur_new < desired:
            total = sum(rs["spec"]["replicas"] for rs in all_rs)
            up = min(desired + surge - total, desired - cur_new)
            if up > 0:
                self._scale_rs(d, new, cur_new + up)
        # Scale down old ReplicaSets within maxUnavailable, unhealthy replicas first.
        min_available = desired - unavail
        new_unavailable = new["spec"]["replicas"] - self._available(new)
        total = sum(rs["spec"]["replicas"] for rs in all_rs)
        budget = total - min_available - new_unavailable
        if budget <= 0:
            return
        old_sorted = sorted(old, key=lambda rs: rs["metadata"]["creationTimestamp"])
        for rs in old_sorted:
            if budget <= 0:
                break
            unhealthy = rs["spec"]["replicas"] - self._available(rs)
            n = min(budget, max(0, unhealthy))
            if n:
                self._scale_rs(d, rs, rs["spec"]["replicas"] - n)
                budget -= n
        available = sum(self._available(rs) for rs in all_rs)
        room = available - min_available
        for rs in old_sorted:
            if room <= 0:
                break
            n = min(rs["spec"]["replicas"], room)
            if n:
                self._scale_rs(d, rs, rs["spec"]["replicas"] - n)
                room -= n

    def _cleanup(self, d: dict[str, Any], old: list[dict[str, Any]]) -> None:
        limit = int(d["spec"].get("revisionHistoryLimit", 10))
        idle = [rs for rs in old if rs["spec"]["replicas"] == 0 and not self._pods(rs)]
        idle.sort(key=_rev)
        for rs in idle[: max(0, len(idle) - limit)]:
            self.c.store.delete("replicasets", rs["metadata"]["namespace"], rs["metadata"]["name"])

    def _deployment_status(
        self,
        d: dict[str, Any],
        new: dict[str, Any] | None,
        rss: list[dict[str, Any]],
        desired: int,
    ) -> None:
        active = [p for rs in rss for p in self._active(rs)]
        updated = self._active(new) if new is not None else []
        ready = sum(1 for p in active if p.ready)
        total_spec = sum(rs["spec"]["replicas"] for rs in rss)
        ru = (d["spec"].get("strategy") or {}).get("rollingUpdate") or {}
        unavail = objects.percent(ru.get("maxUnavailable", "25%"), desired, False)
        old_conds = (d.get("status") or {}).get("conditions") or []
        ok = ready >= desired - unavail
        conds = [
            self._cond(
                old_conds,
                "Available",
                "True" if ok else "False",
                "MinimumReplicasAvailable" if ok else "MinimumReplicasUnavailable",
                "Deployment has minimum availability."
                if ok
                else "Deployment does not have minimum availability.",
            )
        ]
        rs_name = new["metadata"]["name"] if new is not None else d["metadata"]["name"]
        if d["spec"].get("paused"):
            prog = ("Unknown", "DeploymentPaused", "Deployment is paused")
        elif len(updated) == desired and len(active) == desired and ready == desired:
            prog = (
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
            )
        else:
            prog = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
        conds.append(self._cond(old_conds, "Progressing", *prog))
        status: dict[str, Any] = {
            "observedGeneration": d["metadata"].get("generation", 1),
            "replicas": len(active),
            "updatedReplicas": len(updated),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "conditions": conds,
        }
        if total_spec - ready > 0:
            status["unavailableReplicas"] = total_spec - ready
        for k in ("readyReplicas", "availableReplicas", "updatedReplicas", "replicas"):
            if not status[k]:
                del status[k]
        self._put_status("deployments", d, status)

    # --- ReplicaSet ------------------------------------------------------------------------

    def replicaset(self, rs: dict[str, Any]) -> None:
        active = self._active(rs)
        want = int(rs["spec"].get("replicas", 0))
        if len(active) < want:
            for _ in range(want - len(active)):
                pod = self.c.new_pod_from(rs, rs["spec"]["template"])
                self._event(
                    rs,
                    "SuccessfulCreate",
                    f"Created pod: {pod['metadata']['name']}",
                    "replicaset-controller",
                )
        elif len(active) > want:
            # Delete the least useful pods first: unscheduled, pending, not ready, youngest.
            ranked = sorted(
                active,
                key=lambda p: (
                    p.node is not None,
                    p.phase == "Running",
                    p.ready,
                    -(p.scheduled_at or 0.0),
                ),
            )
            for p in ranked[: len(active) - want]:
                self.c.kubelet.delete(p, 30)
                self._event(
                    rs, "SuccessfulDelete", f"Deleted pod: {p.name}", "replicaset-controller"
                )
        active = self._active(rs)
        ready = sum(1 for p in active if p.ready)
        status: dict[str, Any] = {
            "replicas": len(active),
            "fullyLabeledReplicas": len(active),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        for k in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
            if not status[k]:
                del status[k]
        self._put_status("replicasets", rs, status)

    # --- StatefulSet -----------------------------------------------------------------------

    def statefulset(self, s: dict[str, Any]) -> None:
        name = s["metadata"]["name"]
        want = int(s["spec"].get("replicas", 1))
        revision = self.c.revisions.current(s)
        pods = {p.name: p for p in self._pods(s)}
        busy = False  # OrderedReady: one pod changes at a time, lower ordinals first
        for i in range(want):
            pname = f"{name}-{i}"
            p = pods.get(pname)
            if p is None:
                if not busy:
                    self._sts_create(s, pname, revision)
                busy = True
            elif p.deleting or not p.ready:
                busy = True
        for pname, p in sorted(pods.items(), reverse=True):
            ordinal = int(pname.rsplit("-", 1)[1])
            if ordinal >= want and not p.deleting and not busy:
                self.c.kubelet.delete(p, 30)
                self._sts_event(s, "delete", pname)
                busy = True
        if not busy:  # rolling update: highest ordinal on an old revision goes first
            for pname, p in sorted(pods.items(), reverse=True):
                if self.c.pod_label(p, "controller-revision-hash") != revision:
                    self.c.kubelet.delete(p, 30)
                    self._sts_event(s, "delete", pname)
                    break
        active = self._active(s)
        ready = sum(1 for p in active if p.ready)
        updated = sum(
            1 for p in active if self.c.pod_label(p, "controller-revision-hash") == revision
        )
        # currentRevision moves to the update revision once every pod runs it.
        current = (s.get("status") or {}).get("currentRevision") or revision
        if updated == len(active) == want:
            current = revision
        status = {
            "observedGeneration": s["metadata"].get("generation", 1),
            "replicas": len(active),
            "readyReplicas": ready,
            "currentReplicas": updated if current == revision else len(active) - updated,
            "updatedReplicas": updated,
            "availableReplicas": ready,
            "currentRevision": current,
            "updateRevision": revision,
            "collisionCount": 0,
        }
        self._put_status("statefulsets", s, status)

    def _sts_create(self, s: dict[str, Any], pname: str, revision: str) -> None:
        labels = {
            "controller-revision-hash": revision,
            "statefulset.kubernetes.io/pod-name": pname,
            "apps.kubernetes.io/pod-index": pname.rsplit("-", 1)[1],
        }
        tmpl = copy.deepcopy(s["spec"]["template"])
        tmpl["spec"]["hostname"] = pname
        tmpl["spec"]["subdomain"] = s["spec"].get("serviceName", s["metadata"]["name"])
        self.c.new_pod_from(s, tmpl, name=pname, extra_labels=labels)
        self._sts_event(s, "create", pname)

    def _sts_event(self, s: dict[str, Any], verb: str, pname: str) -> None:
        reason = "SuccessfulCreate" if verb == "create" else "SuccessfulDelete"
        msg = f"{verb} Pod {pname} in StatefulSet {s['metadata']['name']} successful"
        self._event(s, reason, msg, "statefulset-controller")

    # --- DaemonSet -------------------------------------------------------------------------

    def daemonset(self, ds: dict[str, Any]) -> None:
        gen = str(ds["metadata"].get("generation", 1))
        revision = objects.template_hash(ds["spec"]["template"])
        nodes = [n for n, st in self.c.nodes.items() if st.ready]
        active = self._active(ds)
        on_node = {p.node or p.pinned: p for p in active}
        busy = any(not p.ready for p in active)
        for n in nodes:
            if n not in on_node:
                labels = {"controller-revision-hash": revision, "pod-template-generation": gen}
                pod = self.c.new_pod_from(ds, ds["spec"]["template"], extra_labels=labels, node=n)
                self._event(
                    ds,
                    "SuccessfulCreate",
                    f"Created pod: {pod['metadata']['name']}",
                    "daemonset-controller",
                )
                busy = True
        if not busy:  # rolling update, maxUnavailable 1
            for p in active:
                if self.c.pod_label(p, "controller-revision-hash") != revision:
                    self.c.kubelet.delete(p, 30)
                    self._event(
                        ds, "SuccessfulDelete", f"Deleted pod: {p.name}", "daemonset-controller"
                    )
                    break
        active = self._active(ds)
        ready = sum(1 for p in active if p.ready)
        updated = sum(
            1 for p in active if self.c.pod_label(p, "controller-revision-hash") == revision
        )
        status: dict[str, Any] = {
            "currentNumberScheduled": len(active),
            "desiredNumberScheduled": len(nodes),
            "numberAvailable": ready,
            "numberMisscheduled": 0,
            "numberReady": ready,
            "observedGeneration": ds["metadata"].get("generation", 1),
            "updatedNumberScheduled": updated,
        }
        if len(nodes) - ready > 0:
            status["numberUnavailable"] = len(nodes) - ready
        self._put_status("daemonsets", ds, status)
