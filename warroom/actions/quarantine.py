"""Quarantine a pod (security containment) and release it, in three recorded steps each.

Quarantine keeps the pod running for forensics while it can do no more harm:

1. label: `warroom.io/quarantine=<token>` on the pod, and an annotation naming the labels the
   next step takes off (so a release from any console knows what to put back);
2. isolate: a deny-all NetworkPolicy (Ingress and Egress, no rules) selecting that label;
3. detach: the labels its ReplicaSet's and Services' selectors match are taken off, so the
   ReplicaSet makes a replacement that takes the traffic and the pod leaves the endpoints.

Release puts the labels back (the ReplicaSet adopts the pod again and scales back to its
count), deletes the policy and takes the quarantine label off. Each step returns an
ActionResult with its revert; `verify_step` watches the objects for its outcome. Never raises
for cluster trouble; a 403 reads "not allowed: <verb> <resource> in ns/<namespace>".
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from warroom.actions.kube_call import ActionResult, Step
from warroom.actions.kube_call import client as _client
from warroom.actions.verify import POLL, Outcome, watch
from warroom.pods import pod_row
from warroom.sources.kube_api import KubeError, read_json

if TYPE_CHECKING:
    from warroom.actions.kube_call import ApiGetter

LABEL = "warroom.io/quarantine"
REMOVED = "warroom.io/quarantine-removed-labels"  # annotation: the labels detach took off
MERGE = "application/merge-patch+json"
TIMEOUT = 30.0
WAIT = 60.0  # a step shows within seconds; a replacement may take longer to be Ready
_LABEL_VALUE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?")
STEPS = ("label", "isolate", "detach")


def token(pod: str) -> str:
    """The quarantine label's value: the pod's name when it is a valid label value."""
    if _LABEL_VALUE.fullmatch(pod):
        return pod
    return hashlib.sha256(pod.encode()).hexdigest()[:16]


def policy_name(pod: str) -> str:
    name = f"warroom-quarantine-{pod}"
    return name if len(name) <= 253 else f"warroom-quarantine-{token(pod)}"


@dataclass(frozen=True)
class Plan:
    """What quarantining a pod does, read from the cluster first (the dialog shows it)."""

    namespace: str
    pod: str
    uid: str
    owner: str  # "ReplicaSet checkout-api-7d9f" or ""
    services: tuple[str, ...]  # the Services whose selectors match the pod now
    remove: dict[str, str]  # labels detach takes off
    quarantined: bool  # already carries the quarantine label: the key offers release

    @property
    def token(self) -> str:
        return token(self.pod)

    @property
    def policy(self) -> str:
        return policy_name(self.pod)

    def describe(self, step: str) -> str:
        if step == "label":
            return f"label pod {self.pod} {LABEL}={self.token}"
        if step == "isolate":
            return f"NetworkPolicy {self.policy}: deny all ingress and egress of that label"
        keys = ", ".join(sorted(self.remove)) or "none"
        what = " and ".join(x for x in (self.owner, ", ".join(self.services)) if x)
        return f"take off labels {keys}: out of {what or 'nothing (no owner, no Service)'}"

    def revert(self, step: str) -> str:
        ns, pod = self.namespace, self.pod
        if step == "label":
            return f"kubectl label pod {pod} -n {ns} {LABEL}-"
        if step == "isolate":
            return f"kubectl delete networkpolicy {self.policy} -n {ns}"
        labels = " ".join(f"{k}={v}" for k, v in sorted(self.remove.items()))
        return f"kubectl label pod {pod} -n {ns} {labels}" if labels else ""


def _selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    match = (selector or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


async def plan(api: Any, namespace: str, pod: str) -> Plan:
    """Read the pod, its owner and the Services that select it (KubeError on failure)."""
    from kubernetes.aio import client

    c = await _client(api)
    core = client.CoreV1Api(c)
    obj = await read_json(
        await core.read_namespaced_pod_without_preload_content(
            pod, namespace, _request_timeout=TIMEOUT
        )
    )
    meta = obj.get("metadata") or {}
    labels: dict[str, str] = dict(meta.get("labels") or {})
    remove: dict[str, str] = {}
    owner = ""
    ref = next((r for r in meta.get("ownerReferences") or [] if r.get("controller")), None)
    if ref is not None and ref.get("kind") == "ReplicaSet":
        rs = await read_json(
            await client.AppsV1Api(c).read_namespaced_replica_set_without_preload_content(
                ref["name"], namespace, _request_timeout=TIMEOUT
            )
        )
        keys = ((rs.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        remove.update({k: labels[k] for k in keys if k in labels})
        owner = f"ReplicaSet {ref['name']}"
    elif ref is not None:
        owner = f"{ref.get('kind')} {ref.get('name')} (stays its owner: only Services are left)"
    services = []
    listed = await read_json(
        await core.list_namespaced_service_without_preload_content(
            namespace, _request_timeout=TIMEOUT
        )
    )
    for svc in listed.get("items") or []:
        selector = (svc.get("spec") or {}).get("selector") or {}
        if selector and all(labels.get(k) == v for k, v in selector.items()):
            services.append(f"service/{svc['metadata']['name']}")
            if ref is None or ref.get("kind") == "ReplicaSet":
                remove.update({k: labels[k] for k in selector if k in labels})
    return Plan(
        namespace,
        pod,
        str(meta.get("uid") or ""),
        owner,
        tuple(services),
        remove,
        LABEL in labels,
    )


async def _patch_pod(api: Any, namespace: str, pod: str, body: dict[str, Any]) -> dict[str, Any]:
    from kubernetes.aio import client

    core = client.CoreV1Api(await _client(api))
    return await read_json(
        await core.patch_namespaced_pod_without_preload_content(
            pod, namespace, body, _content_type=MERGE, _request_timeout=TIMEOUT
        )
    )


async def run_step(api: ApiGetter | Any, p: Plan, step: str) -> ActionResult:
    """One step of the quarantine: "label", "isolate" or "detach"."""
    from kubernetes.aio import client

    ns = p.namespace
    s = Step(ns, "patch", "pods", p.pod)
    try:
        if step == "label":
            ann = {REMOVED: json.dumps(p.remove, sort_keys=True)}
            body = {"metadata": {"labels": {LABEL: p.token}, "annotations": ann}}
            await _patch_pod(api, ns, p.pod, body)
        elif step == "isolate":
            s.at("create", "networkpolicies", p.policy)
            net = client.NetworkingV1Api(await _client(api))
            await read_json(
                await net.create_namespaced_network_policy_without_preload_content(
                    ns, deny_all(p), _request_timeout=TIMEOUT
                )
            )
        else:
            await _patch_pod(api, ns, p.pod, {"metadata": {"labels": dict.fromkeys(p.remove)}})
    except KubeError as e:
        if not (step == "isolate" and e.status == 409):  # already there: the step is done
            return s.failed(e)
    except Exception as e:
        return s.failed(e)
    return s.result(True, f"quarantine {p.pod} in {ns}: {p.describe(step)}", p.revert(step))


def deny_all(p: Plan) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": p.policy,
            "namespace": p.namespace,
            "labels": {"app.kubernetes.io/managed-by": "warroom"},
            "annotations": {"warroom.io/quarantined-pod": p.pod},
        },
        "spec": {
            "podSelector": {"matchLabels": {LABEL: p.token}},
            "policyTypes": ["Ingress", "Egress"],
        },
    }


async def release(api: Any, namespace: str, pod: str) -> tuple[list[ActionResult], dict[str, str]]:
    """Put back the labels detach took off (read from the pod's annotation), delete the
    policy, take off the quarantine label: two recorded steps, "reattach" and "unisolate".
    Returns their results and the labels put back."""
    from kubernetes.aio import client

    s = Step(namespace, "get", "pods", pod)
    try:
        c = await _client(api)
        obj = await read_json(
            await client.CoreV1Api(c).read_namespaced_pod_without_preload_content(
                pod, namespace, _request_timeout=TIMEOUT
            )
        )
        ann = (obj.get("metadata") or {}).get("annotations") or {}
        removed = json.loads(ann.get(REMOVED) or "{}")
        s.at("patch", "pods", pod)
        labels: dict[str, Any] = {**removed, LABEL: None}
        await _patch_pod(
            api, namespace, pod, {"metadata": {"labels": labels, "annotations": {REMOVED: None}}}
        )
    except Exception as e:
        return [s.failed(e)], {}
    back = " ".join(f"{k}={v}" for k, v in sorted(removed.items())) or "none"
    out = [
        s.result(
            True,
            f"release {pod} in {namespace}: labels {back} put back, {LABEL} taken off",
            f"quarantine it again (Q on pod {pod})",
        )
    ]
    name = policy_name(pod)
    s2 = Step(namespace, "delete", "networkpolicies", name)
    try:
        net = client.NetworkingV1Api(c)
        await read_json(
            await net.delete_namespaced_network_policy_without_preload_content(
                name, namespace, _request_timeout=TIMEOUT
            )
        )
    except KubeError as e:
        if e.status != 404:
            return [*out, s2.failed(e)], removed
    except Exception as e:
        return [*out, s2.failed(e)], removed
    out.append(s2.result(True, f"release {pod} in {namespace}: NetworkPolicy {name} deleted", ""))
    return out, removed


# ----- watching ------------------------------------------------------------------------------


async def verify_step(
    api: Any, p: Plan, step: str, *, wait: float = WAIT, poll: float = POLL
) -> Outcome:
    """Watch the cluster until the step shows: the label on the pod; the policy in place and
    selecting the pod; the pod out of every EndpointSlice and of its ReplicaSet, still running.
    Steps of a release: "reattach" (labels back, quarantine label gone), "unisolate" (the
    policy gone)."""
    from kubernetes.aio import client

    c = await _client(api)
    core, net = client.CoreV1Api(c), client.NetworkingV1Api(c)
    disc = client.DiscoveryV1Api(c)

    async def read() -> dict[str, Any] | None:
        pod = await _or_none(
            core.read_namespaced_pod_without_preload_content(
                p.pod, p.namespace, _request_timeout=TIMEOUT
            )
        )
        policy = await _or_none(
            net.read_namespaced_network_policy_without_preload_content(
                p.policy, p.namespace, _request_timeout=TIMEOUT
            )
        )
        slices = []
        if step == "detach":
            listed = await read_json(
                await disc.list_namespaced_endpoint_slice_without_preload_content(
                    p.namespace, _request_timeout=TIMEOUT
                )
            )
            slices = listed.get("items") or []
        return {"pod": pod, "policy": policy, "slices": slices}

    def judge(seen: dict[str, Any] | None) -> Outcome | None:
        return _judge(p, step, seen) if seen else None

    def still(seen: dict[str, Any] | None) -> str:
        return _still(p, step, seen)

    return await watch(read, judge, wait=wait, poll=poll, still=still, otherwise="no_effect")


async def _or_none(call: Any) -> dict[str, Any] | None:
    """The object, or None when it is not there (404)."""
    try:
        return await read_json(await call)
    except KubeError as e:
        if e.status != 404:
            raise
        return None


def _labels(seen: dict[str, Any]) -> dict[str, str]:
    return dict(((seen["pod"] or {}).get("metadata") or {}).get("labels") or {})


def _in_slices(p: Plan, seen: dict[str, Any]) -> list[str]:
    out = []
    for sl in seen["slices"]:
        for ep in sl.get("endpoints") or []:
            ref = ep.get("targetRef") or {}
            if ref.get("uid") == p.uid or ref.get("name") == p.pod:
                out.append(sl["metadata"]["name"])
    return out


def _judge(p: Plan, step: str, seen: dict[str, Any]) -> Outcome | None:
    if seen["pod"] is None:  # released: its ReplicaSet adopted it and scaled down over it
        if step == "reattach":
            return Outcome("took_effect", f"pod {p.pod} was taken back by its owner and removed", 0)
        if step != "unisolate":
            return Outcome("no_effect", f"pod {p.pod} is gone", 0)
    labels = _labels(seen)
    status = pod_row(seen["pod"]).status if seen["pod"] else "gone"
    if step == "label" and labels.get(LABEL) == p.token:
        return Outcome("took_effect", f"pod {p.pod} carries {LABEL}={p.token}", 0)
    if step == "isolate":
        pol = seen["policy"]
        if pol and _selects((pol.get("spec") or {}).get("podSelector"), labels):
            return Outcome(
                "took_effect",
                f"NetworkPolicy {p.policy} selects pod {p.pod}: no traffic in or out",
                0,
            )
    if step == "detach":
        owned = any(
            r.get("controller") for r in seen["pod"]["metadata"].get("ownerReferences") or []
        )
        gone_from = not _in_slices(p, seen) and (not owned or not p.owner.startswith("ReplicaSet"))
        if gone_from and not any(labels.get(k) == v for k, v in p.remove.items()):
            where = " and ".join(x for x in (p.owner, ", ".join(p.services)) if x) or "nothing"
            return Outcome(
                "took_effect",
                f"pod {p.pod} is out of {where} and out of every endpoint; still {status} for "
                "forensics",
                0,
            )
    back = all(labels.get(k) == v for k, v in p.remove.items())
    if step == "reattach" and LABEL not in labels and back:
        return Outcome("took_effect", f"pod {p.pod} has its labels back ({status})", 0)
    if step == "unisolate" and seen["policy"] is None:
        return Outcome("took_effect", f"NetworkPolicy {p.policy} is gone", 0)
    return None


def _still(p: Plan, step: str, seen: dict[str, Any] | None) -> str:
    if not seen:
        return f"pod {p.pod} could not be read"
    if step == "isolate":
        return f"NetworkPolicy {p.policy} " + (
            "does not select the pod" if seen["policy"] else "is missing"
        )
    if step == "detach":
        where = ", ".join(_in_slices(p, seen))
        return f"pod {p.pod} is still in {where or 'its ReplicaSet'}"
    if step == "unisolate":
        return f"NetworkPolicy {p.policy} is still there"
    return f"pod {p.pod} labels: " + ", ".join(f"{k}={v}" for k, v in sorted(_labels(seen).items()))
