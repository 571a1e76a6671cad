"""Pods through `kubernetes.aio`: list + watch into a uid-keyed map, logs, describe; the
mutations (rollout restart, delete) live in warroom/actions/restart.py.

Configured like kubectl: --kubeconfig, else $KUBECONFIG (a path list, first file wins per
name), else ~/.kube/config, else the in-cluster service account. The kubeconfig is read here
with PyYAML so the context, server and namespace are known at once; `kubernetes.aio` (~0.4 s
to import) is imported on first use, after the app's first frame.

Lists and watches go through the `*_without_preload_content` methods and plain json: pydantic
models cost ~4x more for 10k pods and the rows need only a few fields.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from warroom.model import utcnow
from warroom.pods import PodDetails, PodRow, PodsSnapshot, merge_deltas, pod_details, pod_row
from warroom.sources.kube_api import (
    REQUEST_TIMEOUT,
    KubeError,
    error_text,
    get_pods,
    read_json,
    status_error,
)
from warroom.sources.kube_list import stream_list
from warroom.sources.kube_stream import Backoff, Expired, Stream, WatchStats
from warroom.sources.kubeconfig import KubeConfigError, KubeTarget, resolve_target

if TYPE_CHECKING:
    from kubernetes.aio.client import ApiClient, Configuration

__all__ = [
    "ALL",
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
LIST_TIMEOUT = 300.0  # a full list of a big cluster on a struggling API server


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

    def _streams(self) -> list[Stream]:
        if self.all_namespaces:
            return [Stream(None)]
        return [Stream(ns) for ns in self._namespaces]

    async def watch_pods(
        self, on_snapshot: Callable[[PodsSnapshot], None], *, interval: float = 0.25
    ) -> None:
        """List, then watch, forever: calls on_snapshot at most every `interval` s (bursts of
        events coalesce) and once the first list of every namespace is in. On a lost watch the
        snapshot keeps the last rows with ok=False and stale_since, and the watch resumes by
        itself. Cancel the task to stop; its own ApiClient is closed."""
        streams = self._streams()
        changed = asyncio.Event()
        api: ApiClient | None = None
        tasks: list[asyncio.Task[None]] = []
        backoff = Backoff()
        try:
            while api is None:
                try:
                    api = await self.new_client()
                except Exception as e:  # a broken kubeconfig or exec plugin: say so, retry
                    log.warning("kubernetes client config failed: %s", e)
                    self._emit(on_snapshot, self._error_snapshot(f"kubeconfig: {error_text(e)}"))
                    await asyncio.sleep(backoff.next())
            tasks = [asyncio.create_task(self._run(api, s, changed)) for s in streams]
            while True:
                await changed.wait()
                changed.clear()
                if all(s.tried for s in streams):
                    self._emit(on_snapshot, self._snapshot(streams))
                    await asyncio.sleep(interval)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if api is not None:
                await api.close()

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
        streams = self._streams()
        api = await self.api()
        for s in streams:
            try:
                await self._list(api, s, cached=False)
            except Exception as e:
                s.lost(error_text(e))
        return self._snapshot(streams)

    def _emit(self, on_snapshot: Callable[[PodsSnapshot], None], snap: PodsSnapshot) -> None:
        self.stats.snapshots += 1
        try:
            on_snapshot(snap)
        except Exception:
            log.exception("pods snapshot callback failed")

    def _error_snapshot(self, error: str) -> PodsSnapshot:
        return PodsSnapshot(False, {}, "", error, None, utcnow())

    def _snapshot(self, streams: list[Stream]) -> PodsSnapshot:
        if len(streams) == 1:
            rows, rv = dict(streams[0].rows), streams[0].rv
        else:
            rows = {}
            for s in streams:
                rows.update(s.rows)
            rv = ",".join(f"{s.namespace}={s.rv}" for s in streams)
        changed: set[str] | None = set()
        removed: set[str] = set()
        for s in streams:
            if s.full or changed is None:
                changed = None
            else:
                changed |= s.changed
                removed |= s.removed
            s.full = False
            s.changed, s.removed = set(), set()
        errors = [
            s.error if len(streams) == 1 else f"{s.namespace}: {s.error}"
            for s in streams
            if s.error
        ]
        stale = [s.stale_since for s in streams if s.stale_since is not None]
        return PodsSnapshot(
            unhealthy=sum(s.unhealthy for s in streams),
            ok=all(s.live for s in streams),
            rows_by_uid=rows,
            resource_version=rv,
            error="; ".join(errors) or None,
            stale_since=min(stale) if stale else None,
            fetched_at=utcnow(),
            changed=None if changed is None else frozenset(changed),
            removed=frozenset(removed),
        )

    async def _run(self, api: ApiClient, s: Stream, changed: asyncio.Event) -> None:
        """One namespace forever: list; watch from the list's rv; on a dropped stream resume
        from the last rv (cheap) after a backoff; on 410 Gone list again."""
        backoff = Backoff()
        relist, cached = True, True
        while True:
            try:
                if relist:
                    await self._list(api, s, cached=cached)
                    relist = False
                    changed.set()
                t0, events = time.monotonic(), self.stats.events
                await self._watch(api, s, changed)
                if events == self.stats.events and time.monotonic() - t0 < 1.0:
                    await asyncio.sleep(backoff.next())  # a server closing at once: no spin
                else:
                    backoff.reset()
            except Expired:
                self.stats.expired += 1
                relist, cached = True, False  # after a 410, a consistent list (not the cache)
            except Exception as e:
                self.stats.errors += 1
                log.info("pods watch (%s) lost: %s", s.namespace or "all namespaces", e)
                s.lost(error_text(e))
                changed.set()
                await asyncio.sleep(backoff.next())

    async def _list(self, api: ApiClient, s: Stream, *, cached: bool) -> None:
        # resourceVersion=0 lets the API server answer from its watch cache, as informers do:
        # no etcd read of every pod while the cluster is already in trouble.
        kw: dict[str, Any] = {"resourceVersion": "0"} if cached else {}
        resp = await get_pods(api, s.namespace, LIST_TIMEOUT, **kw)
        # Parsed as it arrives, in a thread, so the UI loop keeps answering keys.
        parsed, rv = await stream_list(resp, pod_row)
        rows = {r.uid: r for r in parsed}
        s.replace(rows)
        s.rv = rv
        s.tried = s.listed = s.live = True
        s.stale_since, s.error = None, None
        self.stats.lists += 1

    async def _watch(self, api: ApiClient, s: Stream, changed: asyncio.Event) -> None:
        """One watch request; returns when the server ends it (timeoutSeconds) or it idles."""
        timeout = int(self.watch_timeout * random.uniform(0.8, 1.0)) or 1
        resp = await get_pods(
            api,
            s.namespace,
            float(timeout + 30),
            watch=True,
            resourceVersion=s.rv,
            allowWatchBookmarks=True,
            timeoutSeconds=timeout,
        )
        try:
            if resp.status != 200:
                err = status_error(resp.status, resp.reason or "", await resp.read())
                raise Expired() if err.status == 410 else err
            self.stats.watches += 1
            if not s.live:
                s.live, s.stale_since, s.error = True, None, None
                changed.set()
            while True:
                try:
                    async with asyncio.timeout(self.idle_timeout):
                        line = await resp.content.readline()
                except TimeoutError:
                    return  # silent too long (no bookmark either): watch again from s.rv
                if not line:
                    return
                if line.strip() and self._apply(s, line):
                    changed.set()
        finally:
            resp.close()

    def _apply(self, s: Stream, line: bytes) -> bool:
        ev = json.loads(line)
        etype, obj = ev.get("type"), ev.get("object") or {}
        if etype == "ERROR":
            if obj.get("code") == 410:
                raise Expired()
            raise KubeError(
                int(obj.get("code") or 500), str(obj.get("reason") or ""), str(obj.get("message"))
            )
        meta = obj.get("metadata") or {}
        if meta.get("resourceVersion"):
            s.rv = str(meta["resourceVersion"])
        if etype == "BOOKMARK":
            return False
        self.stats.events += 1
        if etype == "DELETED":
            return s.drop(str(meta.get("uid") or ""))
        if etype in ("ADDED", "MODIFIED"):
            return s.put(pod_row(obj))
        return False

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
