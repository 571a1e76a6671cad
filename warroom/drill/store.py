"""In-memory object store: one global resourceVersion, a bounded change history, watches.

Every object is kept as a dict plus its serialised JSON, so lists and watch events are byte
joins rather than re-encodes (10k pods list in milliseconds). Mutate a dict from `get()`, then
`put()` it: that bumps the resourceVersion, re-serialises and notifies watchers.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warroom.drill.resources import RESOURCES, STORED, Resource, field_values
from warroom.drill.selectors import Matcher

Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped


def rfc3339(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(slots=True)
class Entry:
    obj: dict[str, Any]
    raw: bytes
    labels: dict[str, str]
    fields: dict[str, str]


@dataclass(frozen=True, slots=True)
class Change:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    resource: str
    namespace: str
    raw: bytes
    old: Entry | None
    new: Entry | None  # for DELETED: the final state


class Expired(Exception):
    """The requested resourceVersion was compacted away (HTTP 410 Gone)."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")


class Watch:
    def __init__(
        self, resource: str, namespace: str | None, labels: Matcher, fields: Matcher
    ) -> None:
        self.resource, self.namespace = resource, namespace
        self._labels, self._fields = labels, fields
        self.queue: asyncio.Queue[tuple[str, bytes] | None] = asyncio.Queue()
        self.closed = False

    def _match(self, e: Entry | None) -> bool:
        return e is not None and self._labels(e.labels) and self._fields(e.fields)

    def offer(self, ch: Change) -> None:
        if self.closed or ch.resource != self.resource:
            return
        if self.namespace and ch.namespace != self.namespace:
            return
        old_m = ch.type != "ADDED" and self._match(ch.old)
        new_m = ch.type != "DELETED" and self._match(ch.new)
        if ch.type == "DELETED":
            etype = "DELETED" if self._match(ch.new) else None
        elif old_m and new_m:
            etype = "MODIFIED"
        elif new_m:
            etype = "ADDED"
        elif old_m:  # stopped matching the selector: a watcher sees it leave
            etype = "DELETED"
        else:
            etype = None
        if etype:
            self.queue.put_nowait((etype, ch.raw))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)


