"""core/v1 Events, aggregated like the kubelet's recorder (same reason+message bumps count)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from warroom.drill.clock import WorldClock
from warroom.drill.store import ObjectStore, rfc3339


class EventRecorder:
    def __init__(self, store: ObjectStore, clock: WorldClock, max_events: int = 3000) -> None:
        self.store, self.clock, self.max_events = store, clock, max_events
        self._keys: OrderedDict[tuple[str, ...], tuple[str, str]] = OrderedDict()
        self._n = 0

    def record(
        self,
        obj: dict[str, Any],
        etype: str,
        reason: str,
        message: str,
        component: str,
        host: str = "",
        field_path: str = "",
    ) -> None:
        meta = obj["metadata"]
        ns = meta.get("namespace", "default")
        key = (meta.get("uid", ""), field_path, reason, message, component)
        now = rfc3339(self.clock.now())
        known = self._keys.get(key)
        if known:
            ev = self.store.get("events", *known)
            if ev is not None:
                ev["count"] = ev.get("count", 1) + 1
                ev["lastTimestamp"] = now
                self.store.put("events", ev)
                self._keys.move_to_end(key)
                return
        self._n += 1
        name = f"{meta['name']}.{int(self.clock.now().timestamp() * 1e9) + self._n:x}"
        involved: dict[str, Any] = {
            "kind": obj.get("kind", ""),
            "namespace": ns,
            "name": meta["name"],
            "uid": meta.get("uid", ""),
            "apiVersion": obj.get("apiVersion", "v1"),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if field_path:
            involved["fieldPath"] = field_path
        source: dict[str, str] = {"component": component}
        if host:
            source["host"] = host
        self.store.create(
            "events",
            {
                "metadata": {"name": name, "namespace": ns, "creationTimestamp": now},
                "involvedObject": involved,
                "reason": reason,
                "message": message,
                "source": source,
                "firstTimestamp": now,
                "lastTimestamp": now,
                "count": 1,
                "type": etype,
                "eventTime": None,
                "reportingComponent": component,
                "reportingInstance": host,
            },
        )
        self._keys[key] = (ns, name)
        while len(self._keys) > self.max_events:  # events expire, like the API server's TTL
            _, (ons, oname) = self._keys.popitem(last=False)
            self.store.delete("events", ons, oname)
