"""Scale a Deployment or StatefulSet, as `kubectl scale --replicas=N` does: a merge patch of
the scale subresource, `{"spec":{"replicas":N}}`. The current count is read first, so the
timeline says from what to what, and the revert hint scales back to it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from warroom.actions.kube_call import MERGE, TIMEOUT, ActionResult, ApiGetter, Refused, Step, client
from warroom.sources.kube_api import WORKLOADS, read_json
from warroom.workloads import KIND_REFS

if TYPE_CHECKING:
    from kubernetes.aio.client import ApiClient

MAX_REPLICAS = 10_000  # a typo guard, not a policy: kubectl takes any int32


def command(kind: str, name: str, namespace: str, replicas: int, context: str = "") -> str:
    ctx = f" --context {context}" if context else ""
    return f"kubectl scale {KIND_REFS[kind]}/{name} --replicas={replicas} -n {namespace}{ctx}"


async def scale(
    api: ApiClient | ApiGetter, namespace: str, kind: str, name: str, replicas: int
) -> ActionResult:
    """Set the desired replicas of the workload. Refused for a DaemonSet (one pod per node, no
    replicas) and for a count below 0."""
    resource = WORKLOADS.get(kind, ("", ""))[0] or kind.lower()
    step = Step(namespace, "get", f"{resource}/scale", name)
    try:
        if kind not in ("Deployment", "StatefulSet"):
            raise Refused(f"refused: a {kind} has no replicas to scale (one pod per node)")
        if not 0 <= replicas <= MAX_REPLICAS:
            raise Refused(f"refused: {replicas} replicas (0 to {MAX_REPLICAS})")
        from kubernetes.aio import client as k8s

        apps = k8s.AppsV1Api(await client(api))
        method = WORKLOADS[kind][1]
        read = getattr(apps, f"read_namespaced_{method}_scale_without_preload_content")
        before = await read_json(await read(name, namespace, _request_timeout=TIMEOUT))
        old = int((before.get("spec") or {}).get("replicas") or 0)
        step.at("patch", f"{resource}/scale", name)
        patch = getattr(apps, f"patch_namespaced_{method}_scale_without_preload_content")
        body = {"spec": {"replicas": replicas}}
        await read_json(
            await patch(name, namespace, body, _content_type=MERGE, _request_timeout=TIMEOUT)
        )
        step.at("get", resource, name)
        get = getattr(apps, f"read_namespaced_{method}_without_preload_content")
        obj = await read_json(await get(name, namespace, _request_timeout=TIMEOUT))
    except Exception as e:
        return step.failed(e)
    step.at("patch", f"{resource}/scale", name)
    ref = f"{KIND_REFS[kind]}/{name}"
    generation = int((obj.get("metadata") or {}).get("generation") or 0)
    text = f"scaled {ref} in {namespace} from {old} to {replicas} replicas"
    if old == replicas:
        text = f"scale of {ref} in {namespace} to {replicas} replicas: it already had {old}"
    return step.result(
        True,
        text,
        command(kind, name, namespace, old),
        seen={"kind": kind, "replicas": replicas, "generation": generation},
        record={"replicas": replicas, "from_replicas": old},
    )
