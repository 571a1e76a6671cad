"""The resource types the drill API server serves, with what discovery says about them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

READ = ("get", "list", "watch")


@dataclass(frozen=True, slots=True)
class Resource:
    plural: str
    singular: str
    kind: str
    group: str  # "" for core
    namespaced: bool
    verbs: tuple[str, ...]
    fields: frozenset[str]  # supported field selectors
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()

    @property
    def version(self) -> str:
        return "v1"

    @property
    def api_version(self) -> str:
        return f"{self.group}/v1" if self.group else "v1"

    @property
    def group_resource(self) -> str:
        """As RBAC messages spell it: `pods`, `deployments.apps`."""
        return f"{self.plural}.{self.group}" if self.group else self.plural


_META = frozenset({"metadata.name", "metadata.namespace"})
_APPS_VERBS = ("get", "list", "watch", "patch", "update")

RESOURCES: dict[str, Resource] = {
    r.plural: r
    for r in (
        Resource(
            "namespaces",
            "namespace",
            "Namespace",
            "",
            False,
            READ,
            _META | {"status.phase"},
            ("ns",),
        ),
        Resource(
            "nodes",
            "node",
            "Node",
            "",
            False,
            (*READ, "patch"),
            _META | {"spec.unschedulable"},
            ("no",),
        ),
        Resource(
            "pods",
            "pod",
            "Pod",
            "",
            True,
            (*READ, "delete", "patch"),
            _META
            | {
                "spec.nodeName",
                "spec.restartPolicy",
                "spec.schedulerName",
                "spec.serviceAccountName",
                "status.phase",
                "status.podIP",
                "status.nominatedNodeName",
            },
            ("po",),
            ("all",),
            ("log", "status"),
        ),
        Resource(
            "events",
            "event",
            "Event",
            "",
            True,
            READ,
            _META
            | {
                "involvedObject.kind",
                "involvedObject.namespace",
                "involvedObject.name",
                "involvedObject.uid",
                "involvedObject.apiVersion",
                "involvedObject.resourceVersion",
                "involvedObject.fieldPath",
                "reason",
                "reportingComponent",
                "source",
                "type",
            },
            ("ev",),
        ),
        Resource(
            "deployments",
            "deployment",
            "Deployment",
            "apps",
            True,
            _APPS_VERBS,
            _META,
            ("deploy",),
            ("all",),
            ("scale", "status"),
        ),
        Resource(
            "replicasets",
            "replicaset",
            "ReplicaSet",
            "apps",
            True,
            _APPS_VERBS,
            _META | {"status.replicas"},
            ("rs",),
            ("all",),
            ("scale", "status"),
        ),
        Resource(
            "statefulsets",
            "statefulset",
            "StatefulSet",
            "apps",
            True,
            _APPS_VERBS,
            _META,
            ("sts",),
            ("all",),
            ("scale", "status"),
        ),
        Resource(
            "daemonsets",
            "daemonset",
            "DaemonSet",
            "apps",
            True,
            _APPS_VERBS,
            _META,
            ("ds",),
            ("all",),
            ("status",),
        ),
    )
}

BY_KIND = {r.kind: r for r in RESOURCES.values()}


def field_values(res: Resource, obj: dict[str, Any]) -> dict[str, str]:
    out = {}
    for f in res.fields:
        if f == "source":
            v: Any = (obj.get("source") or {}).get("component", "")
        else:
            v = obj
            for part in f.split("."):
                v = v.get(part) if isinstance(v, dict) else None
        if isinstance(v, bool):
            v = "true" if v else "false"
        out[f] = "" if v is None else str(v)
    return out
