"""Pods taken out of their ReplicaSet by a label change, and pods isolated by NetworkPolicies.

The ReplicaSet controller's ClaimPods, as kube-controller-manager runs it: a pod whose labels
no longer match its ReplicaSet's selector is released (its controller ownerReference is
removed, and the ReplicaSet makes a replacement); an orphan whose labels match a ReplicaSet's
selector again is adopted (and a ReplicaSet over its count deletes one). Services follow
labels on their own (services.py).

A NetworkPolicy isolates the pods its podSelector selects; one that lists Egress among its
policyTypes with no egress rules cuts every outbound connection. When such a policy comes to
select a pod (created, or the pod relabelled into it), the scenario hears a `quarantine` of
the pod's workload, with the pod's name and behavior.
"""

from __future__ import annotations

from typing import Any

from warroom.drill.cluster_api import ClusterApi
from warroom.drill.selectors import selector_matcher


def denies_egress(policy: dict[str, Any]) -> bool:
    spec = policy.get("spec") or {}
    return "Egress" in (spec.get("policyTypes") or []) and not spec.get("egress")


def selects(policy: dict[str, Any], pod: dict[str, Any]) -> bool:
    spec = policy.get("spec") or {}
    labels = pod["metadata"].get("labels") or {}
    # An empty podSelector ({}) selects every pod of the namespace, as in the API.
    return selector_matcher(spec.get("podSelector") or {})(labels)


class Isolation:
    def __init__(self, cluster: ClusterApi) -> None:
        self.c = cluster
        self._isolated: set[tuple[str, str, str]] = set()  # (namespace, pod uid, policy name)

    # --- ReplicaSet ownership ----------------------------------------------------------------

    def relabelled(self, pod: dict[str, Any]) -> None:
        """A pod's labels changed (through the API): release or adopt it, then see whether a
        NetworkPolicy now isolates it."""
        meta = pod["metadata"]
        ns = meta["namespace"]
        key = (ns, meta["name"])
        ref = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
        labels = meta.get("labels") or {}
        if ref is not None and ref.get("kind") == "ReplicaSet":
            rs = self.c.store.get("replicasets", ns, ref["name"])
            if rs is not None and not selector_matcher(rs["spec"].get("selector"))(labels):
                meta["ownerReferences"] = [
                    r for r in meta["ownerReferences"] if r.get("uid") != ref["uid"]
                ]
                if not meta["ownerReferences"]:
                    del meta["ownerReferences"]
                self.c.disown(ref["uid"], key)
                self.c.store.put("pods", pod)
        elif ref is None:
            for rs in self.c.store.objects("replicasets", ns):
                if rs["metadata"].get("deletionTimestamp"):
                    continue
                if selector_matcher(rs["spec"].get("selector"))(labels):
                    meta["ownerReferences"] = [
                        {
                            "apiVersion": "apps/v1",
                            "kind": "ReplicaSet",
                            "name": rs["metadata"]["name"],
                            "uid": rs["metadata"]["uid"],
                            "controller": True,
                            "blockOwnerDeletion": True,
                        }
                    ]
                    self.c.adopt(rs["metadata"]["uid"], key)
                    self.c.store.put("pods", pod)
                    break
        self.c.kick()
        for policy in self.c.store.objects("networkpolicies", ns):
            self._check(policy, pod)

    # --- NetworkPolicies ---------------------------------------------------------------------

    def policy_changed(self, policy: dict[str, Any]) -> None:
        ns = policy["metadata"]["namespace"]
        for pod in self.c.store.objects("pods", ns):
            self._check(policy, pod)

    def policy_deleted(self, policy: dict[str, Any]) -> None:
        ns, name = policy["metadata"]["namespace"], policy["metadata"]["name"]
        self._isolated = {k for k in self._isolated if (k[0], k[2]) != (ns, name)}

    def isolated(self, namespace: str, pod_uid: str) -> bool:
        return any(k[0] == namespace and k[1] == pod_uid for k in self._isolated)

    def _check(self, policy: dict[str, Any], pod: dict[str, Any]) -> None:
        meta = pod["metadata"]
        key = (meta["namespace"], meta["uid"], policy["metadata"]["name"])
        if key in self._isolated or not denies_egress(policy) or not selects(policy, pod):
            return
        self._isolated.add(key)
        sim = self.c.kubelet.pods.get((meta["namespace"], meta["name"]))
        if sim is None:
            return
        info = {
            "pod": meta["name"],
            "policy": policy["metadata"]["name"],
            "behavior": sim.containers[0].behavior.name if sim.containers else "",
        }
        self.c._trigger("quarantine", sim.workload, info, meta["namespace"])
