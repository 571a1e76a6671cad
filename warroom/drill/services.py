"""Services, and the EndpointSlices and Endpoints that follow their pods, as the endpoint and
endpointslice controllers keep them: a ready pod is a ready endpoint, a terminating one stays
in the slice (ready false, serving as its readiness says, terminating true) and leaves the
Endpoints, a pod without an IP is in neither.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from warroom.drill.cluster_api import ClusterApi
from warroom.drill.disruption import pod_ready
from warroom.drill.podsets import PodSets
from warroom.drill.selectors import selector_matcher
from warroom.drill.store import rfc3339

MANAGED_BY = "endpointslice.kubernetes.io/managed-by"
SERVICE_NAME = "kubernetes.io/service-name"
TRIGGER = "endpoints.kubernetes.io/last-change-trigger-time"


def service(
    name: str,
    namespace: str,
    uid: str,
    created: str,
    cluster_ip: str,
    ports: list[dict[str, Any]],
    selector: dict[str, str] | None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    headless = cluster_ip == "None"
    spec: dict[str, Any] = {
        "clusterIP": cluster_ip,
        "clusterIPs": [cluster_ip],
        "internalTrafficPolicy": "Cluster",
        "ipFamilies": ["IPv4"],
        "ipFamilyPolicy": "SingleStack",
        "ports": ports,
    }
    if selector is not None:
        spec["selector"] = dict(selector)
    spec.update(sessionAffinity="None", type="ClusterIP")
    if headless:
        spec["publishNotReadyAddresses"] = False
    meta: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": uid,
        "creationTimestamp": created,
    }
    if labels:
        meta["labels"] = dict(labels)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": spec,
        "status": {"loadBalancer": {}},
    }


def ports_of(template: dict[str, Any]) -> list[dict[str, Any]]:
    """Service ports for every port the pod template's containers declare."""
    out = []
    for c in template["spec"]["containers"]:
        for p in c.get("ports") or []:
            name = p.get("name") or ("http" if not out else f"{c['name']}-{p['containerPort']}")
            out.append(
                {
                    "name": name,
                    "port": p["containerPort"],
                    "protocol": p.get("protocol", "TCP"),
                    "targetPort": p.get("name") or p["containerPort"],
                }
            )
    return out


