"""Builders for the Kubernetes objects of a scenario, shaped like a real cluster's."""

from __future__ import annotations

import copy
import json
import math
import random
import uuid
from typing import Any

from warroom.drill.scenario_types import ContainerSpec, NodeSpec, Workload

# kube's rand.SafeEncodeString alphabet: no vowels, no look-alike digits.
SAFE = "bcdfghjklmnpqrstvwxz2456789"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION = "deployment.kubernetes.io/revision"


def clone(obj: Any) -> Any:
    """Deep copy of plain JSON data; several times faster than copy.deepcopy."""
    return json.loads(json.dumps(obj))


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def template_hash(template: dict[str, Any]) -> str:
    """Like pod-template-hash: FNV-32a of the template, safe-encoded."""
    t = copy.deepcopy(template)
    (t.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    digest = fnv32a(json.dumps(t, sort_keys=True).encode())
    return "".join(SAFE[ord(c) % len(SAFE)] for c in str(digest))


def strip_hash(template: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(template)
    (t.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
    return t


def container(c: ContainerSpec) -> dict[str, Any]:
    out: dict[str, Any] = {"name": c.name, "image": c.image}
    if c.port:
        out["ports"] = [{"containerPort": c.port, "protocol": "TCP"}]
    out["resources"] = {
        "limits": {"memory": c.memory},
        "requests": {"cpu": c.cpu, "memory": c.memory},
    }
    if c.port:
        out["readinessProbe"] = {
            "httpGet": {"path": "/healthz", "port": c.port, "scheme": "HTTP"},
            "periodSeconds": 5,
            "timeoutSeconds": 1,
            "successThreshold": 1,
            "failureThreshold": 3,
        }
    out.update(
        {
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent",
        }
    )
    return out


def pod_template(w: Workload) -> dict[str, Any]:
    return {
        "metadata": {"creationTimestamp": None, "labels": dict(w.labels)},
        "spec": {
            "containers": [container(c) for c in w.containers],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "serviceAccount": "default",
            "securityContext": {},
            "schedulerName": "default-scheduler",
        },
    }


def namespace(name: str, created: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "creationTimestamp": created,
            "labels": {"kubernetes.io/metadata.name": name},
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def node(
    n: NodeSpec, index: int, created: str, ready_since: str, ids: random.Random
) -> dict[str, Any]:
    """A node as its kubelet reports it; `ids` draws its machine, system and boot ids."""
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": n.name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": "m6i.xlarge",
    }
    if n.zone:
        labels["topology.kubernetes.io/zone"] = n.zone
    return {
        "metadata": {"name": n.name, "creationTimestamp": created, "labels": labels},
        "spec": {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]},
        "status": {
            "addresses": [
                {"address": n.ip, "type": "InternalIP"},
                {"address": n.name, "type": "Hostname"},
            ],
            "allocatable": {"cpu": "3920m", "memory": "14967004Ki", "pods": "58"},
            "capacity": {"cpu": "4", "memory": "16092892Ki", "pods": "58"},
            "conditions": node_conditions(True, ready_since),
            "nodeInfo": {
                "machineID": f"{ids.getrandbits(128):032x}",
                # an EC2 instance's SMBIOS UUID starts with "ec2"
                "systemUUID": "ec2" + str(uuid.UUID(int=ids.getrandbits(128), version=4))[3:],
                "bootID": str(uuid.UUID(int=ids.getrandbits(128), version=4)),
                "architecture": "amd64",
                "containerRuntimeVersion": "containerd://1.7.11",
                "kernelVersion": "6.1.72-96.166.amzn2023.x86_64",
                "kubeProxyVersion": "v1.29.3-eks-ae9a62a",
                "kubeletVersion": "v1.29.3-eks-ae9a62a",
                "operatingSystem": "linux",
                "osImage": "Amazon Linux 2023.4.20240401",
            },
        },
    }


def node_conditions(ready: bool, since: str) -> list[dict[str, Any]]:
    def cond(t: str, status: str, reason: str, msg: str) -> dict[str, Any]:
        return {
            "type": t,
            "status": status,
            "lastHeartbeatTime": since,
            "lastTransitionTime": since,
            "reason": reason,
            "message": msg,
        }

    if not ready:
        lost = "Kubelet stopped posting node status."
        return [
            cond(t, "Unknown", "NodeStatusUnknown", lost)
            for t in ("MemoryPressure", "DiskPressure", "PIDPressure", "Ready")
        ]
    return [
        cond(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        cond("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        cond(
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
        cond("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
    ]


def percent(value: Any, total: int, round_up: bool) -> int:
    """intstr percentages as the deployment controller rounds them."""
    if isinstance(value, int):
        return value
    s = str(value)
    if s.endswith("%"):
        x = total * float(s[:-1]) / 100
        return math.ceil(x) if round_up else math.floor(x)
    return int(s)


def workload(w: Workload, namespace_: str, created: str, revision: int) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "name": w.name,
        "namespace": namespace_,
        "creationTimestamp": created,
        "labels": dict(w.labels),
        "generation": 1,
    }
    selector = {"matchLabels": dict(w.labels)}
    tmpl = pod_template(w)
    if w.kind == "Deployment":
        meta["annotations"] = {REVISION: str(revision)}
        strategy: dict[str, Any] = {"type": w.strategy}
        if w.strategy == "RollingUpdate":
            strategy["rollingUpdate"] = {"maxSurge": "25%", "maxUnavailable": "25%"}
        spec = {
            "replicas": w.replicas,
            "selector": selector,
            "template": tmpl,
            "strategy": strategy,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
        }
        if w.paused:
            spec["paused"] = True
    elif w.kind == "StatefulSet":
        spec = {
            "replicas": w.replicas,
            "selector": selector,
            "serviceName": w.name,
            "template": tmpl,
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "revisionHistoryLimit": 10,
        }
    else:
        meta["annotations"] = {"deprecated.daemonset.template.generation": "1"}
        spec = {
            "selector": selector,
            "template": tmpl,
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0},
            },
            "revisionHistoryLimit": 10,
        }
    return {"metadata": meta, "spec": spec, "status": {}}


def replicaset(
    deploy: dict[str, Any], name: str, hash_: str, replicas: int, revision: int, created: str
) -> dict[str, Any]:
    tmpl = copy.deepcopy(deploy["spec"]["template"])
    tmpl.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = hash_
    labels = dict(tmpl["metadata"]["labels"])
    selector = copy.deepcopy(deploy["spec"]["selector"])
    selector.setdefault("matchLabels", {})["pod-template-hash"] = hash_
    desired = deploy["spec"].get("replicas", 1)
    surge = percent(
        ((deploy["spec"].get("strategy") or {}).get("rollingUpdate") or {}).get("maxSurge", 0),
        desired,
        True,
    )
    return {
        "metadata": {
            "name": name,
            "namespace": deploy["metadata"]["namespace"],
            "creationTimestamp": created,
            "labels": labels,
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": str(desired),
                "deployment.kubernetes.io/max-replicas": str(desired + surge),
                REVISION: str(revision),
            },
            "ownerReferences": [owner_ref(deploy)],
            "generation": 1,
        },
        "spec": {"replicas": replicas, "selector": selector, "template": tmpl},
        "status": {"replicas": 0, "observedGeneration": 1},
    }


def owner_ref(owner: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": owner.get("apiVersion", "apps/v1"),
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod(
    owner: dict[str, Any],
    name: str,
    template: dict[str, Any],
    created: str,
    extra_labels: dict[str, str] | None = None,
    generate_name: str | None = None,
) -> dict[str, Any]:
    tmpl = clone(template)
    meta = tmpl.get("metadata") or {}
    labels = {**(meta.get("labels") or {}), **(extra_labels or {})}
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": owner["metadata"]["namespace"],
        "creationTimestamp": created,
        "labels": labels,
        "ownerReferences": [owner_ref(owner)],
    }
    if generate_name:
        metadata["generateName"] = generate_name
    if meta.get("annotations"):
        metadata["annotations"] = dict(meta["annotations"])
    spec = tmpl["spec"]
    spec["enableServiceLinks"] = True
    spec["preemptionPolicy"] = "PreemptLowerPriority"
    spec["priority"] = 0
    spec["tolerations"] = [
        {
            "effect": "NoExecute",
            "key": f"node.kubernetes.io/{k}",
            "operator": "Exists",
            "tolerationSeconds": 300,
        }
        for k in ("not-ready", "unreachable")
    ]
    return {
        "metadata": metadata,
        "spec": spec,
        "status": {"phase": "Pending", "qosClass": "Burstable"},
    }
