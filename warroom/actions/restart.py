"""Restart a pod's owner (kubectl rollout restart) or delete a pod, as the API allows.

Never raises for cluster trouble: every outcome is an ActionResult the timeline can record. A
403 reads "not allowed: <verb> <resource> in ns/<namespace>" for the call that was refused.

The owner is found like kubectl would be pointed at it: Pod -> ReplicaSet -> Deployment,
or the pod's StatefulSet / DaemonSet. A bare pod, a Job's pod or a ReplicaSet without a
Deployment is refused with the reason. A paused Deployment is refused with kubectl's words.
The restart is kubectl's patch: spec.template.metadata.annotations[restartedAt] = now
(RFC 3339), as a strategic merge patch.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from warroom.actions.kube_call import (
    STRATEGIC,
    TIMEOUT,
    ActionResult,
    ApiGetter,
    Refused,
    Step,
    client,
)
from warroom.pods import PodRow, controller_of
from warroom.sources.kube_api import WORKLOADS, owning_workload, read_json

if TYPE_CHECKING:
    from kubernetes.aio.client import ApiClient

__all__ = ["RESTARTED_AT", "ActionResult", "delete_pod", "parse_target", "rollout_restart"]
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
ALIASES = {
    "deployment": "Deployment",
    "deployments": "Deployment",
    "deploy": "Deployment",
    "statefulset": "StatefulSet",
    "statefulsets": "StatefulSet",
    "sts": "StatefulSet",
    "daemonset": "DaemonSet",
    "daemonsets": "DaemonSet",
    "ds": "DaemonSet",
}
# A pod row, "deployment/name", or ("Deployment", "name").
RestartTarget = PodRow | str | tuple[str, str]


def parse_target(target: RestartTarget) -> tuple[str, str]:
    """("Deployment", "x") from "deployment/x", "deploy/x" or a (kind, name) pair."""
    if isinstance(target, tuple):
        kind, name = target
    else:
        kind, _, name = str(target).partition("/")
    kind = ALIASES.get(kind.lower(), kind)
    if kind not in WORKLOADS or not name:
        raise Refused(
            f"refused: {target!r} is not a Deployment, StatefulSet or DaemonSet "
            "(rollout restart supports only those)"
        )
    return kind, name


async def rollout_restart(
    api: ApiClient | ApiGetter,
    namespace: str,
    target: RestartTarget,
    *,
    now: datetime | None = None,
) -> ActionResult:
    """`kubectl rollout restart` of the target (a pod row means its owner)."""
    first = target.name if isinstance(target, PodRow) else str(target)
    step = Step(namespace, "patch", "deployments", first)
    try:
        from kubernetes.aio import client as k8s

        if isinstance(target, PodRow):
            c = await client(api)
            if target.owner_kind == "ReplicaSet":
                step.at("get", "replicasets", target.owner_name)
            owner = (target.owner_kind, target.owner_name) if target.owner_kind else None
            kind, name = await owning_workload(c, namespace, target.name, owner)
        else:
            kind, name = parse_target(target)
            step.at("patch", WORKLOADS[kind][0], name)
            c = await client(api)
        resource, method = WORKLOADS[kind]
        apps = k8s.AppsV1Api(c)
        step.at("get", resource, name)
        read = getattr(apps, f"read_namespaced_{method}_without_preload_content")
        obj = await read_json(await read(name, namespace, _request_timeout=TIMEOUT))
        step.at("patch", resource, name)
        if kind == "Deployment" and (obj.get("spec") or {}).get("paused"):
            # kubectl 1.32's words (polymorphichelpers objectrestarter + rollout restart)
            raise Refused(
                f'{resource}.apps "{name}" can\'t restart paused deployment '
                "(run rollout resume first)"
            )
        stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
        patch = getattr(apps, f"patch_namespaced_{method}_without_preload_content")
        patched = await read_json(
            await patch(name, namespace, body, _content_type=STRATEGIC, _request_timeout=TIMEOUT)
        )
    except Exception as e:
        return step.failed(e)
    ref = f"{kind.lower()}/{name}"
    generation = int((patched.get("metadata") or {}).get("generation") or 0)
    return step.result(
        True,
        f"rollout restart {ref} in {namespace} (restartedAt {stamp})",
        f"kubectl rollout undo {ref} -n {namespace}",
        seen={"kind": kind, "generation": generation},
    )


async def delete_pod(
    api: ApiClient | ApiGetter,
    namespace: str,
    name: str,
    *,
    uid: str | None = None,
    force: bool = False,
) -> ActionResult:
    """Delete one pod (default grace period). With `uid`, only that very pod: a replacement
    of the same name (StatefulSets) is left alone (409 instead). `force`: grace period 0, as
    `kubectl delete pod --grace-period=0 --force`: the API forgets the pod at once, whether or
    not its containers stopped (the only way out for a pod on a node that stopped answering)."""
    step = Step(namespace, "get", "pods", name)
    try:
        from kubernetes.aio import client as k8s

        core = k8s.CoreV1Api(await client(api))
        pod = await read_json(
            await core.read_namespaced_pod_without_preload_content(
                name, namespace, _request_timeout=TIMEOUT
            )
        )
        kind, owner = controller_of(pod) or ("", "")
        step.at("delete", "pods", name)
        opts: dict[str, Any] = {}
        if uid:
            opts["preconditions"] = k8s.V1Preconditions(uid=uid)
        if force:
            opts.update(grace_period_seconds=0, propagation_policy="Background")
        kw: dict[str, Any] = {"body": k8s.V1DeleteOptions(**opts)} if opts else {}
        await read_json(
            await core.delete_namespaced_pod_without_preload_content(
                name, namespace, _request_timeout=TIMEOUT, **kw
            )
        )
    except Exception as e:
        return step.failed(e)
    if kind == "StatefulSet":
        revert = f"the StatefulSet {owner} recreates it under the same name"
    elif kind:
        revert = f"the owner recreates it ({kind} {owner})"
    else:
        revert = "bare pod: recreate from the spec captured in the timeline"
    meta = pod.get("metadata") or {}
    seen = {
        "uid": str(meta.get("uid") or ""),
        "deleting": bool(meta.get("deletionTimestamp")),  # already terminating before we asked
        "node": str((pod.get("spec") or {}).get("nodeName") or ""),
        "force": force,
    }
    how = "force delete (grace period 0)" if force else "delete"
    record = {"grace": 0} if force else {}
    # "requested": whether it took effect is for verify.py to see, not for the API's 200 to say
    return step.result(
        True, f"{how} of pod {name} in {namespace} requested", revert, seen=seen, record=record
    )