class ObjectStore:
    def __init__(
        self,
        now: Callable[[], datetime],
        history_size: int = 1000,
        new_uid: Callable[[], str] | None = None,
    ) -> None:
        self._now = now
        self._new_uid = new_uid or (lambda: str(uuid.uuid4()))
        self._rv = 0
        self._objs: dict[str, dict[Key, Entry]] = {r: {} for r in STORED}
        self._history: deque[Change] = deque(maxlen=max(1, history_size))
        self._compacted = 0  # highest resourceVersion no longer in history
        self._watches: set[Watch] = set()
        self.on_change: list[Callable[[Change], None]] = []
        # Each resource's keys in list order, kept until an object comes or goes (not on a
        # put): a page of a 100k-pod list is a bisect, not a sort of every key.
        self._sorted: dict[str, list[Key]] = {}

    @property
    def resource_version(self) -> int:
        return self._rv

    @property
    def oldest_watchable(self) -> int:
        return self._compacted

    # --- reads -----------------------------------------------------------------------------

    def get(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        e = self._objs[resource].get((namespace, name))
        return e.obj if e else None

    def entry(self, resource: str, namespace: str, name: str) -> Entry | None:
        return self._objs[resource].get((namespace, name))

    def _keys(self, resource: str, namespace: str | None) -> tuple[list[Key], int, int]:
        """The sorted keys of a resource and the [lo, hi) range of a namespace's (or all)."""
        keys = self._sorted.get(resource)
        if keys is None:
            keys = self._sorted[resource] = sorted(self._objs[resource])
        if namespace is None:
            return keys, 0, len(keys)
        # (ns, any name) < (ns + "\0",): no other namespace sorts in between
        return keys, bisect_left(keys, (namespace,)), bisect_left(keys, (namespace + "\0",))

    def entries(self, resource: str, namespace: str | None = None) -> list[Entry]:
        objs = self._objs[resource]
        keys, lo, hi = self._keys(resource, namespace)
        return [objs[k] for k in keys[lo:hi]]

    def page(
        self, resource: str, namespace: str | None, after: Key | None, limit: int
    ) -> tuple[list[Entry], int]:
        """Up to `limit` entries after the key `after` (a continue token's), in list order,
        and how many remain after them."""
        objs = self._objs[resource]
        keys, lo, hi = self._keys(resource, namespace)
        if after is not None:
            lo = max(lo, bisect_right(keys, after))
        end = min(hi, lo + limit) if limit else hi
        return [objs[k] for k in keys[lo:end]], hi - end

    def unsorted(self, resource: str) -> list[Entry]:
        """Every entry of a resource, in no particular order (no sort: for scans)."""
        return list(self._objs[resource].values())

    def objects(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        return [e.obj for e in self.entries(resource, namespace)]

    # --- writes ----------------------------------------------------------------------------

    def _entry(self, res: Resource, obj: dict[str, Any]) -> Entry:
        meta = obj["metadata"]
        return Entry(obj, dumps(obj), dict(meta.get("labels") or {}), field_values(res, obj))

    def _record(self, ch: Change) -> None:
        if len(self._history) == self._history.maxlen:
            self._compacted = self._history[0].rv
        self._history.append(ch)
        for w in list(self._watches):
            w.offer(ch)
        for cb in self.on_change:
            cb(ch)

    def create(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        res = RESOURCES[resource]
        meta = obj.setdefault("metadata", {})
        key = (meta.get("namespace", "") if res.namespaced else "", meta["name"])
        if key in self._objs[resource]:
            raise KeyError(f"{resource} {key} exists")
        obj.setdefault("apiVersion", res.api_version)
        obj.setdefault("kind", res.kind)
        if not meta.get("uid"):
            meta["uid"] = self._new_uid()
        meta.setdefault("creationTimestamp", rfc3339(self._now()))
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        e = self._entry(res, obj)
        self._objs[resource][key] = e
        self._sorted.pop(resource, None)
        self._record(Change(self._rv, "ADDED", resource, key[0], e.raw, None, e))
        return obj

    def put(self, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        res = RESOURCES[resource]
        meta = obj["metadata"]
        key = (meta.get("namespace", "") if res.namespaced else "", meta["name"])
        old = self._objs[resource].get(key)
        if old is None:
            raise KeyError(f"{resource} {key} not found")
        self._rv += 1
        meta["resourceVersion"] = str(self._rv)
        e = self._entry(res, obj)
        self._objs[resource][key] = e
        self._record(Change(self._rv, "MODIFIED", resource, key[0], e.raw, old, e))
        return obj

    def delete(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        res = RESOURCES[resource]
        old = self._objs[resource].pop((namespace, name), None)
        if old is None:
            return None
        self._sorted.pop(resource, None)
        self._rv += 1
        old.obj["metadata"]["resourceVersion"] = str(self._rv)
        e = self._entry(res, old.obj)
        self._record(Change(self._rv, "DELETED", resource, namespace, e.raw, old, e))
        return old.obj

    def compact(self) -> None:
        """Forget the change history, as etcd compaction does: older watches get 410."""
        self._history.clear()
        self._compacted = self._rv

    # --- watches ---------------------------------------------------------------------------

    def watch(
        self,
        resource: str,
        namespace: str | None,
        labels: Matcher,
        fields: Matcher,
        since: int | None,
    ) -> Watch:
        """Start a watch. `since=None` replays current objects as ADDED first."""
        w = Watch(resource, namespace, labels, fields)
        if since is None:
            for e in self.entries(resource, namespace):
                if w._match(e):
                    w.queue.put_nowait(("ADDED", e.raw))
        else:
            if since < self._compacted:
                raise Expired(since, self._compacted + 1)
            for ch in self._history:
                if ch.rv > since:
                    w.offer(ch)
        self._watches.add(w)
        return w

    def unwatch(self, w: Watch) -> None:
        self._watches.discard(w)
        w.close()

    def close_watches(self) -> None:
        for w in list(self._watches):
            self.unwatch(w)
