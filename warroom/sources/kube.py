"""The cluster through `kubernetes.aio`: list + watch of pods (and, for the other views,
workloads and nodes: kube_watch.py runs them all), logs, describe; the mutations live in
warroom/actions/.

Configured like kubectl: --kubeconfig, else $KUBECONFIG (a path list, first file wins per
name), else ~/.kube/config, else the in-cluster service account. The kubeconfig is read here
with PyYAML so the context, server and namespace are known at once; `kubernetes.aio` (~0.4 s
to import) is imported on first use, after the app's first frame.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from warroom.nodes import node_info, pod_load
from warroom.pods import (
    PodDetails,
    PodRow,
    PodsSnapshot,
    WatchSnapshot,
    merge_deltas,
    pod_details,
    pod_row,
)
from warroom.sources.kube_api import REQUEST_TIMEOUT, KubeError, read_json, status_error
from warroom.sources.kube_stream import Backoff, Stream, WatchStats
from warroom.sources.kube_watch import ListWatch, Resource
from warroom.sources.kubeconfig import KubeConfigError, KubeTarget, resolve_target
from warroom.workloads import workload_row

if TYPE_CHECKING:
    from kubernetes.aio.client import ApiClient, Configuration

__all__ = [
    "ALL",
    "Backoff",
    "KubeConfigError",
    "KubeError",
    "KubeSource",
    "KubeTarget",
    "PodDetails",
    "PodRow",
    "PodsSnapshot",
    "WatchStats",
    "resolve_target",
]

log = logging.getLogger(__name__)
ALL = "*"
DEFAULT_CONTAINER = "kubectl.kubernetes.io/default-container"

PODS = Resource("pods", "/api/v1", pod_row)
WORKLOADS = tuple(
    Resource(plural, "/apis/apps/v1", lambda o, k=kind: workload_row(o, k))
    for kind, plural in (
        ("Deployment", "deployments"),
        ("StatefulSet", "statefulsets"),
        ("DaemonSet", "daemonsets"),
    )
)
NODES = Resource("nodes", "/api/v1", node_info, namespaced=False)
POD_LOADS = Resource("pods", "/api/v1", pod_load)


# --- the source --------------------------------------------------------------------------------


class KubeSource:
    """One cluster context and its namespaces. Use it from one event loop (the app's): its
    aiohttp sessions belong to the loop that first used them."""

    def __init__(
        self,
        target: KubeTarget,
        namespaces: list[str] | None = None,
        *,
        watch_timeout: int = 300,
        idle_timeout: float = 150.0,
    ) -> None:
        self.target = target
        ns = [n for n in (namespaces or []) if n]
        self._namespaces = [ALL] if ALL in ns else (list(dict.fromkeys(ns)) or [target.namespace])
        self.watch_timeout = watch_timeout  # server-side timeoutSeconds, jittered down to 80%
        self.idle_timeout = idle_timeout  # no line (bookmarks come ~1/min): re-watch
        self.stats = WatchStats()
        self._cfg: Configuration | None = None
        self._api: ApiClient | None = None
        self._lock: asyncio.Lock | None = None

    @classmethod
    def from_kubeconfig(
        cls,
        kubeconfig: str | None = None,
        context: str | None = None,
        namespaces: list[str] | None = None,
        **kwargs: Any,
    ) -> KubeSource:
        """Empty namespaces = the context's namespace; ["*"] = all namespaces."""
        return cls(resolve_target(kubeconfig, context), namespaces, **kwargs)

    @property
    def context_name(self) -> str:
        return self.target.context

    @property
    def cluster_server(self) -> str:
        return self.target.server

    @property
    def namespaces(self) -> list[str]:
        return list(self._namespaces)

    @property
    def all_namespaces(self) -> bool:
        return self._namespaces == [ALL]

    # --- clients -------------------------------------------------------------------------------

    async def _config(self) -> Configuration:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._cfg is None:
                # ~0.35 s of imports: in a thread, so the UI's loop keeps answering keys
                await asyncio.to_thread(importlib.import_module, "kubernetes.aio.config")
                from kubernetes.aio import client, config

                cfg = client.Configuration()
                if self.target.in_cluster:
                    config.load_incluster_config(client_configuration=cfg)
                else:
                    await config.load_kube_config(
                        config_file=self.target.config_file,
                        context=self.target.context,
                        client_configuration=cfg,
                        persist_config=False,  # never rewrite the user's kubeconfig
                    )
                self._cfg = cfg
            return self._cfg

    async def new_client(self) -> ApiClient:
        from kubernetes.aio import client

        return client.ApiClient(configuration=await self._config())

    async def api(self) -> ApiClient:
        """The shared client of one-off calls (logs, describe, actions); closed by aclose()."""
        if self._api is None:
            api = await self.new_client()
            if self._api is None:
                self._api = api
            else:  # another caller won the race
                await api.close()
        return self._api

    async def aclose(self) -> None:
        api, self._api = self._api, None
        if api is not None:
            await api.close()

    async def __aenter__(self) -> KubeSource:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- list + watch --------------------------------------------------------------------------

    def _streams(
        self, resources: Sequence[Resource] = (PODS,), namespaces: list[str] | None = None
    ) -> list[Stream]:
        """A stream per resource and namespace; cluster-scoped ones (nodes) once."""
        ns = self._namespaces if namespaces is None else namespaces
        where: list[str | None] = [None] if ALL in ns else list(ns)
        return [
            Stream(n if r.namespaced else None, r)
            for r in resources
            for n in (where if r.namespaced else [None])
        ]

    def _list_watch(self, streams: list[Stream]) -> ListWatch:
        return ListWatch(
            streams, self.stats, watch_timeout=self.watch_timeout, idle_timeout=self.idle_timeout
        )

    async def watch(
        self,
        resources: Sequence[Resource],
        on_snapshot: Callable[[WatchSnapshot[Any]], None],
        *,
        namespaces: list[str] | None = None,
        interval: float = 0.25,
    ) -> None:
        """List, then watch, forever, these resources in our namespaces (or `namespaces`,
        ["*"] for all): see ListWatch.run. Cancel the task to stop; its ApiClient is closed."""
        lw = self._list_watch(self._streams(resources, namespaces))
        await lw.run(self.new_client, on_snapshot, interval)

    async def watch_pods(
        self, on_snapshot: Callable[[PodsSnapshot], None], *, interval: float = 0.25
    ) -> None:
        """The pods of our namespaces: list, then watch, forever (see `watch`)."""
        await self.watch([PODS], on_snapshot, interval=interval)

    async def snapshots(self, *, interval: float = 0.25) -> AsyncIterator[PodsSnapshot]:
        """watch_pods as an async iterator; a slow consumer gets the latest snapshot only."""
        q: asyncio.Queue[PodsSnapshot] = asyncio.Queue(maxsize=1)

        def put(s: PodsSnapshot) -> None:
            if q.full():  # the skipped snapshot's delta is folded into the newer one
                old = q.get_nowait()
                changed, removed = merge_deltas((old.changed, old.removed), (s.changed, s.removed))
                s = dataclasses.replace(s, changed=changed, removed=removed)
            q.put_nowait(s)

        task = asyncio.create_task(self.watch_pods(put, interval=interval))
        try:
            while True:
                get = asyncio.ensure_future(q.get())
                await asyncio.wait({get, task}, return_when=asyncio.FIRST_COMPLETED)
                if not get.done():
                    get.cancel()
                    task.result()  # watch_pods only ends by raising
                    return
                yield get.result()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def list_once(self) -> PodsSnapshot:
        """One list of every namespace, no watch."""
        return await self._list_watch(self._streams()).list_once(await self.api())

    # --- one-off reads -------------------------------------------------------------------------

    async def _core(self) -> Any:
        from kubernetes.aio import client

        return client.CoreV1Api(await self.api())

    async def get_pod(self, namespace: str, name: str) -> dict[str, Any]:
        core = await self._core()
        return await read_json(
            await core.read_namespaced_pod_without_preload_content(
                name, namespace, _request_timeout=REQUEST_TIMEOUT
            )
        )

    async def default_container(self, namespace: str, pod: str) -> str | None:
        """kubectl's choice: the default-container annotation, else the first container."""
        obj = await self.get_pod(namespace, pod)
        names = [c.get("name") for c in (obj.get("spec") or {}).get("containers") or []]
        wanted = ((obj.get("metadata") or {}).get("annotations") or {}).get(DEFAULT_CONTAINER)
        if wanted in names:
            return str(wanted)
        return str(names[0]) if names else None

    async def logs(
        self,
        namespace: str,
        pod: str,
        container: str | None = None,
        previous: bool = False,
        tail_lines: int | None = 500,
    ) -> list[str]:
        """Raw log lines (outside text: the UI sanitises). KubeError for e.g. no previous."""
        core = await self._core()
        if container is None:
            container = await self.default_container(namespace, pod)
        kw: dict[str, Any] = {"container": container, "previous": previous or None}
        if tail_lines is not None:
            kw["tail_lines"] = tail_lines
        resp = await core.read_namespaced_pod_log_without_preload_content(
            pod, namespace, _request_timeout=REQUEST_TIMEOUT, **kw
        )
        try:
            data = await resp.read()
        finally:
            resp.release()
        if resp.status != 200:
            raise status_error(resp.status, resp.reason or "", data)
        return data.decode("utf-8", "replace").splitlines()

    async def follow_logs(
        self,
        namespace: str,
        pod: str,
        container: str | None = None,
        tail_lines: int | None = 100,
    ) -> AsyncIterator[str]:
        """Lines as they come (kubectl logs -f); ends when the container stops. Closing the
        iterator or cancelling its task closes the stream."""
        core = await self._core()
        if container is None:
            container = await self.default_container(namespace, pod)
        kw: dict[str, Any] = {"container": container, "follow": True}
        if tail_lines is not None:
            kw["tail_lines"] = tail_lines
        resp = await core.read_namespaced_pod_log_without_preload_content(
            pod, namespace, _request_timeout=24 * 3600.0, **kw
        )
        try:
            if resp.status != 200:
                raise status_error(resp.status, resp.reason or "", await resp.read())
            async for line in resp.content:
                yield line.decode("utf-8", "replace").rstrip("\r\n")
        finally:
            resp.close()

    async def describe(self, namespace: str, pod: str) -> PodDetails:
        core = await self._core()
        obj = await self.get_pod(namespace, pod)
        uid = (obj.get("metadata") or {}).get("uid") or ""
        selector = f"involvedObject.name={pod},involvedObject.kind=Pod"
        if uid:  # not the events of an earlier pod of the same name (StatefulSets)
            selector += f",involvedObject.uid={uid}"
        evs = await read_json(
            await core.list_namespaced_event_without_preload_content(
                namespace, field_selector=selector, _request_timeout=REQUEST_TIMEOUT
            )
        )
        return pod_details(obj, evs.get("items") or [])
