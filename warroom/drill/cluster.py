"""The simulated cluster: object store, kubelets, controllers, nodes, and the operations the
API server and the scenario engine perform on it. Single-threaded, on the world's loop."""

from __future__ import annotations

import copy
import logging
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from warroom.drill import objects, system
from warroom.drill.clock import Scheduler, Timer, WorldClock
from warroom.drill.controllers import Controllers
from warroom.drill.disruption import Disruption
from warroom.drill.events import EventRecorder
from warroom.drill.isolation import Isolation
from warroom.drill.kubelet import Kubelet, PodSim
from warroom.drill.revisions import Revisions
from warroom.drill.scenario_types import (
    Behavior,
    ContainerSpec,
    LogProfile,
    NodeSpec,
    Scenario,
    Workload,
)
from warroom.drill.services import Endpoints
from warroom.drill.store import ObjectStore, rfc3339

log = logging.getLogger(__name__)

RESOURCE_OF = {
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets",
}
SYSTEM_NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")
Trigger = Callable[[str, str, dict[str, Any]], None]


@dataclass
class NodeState:
    spec: NodeSpec
    index: int
    ready: bool = True
    ips: int = 0


def filler_workloads(count: int) -> list[Workload]:
    """Extra Deployments of up to 100 pods each, to inflate a scenario to `count` pods."""
    out, i = [], 0
    while count > 0:
        n = min(100, count)
        name = f"batch-worker-{i:03d}"
        c = ContainerSpec("worker", "registry.example.com/shop/batch-worker:1.4.2", None, None)
        out.append(Workload("Deployment", name, n, (c,), {"app": name, "tier": "batch"}))
        count, i = count - n, i + 1
    return out


