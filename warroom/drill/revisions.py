"""ControllerRevisions (apps/v1): a StatefulSet's template history, as its controller keeps it,
so `kubectl rollout history statefulset/x` lists revisions and `rollout undo` patches the
previous one's data back (a strategic merge patch replacing the template)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from warroom.drill import objects
from warroom.drill.cluster_api import ClusterApi
from warroom.drill.store import rfc3339

HASH_LABEL = "controller.kubernetes.io/hash"


def sorted_json(value: Any) -> Any:
    """Keys in Go's json.Marshal order for maps (sorted), so `data` reads as the controller's."""
    return json.loads(json.dumps(value, sort_keys=True))


def revision_data(template: dict[str, Any]) -> dict[str, Any]:
    """The statefulset controller's getPatch: the template, to be replaced wholesale."""
    return sorted_json({"spec": {"template": {**template, "$patch": "replace"}}})


class Revisions:
    def __init__(self, cluster: ClusterApi, new_uid: Callable[[], str]) -> None:
        self.c = cluster
        self.new_uid = new_uid

    def owned(self, owner: dict[str, Any]) -> list[dict[str, Any]]:
        uid = owner["metadata"]["uid"]
        crs = self.c.store.objects("controllerrevisions", owner["metadata"]["namespace"])
        return [cr for cr in crs if self.c.owner_uid(cr) == uid]

    def current(self, sts: dict[str, Any]) -> str:
        """The name of the revision of the StatefulSet's template: an existing one (moved to
        the top of the history on a rollback) or a new one."""
        h = objects.template_hash(sts["spec"]["template"])
        name = f"{sts['metadata']['name']}-{h}"
        mine = self.owned(sts)
        top = max((int(cr.get("revision", 0)) for cr in mine), default=0)
        found = next((cr for cr in mine if cr["metadata"]["name"] == name), None)
        if found is None:
            labels = {**(sts["spec"]["template"]["metadata"].get("labels") or {}), HASH_LABEL: h}
            self.c.store.create(
                "controllerrevisions",
                {
                    "apiVersion": "apps/v1",
                    "kind": "ControllerRevision",
                    "metadata": {
                        "name": name,
                        "namespace": sts["metadata"]["namespace"],
                        "uid": self.new_uid(),
                        # the first revision is as old as the StatefulSet
                        "creationTimestamp": sts["metadata"]["creationTimestamp"]
                        if top == 0
                        else rfc3339(self.c.clock.now()),
                        "labels": labels,
                        "ownerReferences": [objects.owner_ref(sts)],
                    },
                    "data": revision_data(sts["spec"]["template"]),
                    "revision": top + 1,
                },
            )
            self._cleanup(sts, keep={name, (sts.get("status") or {}).get("currentRevision")})
        elif int(found.get("revision", 0)) < top:
            found["revision"] = top + 1
            self.c.store.put("controllerrevisions", found)
        return name

    def _cleanup(self, sts: dict[str, Any], keep: set[str | None]) -> None:
        limit = int(sts["spec"].get("revisionHistoryLimit", 10))
        used = {
            self.c.pod_label(p, "controller-revision-hash")
            for p in self.c.owned_pods(sts["metadata"]["uid"])
        }
        old = sorted(
            (cr for cr in self.owned(sts) if cr["metadata"]["name"] not in keep | used),
            key=lambda cr: int(cr.get("revision", 0)),
        )
        for cr in old[: max(0, len(old) - limit)]:
            self.c.store.delete(
                "controllerrevisions", cr["metadata"]["namespace"], cr["metadata"]["name"]
            )
