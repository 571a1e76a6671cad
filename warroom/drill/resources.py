"""The resource types the drill API server serves, with what discovery says about them.

Groups are listed in the order a real API server lists them; every version is v1. Review kinds
(SelfSubjectAccessReview, SelfSubjectRulesReview) are create-only and never stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

READ = ("get", "list", "watch")
AUTHZ = "authorization.k8s.io"
NETWORKING = "networking.k8s.io"
GROUPS = ("", "apps", AUTHZ, NETWORKING, "policy", "discovery.k8s.io")
# The Go package each group's types live in: io.k8s.api.<package>.v1.<Kind> in the OpenAPI.
PACKAGE = {
    "": "core",
    "apps": "apps",
    AUTHZ: "authorization",
    "policy": "policy",
    "discovery.k8s.io": "discovery",
    "autoscaling": "autoscaling",
    NETWORKING: "networking",
}


@dataclass(frozen=True, slots=True)
class Sub:
    """A subresource: its kind (and group) and the verbs it takes."""

    kind: str
    group: str | None  # None: the parent's group
    verbs: tuple[str, ...]


SUBRESOURCES = {
    "log": Sub("Pod", None, ("get",)),
    "status": Sub("", None, ("get", "patch", "update")),  # "": the parent's kind
    "scale": Sub("Scale", "autoscaling", ("get", "patch", "update")),
    "eviction": Sub("Eviction", "policy", ("create",)),
}


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
    stored: bool = True  # False: a review, answered and forgotten

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

    @property
    def definition(self) -> str:
        """The OpenAPI definition name of its kind."""
        return f"io.k8s.api.{PACKAGE[self.group]}.v1.{self.kind}"


def sub_kind(res: Resource, sub: str) -> tuple[str, str]:
    """(group, kind) of a subresource's body."""
    s = SUBRESOURCES[sub]
    return (res.group if s.group is None else s.group), (s.kind or res.kind)


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
            ("eviction", "log", "status"),
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
            "services",
            "service",
            "Service",
            "",
            True,
            READ,
            _META,
            ("svc",),
            ("all",),
            ("status",),
        ),
        Resource("endpoints", "endpoints", "Endpoints", "", True, READ, _META, ("ep",)),
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
        Resource(
            "controllerrevisions",
            "controllerrevision",
            "ControllerRevision",
            "apps",
            True,
            READ,
            _META,
        ),
        Resource(
            "selfsubjectaccessreviews",
            "selfsubjectaccessreview",
            "SelfSubjectAccessReview",
            AUTHZ,
            False,
            ("create",),
            frozenset(),
            stored=False,
        ),
        Resource(
            "selfsubjectrulesreviews",
            "selfsubjectrulesreview",
            "SelfSubjectRulesReview",
            AUTHZ,
            False,
            ("create",),
            frozenset(),
            stored=False,
        ),
        Resource(
            "poddisruptionbudgets",
            "poddisruptionbudget",
            "PodDisruptionBudget",
            "policy",
            True,
            READ,
            _META,
            ("pdb",),
            (),
            ("status",),
        ),
        Resource(
            "endpointslices",
            "endpointslice",
            "EndpointSlice",
            "discovery.k8s.io",
            True,
            READ,
            _META,
        ),
        # Created, replaced and deleted by responders (a quarantine's deny-all policy).
        Resource(
            "networkpolicies",
            "networkpolicy",
            "NetworkPolicy",
            NETWORKING,
            True,
            ("create", "delete", "get", "list", "patch", "update", "watch"),
            _META,
            ("netpol",),
        ),
    )
}

BY_KIND = {r.kind: r for r in RESOURCES.values()}
STORED = tuple(r.plural for r in RESOURCES.values() if r.stored)


def find(group: str, plural: str) -> Resource | None:
    res = RESOURCES.get(plural)
    return res if res is not None and res.group == group else None


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
