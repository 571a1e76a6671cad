"""Which pods each selecting object (a Service, a PodDisruptionBudget) selects, kept current from
the store's changes, and which of those objects need their controller to look again. A
controller then resyncs only what a pod change touched: 10k pods of churn elsewhere cost it
one label match per selector and change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from warroom.drill.selectors import Matcher
from warroom.drill.store import Change, ObjectStore

Key = tuple[str, str]  # (namespace, name) of the selecting object


class PodSets:
    def __init__(self, store: ObjectStore, kick: Callable[[], None]) -> None:
        self.store, self.kick = store, kick
        self._matchers: dict[Key, Matcher] = {}
        self._members: dict[Key, set[str]] = {}
        self.dirty: set[Key] = set()

    def track(self, key: Key, matcher: Matcher) -> None:
        self._matchers[key] = matcher
        self._members[key] = {
            e.obj["metadata"]["name"]
            for e in self.store.entries("pods", key[0])
            if matcher(e.labels)
        }
        self.dirty.add(key)

    def tracked(self, key: Key) -> bool:
        return key in self._matchers

    def on_change(self, ch: Change) -> None:
        if ch.resource != "pods":
            return
        entry = ch.new or ch.old
        if entry is None:
            return
        pod = entry.obj["metadata"]["name"]
        for key, m in self._matchers.items():
            if key[0] != ch.namespace:
                continue
            members = self._members[key]
            was = pod in members
            now = ch.type != "DELETED" and ch.new is not None and m(ch.new.labels)
            if now:
                members.add(pod)
            else:
                members.discard(pod)
            if (was or now) and key not in self.dirty:
                self.dirty.add(key)
                self.kick()

    def touch_namespace(self, namespace: str) -> None:
        """Every tracked object of the namespace looks again (its owners' scale changed)."""
        new = {k for k in self._matchers if k[0] == namespace} - self.dirty
        if new:
            self.dirty |= new
            self.kick()

    def pods(self, key: Key) -> list[dict[str, Any]]:
        found = (self.store.get("pods", key[0], n) for n in sorted(self._members.get(key, ())))
        return [p for p in found if p is not None]

    def take_dirty(self) -> list[Key]:
        out = sorted(self.dirty)
        self.dirty.clear()
        return out