class Cluster:
    def __init__(
        self,
        scenario: Scenario,
        clock: WorldClock,
        scheduler: Scheduler,
        *,
        history_size: int = 1000,
        extra_pods: int = 0,
    ) -> None:
        self.scenario = scenario
        self.namespace = scenario.namespace
        self.clock, self.scheduler = clock, scheduler
        self.timings = scenario.timings
        # Everything random is drawn from the scenario's seed, so a drill replays identically.
        # Objects beyond the scenario's own (Services, budgets, revisions) and per-pod jitter
        # draw from streams of their own: they never shift the names and uids of its pods.
        self.seed = f"warroom-drill/{scenario.name}"
        self.rng = random.Random(self.seed)
        self._aux = random.Random(f"{self.seed}/objects")
        self._ips = 10
        self.store = ObjectStore(clock.now, history_size, self.new_uid)
        self.events = EventRecorder(self.store, clock)
        self.kubelet = Kubelet(self)
        self.controllers = Controllers(self)
        self.revisions = Revisions(self, self.aux_uid)
        self.disruption = Disruption(self, self.aux_uid)
        self.endpoints = Endpoints(self, self.aux_uid)
        self.isolation = Isolation(self)
        self.store.on_change += [self.endpoints.pods.on_change, self.disruption.on_change]
        self.logs: dict[str, LogProfile] = {**system.LOGS, **scenario.logs}
        self.nodes = {n.name: NodeState(n, i) for i, n in enumerate(scenario.nodes)}
        self.workloads = {w.ref: w for w in (*scenario.workloads, *filler_workloads(extra_pods))}
        self.behaviors: dict[str, Behavior] = {}
        self.on_trigger: list[Trigger] = []
        self._owned: dict[str, set[tuple[str, str]]] = {}
        self._kick: Timer | None = None
        self._load: Counter[Any] = Counter()

    # --- identity helpers ------------------------------------------------------------------

    def new_uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def suffix(self, n: int = 5) -> str:
        return "".join(self.rng.choice(objects.SAFE) for _ in range(n))

    def aux_uid(self) -> str:
        return str(uuid.UUID(int=self._aux.getrandbits(128), version=4))

    def suffix_for(self, key: str, n: int = 5) -> str:
        rng = random.Random(f"{self.seed}/{key}")
        return "".join(rng.choice(objects.SAFE) for _ in range(n))

    def jitter(self, key: str, low: float, high: float) -> float:
        """A value in [low, high) drawn from the seed and the key alone: the same pod, run
        and purpose always get the same jitter, whatever else happened first."""
        return random.Random(f"{self.seed}/{key}").uniform(low, high)

    def cluster_ip(self) -> str:
        self._ips += 1
        return f"10.96.{self._aux.randint(1, 254)}.{self._ips}"

    def node_ip(self, node: str) -> str:
        return self.nodes[node].spec.ip

    def next_pod_ip(self, node: str) -> str:
        st = self.nodes[node]
        st.ips += 1
        return f"10.{100 + st.index}.{(st.ips // 250) % 256}.{st.ips % 250 + 2}"

    @staticmethod
    def owner_uid(obj: dict[str, Any]) -> str:
        for ref in obj["metadata"].get("ownerReferences") or []:
            if ref.get("controller"):
                return str(ref["uid"])
        return ""

    def owned_pods(self, uid: str) -> list[PodSim]:
        pods = self.kubelet.pods
        return [pods[k] for k in sorted(self._owned.get(uid, ())) if k in pods]

    def pod_label(self, sim: PodSim, key: str) -> str:
        obj = self.store.get("pods", sim.namespace, sim.name)
        return ((obj or {}).get("metadata", {}).get("labels") or {}).get(key, "")

    def workload_ref(self, owner: dict[str, Any]) -> str:
        """ "deployment/name" for a Deployment, its ReplicaSet or one of their pods."""
        if owner.get("kind") in ("ReplicaSet", "Pod"):
            for ref in owner["metadata"].get("ownerReferences") or []:
                if ref.get("kind") == "ReplicaSet":
                    rs = self.store.get("replicasets", owner["metadata"]["namespace"], ref["name"])
                    return self.workload_ref(rs) if rs else ""
                if ref.get("kind") == "Deployment":
                    return f"deployment/{ref['name']}"
                return f"{ref['kind'].lower()}/{ref['name']}"
            return ""
        return f"{owner['kind'].lower()}/{owner['metadata']['name']}"

    def workload_obj(self, ref: str) -> tuple[str, dict[str, Any]] | None:
        kind, _, name = ref.partition("/")
        resource = {"deployment": "deployments", "statefulset": "statefulsets"}.get(
            kind, "daemonsets"
        )
        obj = self.store.get(resource, self.namespace, name)
        return (resource, obj) if obj is not None else None

    # --- population ------------------------------------------------------------------------

    def populate(self) -> None:
        """Build the steady state the drill starts from, then compact the history."""

        def at(t: float) -> str:
            return rfc3339(self.clock.at(t))

        for ns in (*SYSTEM_NAMESPACES, self.namespace):
            if self.store.get("namespaces", "", ns) is None:
                self.store.create("namespaces", objects.namespace(ns, at(-180 * 86400)))
        for st in self.nodes.values():
            ids = random.Random(f"{self.seed}/node/{st.spec.name}")
            self.store.create(
                "nodes",
                objects.node(st.spec, st.index, at(-45 * 86400), at(-44 * 86400), ids),
            )
        for w in self.workloads.values():
            self._populate_workload(w)
        state = self.rng.getstate()  # the system's pods draw names from the scenario's stream:
        self.rng = random.Random(f"{self.seed}/system")  # give them a stream of their own
        self._populate_workload(system.COREDNS, "kube-system", system.coredns_template)
        self.rng.setstate(state)
        system.populate(self, at)
        self._reconcile()
        self.store.compact()

    def _populate_workload(
        self,
        w: Workload,
        namespace: str | None = None,
        customize: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        created = -w.age - 7 * 86400
        self.behaviors[w.ref] = self.scenario.behaviors.get(w.behavior, Behavior("healthy"))
        rev = self.rng.randint(3, 24)
        ns = namespace or self.namespace
        obj = objects.workload(w, ns, rfc3339(self.clock.at(created)), rev)
        if customize is not None:
            customize(obj)
        self.store.create(RESOURCE_OF[w.kind], obj)

        def since() -> float:  # pods of one workload started within a minute and a half
            return -w.age + self.rng.uniform(0, 90)

        if w.kind == "Deployment":
            h = objects.template_hash(obj["spec"]["template"])
            rs = objects.replicaset(
                obj, f"{w.name}-{h}", h, w.replicas, rev, rfc3339(self.clock.at(-w.age))
            )
            self.store.create("replicasets", rs)
            for _ in range(w.replicas):
                self.new_pod_from(rs, rs["spec"]["template"], running_since=since())
        elif w.kind == "StatefulSet":
            revision = self.revisions.current(obj)
            for i in range(w.replicas):
                name = f"{w.name}-{i}"
                labels = {
                    "controller-revision-hash": revision,
                    "statefulset.kubernetes.io/pod-name": name,
                    "apps.kubernetes.io/pod-index": str(i),
                }
                self.new_pod_from(
                    obj,
                    obj["spec"]["template"],
                    name=name,
                    extra_labels=labels,
                    running_since=since(),
                )
        else:
            labels = {
                "controller-revision-hash": objects.template_hash(obj["spec"]["template"]),
                "pod-template-generation": "1",
            }
            for n in self.nodes:
                self.new_pod_from(
                    obj, obj["spec"]["template"], extra_labels=labels, node=n, running_since=since()
                )

    def new_pod_from(
        self,
        owner: dict[str, Any],
        template: dict[str, Any],
        *,
        name: str | None = None,
        extra_labels: dict[str, str] | None = None,
        node: str | None = None,
        running_since: float | None = None,
    ) -> dict[str, Any]:
        ref = self.workload_ref(owner)
        gen = None
        if name is None:
            gen = f"{owner['metadata']['name']}-"
            name = gen + self.suffix()
            while self.store.get("pods", owner["metadata"]["namespace"], name) is not None:
                name = gen + self.suffix()
        obj = objects.pod(
            owner, name, template, rfc3339(self.clock.now()), extra_labels, generate_name=gen
        )
        key = (obj["metadata"]["namespace"], name)
        pinned = node
        w = self.workloads.get(ref) or system.WORKLOADS.get(ref)
        profiles = {c.name: c.logs for c in w.containers} if w else {}
        behavior = self.behaviors.get(ref, Behavior("healthy"))
        self._owned.setdefault(owner["metadata"]["uid"], set()).add(key)
        if running_since is not None:
            obj["metadata"]["creationTimestamp"] = rfc3339(self.clock.at(running_since))
            node = node or self.pick_node_for(ref, None)
        self.kubelet.admit(obj, ref, behavior, profiles, running_since, node, pinned)
        return obj

    def node_load(self, sim: PodSim, delta: int) -> None:
        """Count bound, live pods per node (and per workload) for the scheduler's spreading."""
        if sim.node is None:
            return
        self._load[sim.node] += delta
        self._load[(sim.workload, sim.node)] += delta

    def pick_node_for(self, workload: str, pinned: str | None) -> str | None:
        if pinned:
            return pinned if self.nodes[pinned].ready else None
        ready = [st for st in self.nodes.values() if st.ready and self._schedulable(st.spec.name)]
        if not ready:
            return None
        load = self._load
        best = min(
            ready, key=lambda st: (load[(workload, st.spec.name)], load[st.spec.name], st.index)
        )
        return best.spec.name

    def _schedulable(self, node: str) -> bool:
        obj = self.store.get("nodes", "", node)
        return not (obj or {}).get("spec", {}).get("unschedulable")

    def disown(self, owner_uid: str, key: tuple[str, str]) -> None:
        """A controller lets go of a pod (its labels left the selector)."""
        self._owned.get(owner_uid, set()).discard(key)

    def adopt(self, owner_uid: str, key: tuple[str, str]) -> None:
        self._owned.setdefault(owner_uid, set()).add(key)

    def pick_node(self, sim: PodSim) -> str | None:
        return self.pick_node_for(sim.workload, sim.pinned)

    def pod_removed(self, sim: PodSim) -> None:
        for keys in self._owned.values():
            keys.discard(sim.key)
        self.kick()

    # --- reconcile -------------------------------------------------------------------------

    def kick(self) -> None:
        if self._kick is None:
            self._kick = self.scheduler.after(0.0, self._reconcile)

    def _reconcile(self) -> None:
        self._kick = None
        for d in self.store.objects("deployments"):
            self.controllers.deployment(d)
        for rs in self.store.objects("replicasets"):
            self.controllers.replicaset(rs)
        for s in self.store.objects("statefulsets"):
            self.controllers.statefulset(s)
        for ds in self.store.objects("daemonsets"):
            self.controllers.daemonset(ds)
        self.endpoints.sync()
        self.disruption.sync()

    # --- operations: responder (through the API) -------------------------------------------

    def _trigger(self, kind: str, ref: str, info: dict[str, Any], namespace: str) -> None:
        # The scenario reacts to, and the drill records, what is done to its own namespace's
        # workloads; refs carry no namespace, so CoreDNS in kube-system stays out of it.
        if namespace != self.namespace:
            return
        for cb in self.on_trigger:
            try:
                cb(kind, ref, info)
            except Exception:
                log.exception("trigger hook failed")

    def delete_pod(self, namespace: str, name: str, grace: int | None) -> dict[str, Any] | None:
        sim = self.kubelet.pods.get((namespace, name))
        obj = self.store.get("pods", namespace, name)
        if sim is None or obj is None:
            return None
        if grace is None:
            grace = int(obj["spec"].get("terminationGracePeriodSeconds", 30))
        self.kubelet.delete(sim, grace)
        self._trigger("delete", sim.workload, {"pod": name, "grace": grace}, namespace)
        after = self.store.get("pods", namespace, name)
        return copy.deepcopy(after if after is not None else obj)

    def update_workload(self, resource: str, old: dict[str, Any], new: dict[str, Any]) -> None:
        """Store a patched Deployment/StatefulSet/DaemonSet and tell the scenario what changed."""
        live = self.store.get(resource, old["metadata"]["namespace"], old["metadata"]["name"])
        assert live is not None
        if new["spec"] != old["spec"]:
            new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
            if resource == "daemonsets" and new["spec"]["template"] != old["spec"]["template"]:
                ann = new["metadata"].setdefault("annotations", {})
                ann["deprecated.daemonset.template.generation"] = str(new["metadata"]["generation"])
        live.clear()
        live.update(new)
        self.store.put(resource, live)
        ref = f"{new['kind'].lower()}/{new['metadata']['name']}"
        ns = new["metadata"]["namespace"]
        self._trigger("patch", ref, {}, ns)
        ot, nt = old["spec"].get("template") or {}, new["spec"].get("template") or {}
        oa = (ot.get("metadata") or {}).get("annotations") or {}
        na = (nt.get("metadata") or {}).get("annotations") or {}
        if oa.get(objects.RESTARTED_AT) != na.get(objects.RESTARTED_AT):
            self._trigger("restart", ref, {"restartedAt": na.get(objects.RESTARTED_AT)}, ns)
        old_images = {
            c["name"]: c.get("image") for c in (ot.get("spec") or {}).get("containers", [])
        }
        for c in (nt.get("spec") or {}).get("containers", []):
            if old_images.get(c["name"]) != c.get("image"):
                info = {"container": c["name"], "image": c.get("image")}
                self._trigger("image", ref, info, ns)
        if old["spec"].get("replicas") != new["spec"].get("replicas"):
            self._trigger("scale", ref, {"replicas": new["spec"].get("replicas")}, ns)
        self.kick()

    # --- operations: scenario --------------------------------------------------------------

    def rollout(
        self, ref: str, image: str | None, container: str | None, behavior: str | None
    ) -> None:
        if behavior:
            self.behaviors[ref] = self.scenario.behaviors[behavior]
        found = self.workload_obj(ref)
        if found is None or not image:
            return
        resource, obj = found
        new = copy.deepcopy(obj)
        containers = new["spec"]["template"]["spec"]["containers"]
        target = next((c for c in containers if c["name"] == container), containers[0])
        target["image"] = image
        old = copy.deepcopy(obj)
        new["metadata"]["generation"] = old["metadata"].get("generation", 1) + 1
        obj.clear()
        obj.update(new)
        self.store.put(resource, obj)
        self.kick()

    def set_behavior(self, ref: str, behavior: str, running: bool) -> None:
        b = self.scenario.behaviors[behavior]
        self.behaviors[ref] = b
        if running:
            for sim in list(self.kubelet.pods.values()):
                if sim.workload == ref and not sim.deleting:
                    self.kubelet.set_behavior(sim, b)

    def scale(self, ref: str, replicas: int) -> None:
        found = self.workload_obj(ref)
        if found is None or found[0] == "daemonsets":
            return
        resource, obj = found
        if obj["spec"].get("replicas") != replicas:
            obj["spec"]["replicas"] = replicas
            obj["metadata"]["generation"] = obj["metadata"].get("generation", 1) + 1
            self.store.put(resource, obj)
            self.kick()

    def set_node_ready(self, name: str, ready: bool) -> None:
        st = self.nodes[name]
        if st.ready == ready:
            return
        st.ready = ready
        obj = self.store.get("nodes", "", name)
        if obj is not None:
            now = rfc3339(self.clock.now())
            obj["status"]["conditions"] = objects.node_conditions(ready, now)
            self.node_taints(obj)
            self.store.put("nodes", obj)
            status = "NodeReady" if ready else "NodeNotReady"
            self.events.record(
                obj,
                "Normal",
                status,
                f"Node {name} status is now: {status}",
                "node-controller" if not ready else "kubelet",
            )
        self.kubelet.node_changed(name, ready)
        self.kick()

    def node_taints(self, obj: dict[str, Any]) -> None:
        """The node lifecycle controller's taints: unreachable while the node is lost,
        unschedulable while it is cordoned. Set on the object; the caller stores it."""
        now = rfc3339(self.clock.now())
        old = {(t["key"], t["effect"]): t for t in obj["spec"].get("taints") or []}
        want = []
        if not self.nodes[obj["metadata"]["name"]].ready:
            want += [("node.kubernetes.io/unreachable", e) for e in ("NoSchedule", "NoExecute")]
        if obj["spec"].get("unschedulable"):
            want.append(("node.kubernetes.io/unschedulable", "NoSchedule"))
        taints = [old.get(k) or {"effect": k[1], "key": k[0], "timeAdded": now} for k in want]
        if taints:
            obj["spec"]["taints"] = taints
        else:
            obj["spec"].pop("taints", None)

    def workload_event(self, ref: str, etype: str, reason: str, message: str) -> None:
        found = self.workload_obj(ref)
        if found is not None:
            self.events.record(found[1], etype, reason, message, "warroom-drill")
