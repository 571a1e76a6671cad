"""List + watch of any resource into a uid-keyed map of rows: pods for the pods view,
Deployments/StatefulSets/DaemonSets for the deployments view, nodes and the pods' requests for
the nodes view. One loop for all of them (KubeSource.watch runs it).

Lists and watches are plain GETs on the ApiClient (kube_api.get_list: the generated API
classes cost seconds to import) read as json: pydantic models cost ~4x more for 10k pods and
the rows need only a few fields. A list is parsed item by item as it streams in, in a thread
(kube_list.stream_list), so the UI's loop keeps answering keys and 100k pods are never one
dict.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from warroom.model import utcnow
from warroom.pods import WatchSnapshot
from warroom.sources.kube_api import KubeError, error_text, get_list, status_error
from warroom.sources.kube_list import stream_list
from warroom.sources.kube_stream import Backoff, Expired, Stream, WatchStats

if TYPE_CHECKING:
    from kubernetes.aio.client import ApiClient

log = logging.getLogger(__name__)
LIST_TIMEOUT = 300.0  # a full list of a big cluster on a struggling API server


@dataclass(frozen=True)
class Resource:
    """A kind to list and watch, and how one of its objects becomes a row (None: skip it)."""

    name: str  # the plural: "pods", "deployments" (the URL's, and for errors)
    group: str  # the API's path: "/api/v1", "/apis/apps/v1"
    parse: Callable[[dict[str, Any]], Any]
    namespaced: bool = True

    async def get(self, api: ApiClient, namespace: str | None, timeout: float, **query: Any) -> Any:
        """A list, or with watch=True a watch: the raw response (kube_api.get_list)."""
        ns = namespace if self.namespaced else None
        return await get_list(api, self.group, self.name, ns, timeout, **query)


class ListWatch:
    """The streams of one view, listed then watched forever, folded into snapshots."""

    def __init__(
        self,
        streams: Sequence[Stream],
        stats: WatchStats,
        *,
        watch_timeout: int = 300,
        idle_timeout: float = 150.0,
    ) -> None:
        self.streams = list(streams)
        self.stats = stats
        self.watch_timeout = watch_timeout  # server-side timeoutSeconds, jittered down to 80%
        self.idle_timeout = idle_timeout  # no line (bookmarks come ~1/min): re-watch

    async def run(
        self,
        new_client: Callable[[], Any],
        on_snapshot: Callable[[WatchSnapshot[Any]], None],
        interval: float,
    ) -> None:
        """Calls on_snapshot at most every `interval` s (bursts coalesce) and once the first
        list of every stream is in. On a lost watch the snapshot keeps the last rows with
        ok=False and stale_since, and the watch resumes by itself. Cancel to stop."""
        changed = asyncio.Event()
        api: ApiClient | None = None
        tasks: list[asyncio.Task[None]] = []
        backoff = Backoff()
        try:
            while api is None:
                try:
                    api = await new_client()
                except Exception as e:  # a broken kubeconfig or exec plugin: say so, retry
                    log.warning("kubernetes client config failed: %s", e)
                    self.emit(on_snapshot, self.error_snapshot(f"kubeconfig: {error_text(e)}"))
                    await asyncio.sleep(backoff.next())
            tasks = [asyncio.create_task(self._run(api, s, changed)) for s in self.streams]
            while True:
                await changed.wait()
                changed.clear()
                if all(s.tried for s in self.streams):
                    self.emit(on_snapshot, self.snapshot())
                    await asyncio.sleep(interval)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if api is not None:
                await api.close()

    async def list_once(self, api: ApiClient) -> WatchSnapshot[Any]:
        for s in self.streams:
            try:
                await self._list(api, s, cached=False)
            except Exception as e:
                s.lost(error_text(e))
        return self.snapshot()

    def emit(
        self, on_snapshot: Callable[[WatchSnapshot[Any]], None], snap: WatchSnapshot[Any]
    ) -> None:
        self.stats.snapshots += 1
        try:
            on_snapshot(snap)
        except Exception:
            log.exception("snapshot callback failed")

    @staticmethod
    def error_snapshot(error: str) -> WatchSnapshot[Any]:
        return WatchSnapshot(False, {}, "", error, None, utcnow())

    def snapshot(self) -> WatchSnapshot[Any]:
        streams = self.streams
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
            s.error if len(streams) == 1 else f"{s.label}: {s.error}" for s in streams if s.error
        ]
        stale = [s.stale_since for s in streams if s.stale_since is not None]
        return WatchSnapshot(
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
        """One stream forever: list; watch from the list's rv; on a dropped stream resume
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
                log.info("watch (%s) lost: %s", s.label, e)
                s.lost(error_text(e))
                changed.set()
                await asyncio.sleep(backoff.next())

    async def _list(self, api: ApiClient, s: Stream, *, cached: bool) -> None:
        # resourceVersion=0 lets the API server answer from its watch cache, as informers do:
        # no etcd read of every object while the cluster is already in trouble.
        assert s.resource is not None
        kw: dict[str, Any] = {"resourceVersion": "0"} if cached else {}
        resp = await s.resource.get(api, s.namespace, LIST_TIMEOUT, **kw)
        # Parsed as it arrives, in a thread, so the UI loop keeps answering keys.
        parsed, rv = await stream_list(resp, s.resource.parse)
        s.replace({r.uid: r for r in parsed if r is not None})
        s.rv = rv
        s.tried = s.listed = s.live = True
        s.stale_since, s.error = None, None
        self.stats.lists += 1

    async def _watch(self, api: ApiClient, s: Stream, changed: asyncio.Event) -> None:
        """One watch request; returns when the server ends it (timeoutSeconds) or it idles."""
        timeout = int(self.watch_timeout * random.uniform(0.8, 1.0)) or 1
        assert s.resource is not None
        resp = await s.resource.get(
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
                if line.strip() and self.apply(s, line):
                    changed.set()
        finally:
            resp.close()

    def apply(self, s: Stream, line: bytes) -> bool:
        """One watch event into the stream; True if a row changed."""
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
        uid = str(meta.get("uid") or "")
        if etype == "DELETED":
            return s.drop(uid)
        if etype in ("ADDED", "MODIFIED"):
            assert s.resource is not None
            row = s.resource.parse(obj)
            return s.drop(uid) if row is None else s.put(row)
        return False
