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

import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from warroom.pods import PodRow, controller_of
from warroom.sources.kube_api import (
    WORKLOADS,
    KubeError,
    NoWorkload,
    error_text,
    owning_workload,
    read_json,
)

if TYPE_CHECKING:
    from kubernetes.aio.client import ApiClient

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
STRATEGIC = "application/strategic-merge-patch+json"
TIMEOUT = 30.0
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
ApiGetter = Callable[[], Awaitable["ApiClient"]]
# A pod row, "deployment/name", or ("Deployment", "name").
RestartTarget = PodRow | str | tuple[str, str]


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    verb: str  # the API verb of the last call: patch | delete | get
    resource: str  # deployments | statefulsets | daemonsets | pods | replicasets
    namespace: str
    name: str
    text: str  # one line for the timeline
    duration_s: float
    revert_hint: str = ""
    forbidden: bool = False
    # What the object was right after the call, for verifying its effect: the pod's uid and
    # whether it was already being deleted; the workload's kind and new generation.
    seen: dict[str, Any] = field(default_factory=dict)


class _Refused(Exception):
    pass


class _Step:
    """The call in flight, so a failure names the verb and resource that failed."""

    def __init__(self, namespace: str, verb: str, resource: str, name: str) -> None:
        self.namespace, self.verb, self.resource, self.name = namespace, verb, resource, name
        self.t0 = time.monotonic()

    def at(self, verb: str, resource: str, name: str) -> None:
        self.verb, self.resource, self.name = verb, resource, name

    def result(
        self,
        ok: bool,
        text: str,
        revert: str = "",
        forbidden: bool = False,
        seen: dict[str, Any] | None = None,
    ) -> ActionResult:
        return ActionResult(
            ok,
            self.verb,
            self.resource,
            self.namespace,
            self.name,
            text,
            round(time.monotonic() - self.t0, 3),
            revert,
            forbidden,
            seen or {},
        )

    def failed(self, e: Exception) -> ActionResult:
        if isinstance(e, _Refused | NoWorkload):
            return self.result(False, str(e))
        if isinstance(e, KubeError) and e.status == 403:
            text = f"not allowed: {self.verb} {self.resource} in ns/{self.namespace}"
            return self.result(False, text, forbidden=True)
        if isinstance(e, KubeError) and e.status == 404:
            return self.result(False, f"not found: {e.message}")
        return self.result(False, f"failed: {self.verb} {self.resource}: {error_text(e)}")


async def _client(api: ApiClient | ApiGetter) -> ApiClient:
    got = api() if callable(api) else api
    return await got if inspect.isawaitable(got) else got


def parse_target(target: RestartTarget) -> tuple[str, str]:
    """("Deployment", "x") from "deployment/x", "deploy/x" or a (kind, name) pair."""
    if isinstance(target, tuple):
        kind, name = target
    else:
        kind, _, name = str(target).partition("/")
    kind = ALIASES.get(kind.lower(), kind)
    if kind not in WORKLOADS or not name:
        raise _Refused(
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
    step = _Step(namespace, "patch", "deployments", first)
    try:
        from kubernetes.aio import client

        if isinstance(target, PodRow):
            c = await _client(api)
            if target.owner_kind == "ReplicaSet":
                step.at("get", "replicasets", target.owner_name)
            owner = (target.owner_kind, target.owner_name) if target.owner_kind else None
            kind, name = await owning_workload(c, namespace, target.name, owner)
        else:
            kind, name = parse_target(target)
            step.at("patch", WORKLOADS[kind][0], name)
            c = await _client(api)
        resource, method = WORKLOADS[kind]
        apps = client.AppsV1Api(c)
        step.at("get", resource, name)
        read = getattr(apps, f"read_namespaced_{method}_without_preload_content")
        obj = await read_json(await read(name, namespace, _request_timeout=TIMEOUT))
        step.at("patch", resource, name)
        if kind == "Deployment" and (obj.get("spec") or {}).get("paused"):
            # kubectl 1.32's words (polymorphichelpers objectrestarter + rollout restart)
            raise _Refused(
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
    api: ApiClient | ApiGetter, namespace: str, name: str, *, uid: str | None = None
) -> ActionResult:
    """Delete one pod (default grace period). With `uid`, only that very pod: a replacement
    of the same name (StatefulSets) is left alone (409 instead)."""
    step = _Step(namespace, "get", "pods", name)
    try:
        from kubernetes.aio import client

        core = client.CoreV1Api(await _client(api))
        pod = await read_json(
            await core.read_namespaced_pod_without_preload_content(
                name, namespace, _request_timeout=TIMEOUT
            )
        )
        kind, owner = controller_of(pod) or ("", "")
        step.at("delete", "pods", name)
        kw: dict[str, Any] = {}
        if uid:
            kw["body"] = client.V1DeleteOptions(preconditions=client.V1Preconditions(uid=uid))
        await read_json(
            await core.delete_namespaced_pod_without_preload_content(
                name, namespace, _request_timeout=TIMEOUT, **kw
            )
        )
    except Exception as e:
        return step.failed(e)
    if kind:
        revert = f"the owner recreates it ({kind} {owner})"
    else:
        revert = "bare pod: recreate from the spec captured in the timeline"
    meta = pod.get("metadata") or {}
    seen = {
        "uid": str(meta.get("uid") or ""),
        "deleting": bool(meta.get("deletionTimestamp")),  # already terminating before we asked
        "node": str((pod.get("spec") or {}).get("nodeName") or ""),
    }
    # "requested": whether it took effect is for verify.py to see, not for the API's 200 to say
    return step.result(True, f"delete of pod {name} in {namespace} requested", revert, seen=seen)