class Endpoints:
    """The endpoint controllers: recompute a Service's slice when one of its pods changes."""

    def __init__(self, cluster: ClusterApi, new_uid: Callable[[], str]) -> None:
        self.c = cluster
        self.new_uid = new_uid
        self.pods = PodSets(cluster.store, cluster.kick)
        self.apiserver: tuple[str, int] | None = None  # for the `kubernetes` Service

    def add(self, svc: dict[str, Any]) -> None:
        meta = svc["metadata"]
        key = (meta["namespace"], meta["name"])
        self.c.store.create("services", svc)
        if svc["spec"].get("selector") is not None:
            self.pods.track(key, selector_matcher({"matchLabels": svc["spec"]["selector"]}))
        else:
            self.pods.dirty.add(key)

    def set_apiserver(self, host: str, port: int) -> None:
        """Where the API server listens: the `kubernetes` Service's target and endpoint."""
        self.apiserver = (host, port)
        svc = self.c.store.get("services", "default", "kubernetes")
        if svc is not None:
            svc["spec"]["ports"][0]["targetPort"] = port
            self.c.store.put("services", svc)
        self.pods.dirty.add(("default", "kubernetes"))
        self.c.kick()

    def sync(self) -> None:
        for ns, name in self.pods.take_dirty():
            svc = self.c.store.get("services", ns, name)
            if svc is not None:
                self._sync(svc)

    def _pods(self, svc: dict[str, Any]) -> list[dict[str, Any]]:
        return self.pods.pods((svc["metadata"]["namespace"], svc["metadata"]["name"]))

    # --- one service -----------------------------------------------------------------------

    def _endpoints_of(self, svc: dict[str, Any]) -> list[dict[str, Any]]:
        meta = svc["metadata"]
        if svc["spec"].get("selector") is None:
            if meta["name"] == "kubernetes" and self.apiserver is not None:
                return [{"addresses": [self.apiserver[0]], "conditions": {"ready": True}}]
            return []
        out = []
        for pod in self._pods(svc):
            st = pod.get("status") or {}
            if not st.get("podIP"):
                continue
            ready = pod_ready(pod)
            terminating = bool(pod["metadata"].get("deletionTimestamp"))
            ep: dict[str, Any] = {
                "addresses": [st["podIP"]],
                "conditions": {
                    "ready": ready and not terminating,
                    "serving": ready,
                    "terminating": terminating,
                },
            }
            hostname = (pod.get("spec") or {}).get("hostname")
            if hostname and svc["spec"].get("clusterIP") == "None":
                ep["hostname"] = hostname
            node = (pod.get("spec") or {}).get("nodeName")
            if node:
                ep["nodeName"] = node
            ep["targetRef"] = {
                "kind": "Pod",
                "name": pod["metadata"]["name"],
                "namespace": meta["namespace"],
                "uid": pod["metadata"]["uid"],
            }
            zone = self._zone(node)
            if zone:
                ep["zone"] = zone
            out.append(ep)
        return out

    def _zone(self, node: str | None) -> str:
        obj = self.c.store.get("nodes", "", node) if node else None
        return ((obj or {}).get("metadata", {}).get("labels") or {}).get(
            "topology.kubernetes.io/zone", ""
        )

    def _ports(self, svc: dict[str, Any]) -> list[dict[str, Any]]:
        if svc["metadata"]["name"] == "kubernetes" and self.apiserver is not None:
            return [{"name": "https", "port": self.apiserver[1], "protocol": "TCP"}]
        out = []
        for p in svc["spec"].get("ports") or []:
            target = p.get("targetPort", p["port"])
            port = target if isinstance(target, int) else self._named_port(svc, target)
            if port is not None:
                out.append({"name": p.get("name", ""), "port": port, "protocol": p["protocol"]})
        return out

    def _named_port(self, svc: dict[str, Any], name: str) -> int | None:
        for pod in self._pods(svc):
            for c in pod["spec"]["containers"]:
                for p in c.get("ports") or []:
                    if p.get("name") == name:
                        return int(p["containerPort"])
        return None

    def _sync(self, svc: dict[str, Any]) -> None:
        meta = svc["metadata"]
        ns, name = meta["namespace"], meta["name"]
        endpoints, ports = self._endpoints_of(svc), self._ports(svc)
        labels = {**(meta.get("labels") or {}), SERVICE_NAME: name}
        if name != "kubernetes":
            labels[MANAGED_BY] = "endpointslice-controller.k8s.io"
        existing = [
            s
            for s in self.c.store.objects("endpointslices", ns)
            if (s["metadata"].get("labels") or {}).get(SERVICE_NAME) == name
        ]
        now = rfc3339(self.c.clock.now())
        if existing:
            sl = existing[0]
            if sl.get("endpoints") != endpoints or sl.get("ports") != ports:
                sl["endpoints"], sl["ports"] = endpoints, ports
                sl["metadata"].setdefault("annotations", {})[TRIGGER] = now
                self.c.store.put("endpointslices", sl)
        else:
            suffix = "" if name == "kubernetes" else f"-{self.c.suffix_for(f'slice/{ns}/{name}')}"
            slice_meta: dict[str, Any] = {
                "name": name + suffix,
                "namespace": ns,
                "uid": self.new_uid(),
                "creationTimestamp": meta["creationTimestamp"],
                "labels": labels,
                "annotations": {TRIGGER: meta["creationTimestamp"]},
            }
            if suffix:
                slice_meta["generateName"] = f"{name}-"
                slice_meta["ownerReferences"] = [
                    {
                        "apiVersion": "v1",
                        "kind": "Service",
                        "name": name,
                        "uid": meta["uid"],
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ]
            self.c.store.create(
                "endpointslices",
                {
                    "apiVersion": "discovery.k8s.io/v1",
                    "kind": "EndpointSlice",
                    "metadata": slice_meta,
                    "addressType": "IPv4",
                    "endpoints": endpoints,
                    "ports": ports,
                },
            )
        self._sync_endpoints(svc, endpoints, ports)

    def _sync_endpoints(
        self, svc: dict[str, Any], endpoints: list[dict[str, Any]], ports: list[dict[str, Any]]
    ) -> None:
        """core/v1 Endpoints: ready addresses and not-ready ones; terminating pods leave it."""
        meta = svc["metadata"]
        ready, unready = [], []
        for ep in endpoints:
            if ep["conditions"].get("terminating"):
                continue
            addr: dict[str, Any] = {"ip": ep["addresses"][0]}
            for k in ("hostname", "nodeName"):
                if k in ep:
                    addr[k] = ep[k]
            if "targetRef" in ep:
                addr["targetRef"] = {**ep["targetRef"]}
            (ready if ep["conditions"]["ready"] else unready).append(addr)
        subsets: list[dict[str, Any]] = []
        if ready or unready:
            subset: dict[str, Any] = {}
            if ready:
                subset["addresses"] = ready
            if unready:
                subset["notReadyAddresses"] = unready
            subset["ports"] = ports
            subsets.append(subset)
        current = self.c.store.get("endpoints", meta["namespace"], meta["name"])
        if current is None:
            obj: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {
                    "name": meta["name"],
                    "namespace": meta["namespace"],
                    "uid": self.new_uid(),
                    "creationTimestamp": meta["creationTimestamp"],
                    "labels": dict(meta.get("labels") or {}),
                },
            }
            if subsets:
                obj["subsets"] = subsets
            self.c.store.create("endpoints", obj)
        elif current.get("subsets", []) != subsets:
            if subsets:
                current["subsets"] = subsets
            else:
                current.pop("subsets", None)
            self.c.store.put("endpoints", current)
