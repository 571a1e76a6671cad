"""The one Kubernetes API layer under every adapter and action: errors, body and JSON reads of
`*_without_preload_content` calls, and the walk from a pod to the workload that owns it.

Those methods return the raw aiohttp response and do not check its status: `read_body` does,
and a non-2xx answer becomes a KubeError carrying the API server's own Status message.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from warroom.pods import controller_of

if TYPE_CHECKING:
    from kubernetes.aio.client import ApiClient

REQUEST_TIMEOUT = 60.0


class KubeError(Exception):
    """A non-2xx answer of the API server, with the message of its Status body."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message

    def __str__(self) -> str:
        return f"{self.status} {self.reason}: {self.message}" if self.reason else self.message


def error_text(e: BaseException) -> str:
    """One line for a failed call: the API's message, or the connection problem."""
    if isinstance(e, KubeError):
        return str(e)
    if isinstance(e, TimeoutError):
        return "timed out"
    return str(e) or type(e).__name__


async def read_body(resp: Any) -> bytes:
    """Body of an aiohttp response from a `*_without_preload_content` call; KubeError if not
    2xx (those methods do not check the status)."""
    try:
        data = await resp.read()
    finally:
        resp.release()
    if not 200 <= resp.status < 300:
        raise status_error(resp.status, resp.reason or "", data)
    return bytes(data)


async def read_json(resp: Any) -> Any:
    data = await read_body(resp)
    return json.loads(data) if data else {}


def status_error(status: int, reason: str, data: bytes) -> KubeError:
    try:
        body = json.loads(data)
    except ValueError:
        return KubeError(status, reason, data.decode("utf-8", "replace").strip()[:500])
    if not isinstance(body, dict):
        return KubeError(status, reason, str(body)[:500])
    return KubeError(
        int(body.get("code") or status), str(body.get("reason") or reason), str(body.get("message"))
    )


async def get_list(
    api: ApiClient,
    group: str,
    plural: str,
    namespace: str | None,
    timeout: float,
    **query: Any,
) -> Any:
    """GET a collection (`group` "/api/v1" or "/apis/apps/v1", `plural` "pods") of one
    namespace (None: all, or a kind without namespaces), a list or with watch=True a watch;
    the raw aiohttp response, status unchecked, as the generated `*_without_preload_content`
    methods give it. Built on ApiClient directly: core_v1_api.py is ~45,000 generated lines, and
    importing it took 4.4 s of the UI thread before a 100k-pod list could start (cProfile,
    load 6). `query` holds the API's own parameter names (resourceVersion, watch, ...)."""
    where = "" if namespace is None else "/namespaces/{namespace}"
    path = f"{group}{where}/{plural}"
    request = await api.param_serialize(
        method="GET",
        resource_path=path,
        path_params=None if namespace is None else {"namespace": namespace},
        query_params=[(k, v) for k, v in query.items() if v is not None],
        header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"],
        collection_formats={},
    )
    answer = await api.call_api(*request, _preload_content=False, _request_timeout=timeout)
    return answer.response


# Workloads a rollout acts on: kind -> (resource, AppsV1Api method suffix)
WORKLOADS = {
    "Deployment": ("deployments", "deployment"),
    "StatefulSet": ("statefulsets", "stateful_set"),
    "DaemonSet": ("daemonsets", "daemon_set"),
}


class NoWorkload(Exception):
    """The pod has no Deployment, StatefulSet or DaemonSet above it; the message says why."""


async def read_replica_set(api: ApiClient, namespace: str, name: str) -> dict[str, Any]:
    from kubernetes.aio import client

    apps = client.AppsV1Api(api)
    return await read_json(
        await apps.read_namespaced_replica_set_without_preload_content(
            name, namespace, _request_timeout=REQUEST_TIMEOUT
        )
    )


async def owning_workload(
    api: ApiClient, namespace: str, pod: str, owner: tuple[str, str] | None
) -> tuple[str, str]:
    """The workload a rollout of this pod means: Pod -> ReplicaSet -> Deployment, or the pod's
    StatefulSet / DaemonSet. NoWorkload with the reason otherwise (a bare pod, a Job's pod, a
    ReplicaSet without a Deployment). `owner` is the pod's controller (controller_of)."""
    only = "rollout restart applies to Deployments, StatefulSets and DaemonSets"
    if not owner or not owner[0]:
        raise NoWorkload(
            f"refused: pod {pod} has no owner (a bare pod); {only}. Deleting it would "
            "not bring it back"
        )
    kind, name = owner
    if kind == "ReplicaSet":
        rs = await read_replica_set(api, namespace, name)
        up = controller_of(rs)
        if not up or up[0] != "Deployment":
            raise NoWorkload(
                f"refused: pod {pod} belongs to ReplicaSet {name}, which no Deployment "
                f"manages; {only}"
            )
        return up
    if kind in WORKLOADS:
        return kind, name
    raise NoWorkload(f"refused: pod {pod} is owned by {kind} {name}; {only}")
