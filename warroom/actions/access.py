"""What the responder may do, asked before they try: a SelfSubjectAccessReview per API call an
action needs (`kubectl auth can-i` does the same), so the console greys out what RBAC would
refuse. A 403 met later is remembered too. Unknown (not asked yet, or the review failed) is
never a refusal: the action is tried, and a 403 then says which verb on which resource.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from warroom.actions.kube_call import ActionResult, client, where
from warroom.sources.kube_api import read_json
from warroom.workloads import RESOURCES

log = logging.getLogger(__name__)
APPS = {"deployments", "statefulsets", "daemonsets", "replicasets", "controllerrevisions"}
ACTIONS = (
    "delete",
    "force_delete",
    "restart",
    "scale",
    "rollback",
    "pause",
    "cordon",
    "drain",
    "quarantine",
)
GROUPS = {"networkpolicies": "networking.k8s.io"} | dict.fromkeys(APPS, "apps")


@dataclass(frozen=True)
class Need:
    """One API call: what SelfSubjectAccessReview's resourceAttributes ask about."""

    verb: str
    resource: str
    subresource: str = ""
    namespace: str = ""

    @property
    def group(self) -> str:
        return GROUPS.get(self.resource, "")

    def text(self) -> str:
        sub = f"/{self.subresource}" if self.subresource else ""
        return f"{self.verb} {self.resource}{sub} {where(self.namespace)}"


def needs(action: str, kind: str = "", namespace: str = "") -> list[Need]:
    """The calls `action` makes on a `kind` workload (or a pod, a node) in `namespace`."""
    resource = RESOURCES.get(kind, "deployments")
    history = "replicasets" if kind == "Deployment" else "controllerrevisions"
    table: dict[str, list[Need]] = {
        "delete": [Need("delete", "pods", namespace=namespace)],
        "force_delete": [Need("delete", "pods", namespace=namespace)],
        "restart": [Need("patch", resource, namespace=namespace)],
        "scale": [Need("patch", resource, "scale", namespace)],
        "rollback": [
            Need("list", history, namespace=namespace),
            Need("patch", resource, namespace=namespace),
        ],
        "pause": [Need("patch", "deployments", namespace=namespace)],
        "cordon": [Need("patch", "nodes")],
        "drain": [Need("patch", "nodes"), Need("list", "pods"), Need("create", "pods", "eviction")],
        # Label the pod, then a deny-all policy (release deletes it: asked when it is tried).
        "quarantine": [
            Need("patch", "pods", namespace=namespace),
            Need("create", "networkpolicies", namespace=namespace),
        ],
    }
    return table.get(action, [])


def need_of(result: ActionResult) -> Need:
    """The call a 403'd result names ("patch deployments/scale in ns/shop")."""
    resource, _, sub = result.resource.partition("/")
    return Need(result.verb, resource, sub, result.namespace)


class Access:
    """What RBAC said, per call; `denial` reads it for an action."""

    def __init__(self) -> None:
        self.known: dict[Need, bool] = {}

    def denial(self, action: str, kind: str = "", namespace: str = "") -> str | None:
        """ "not allowed: patch deployments/scale in ns/shop", or None when not known refused."""
        for n in needs(action, kind, namespace):
            if self.known.get(n) is False:
                return f"not allowed: {n.text()}"
        return None

    def forbid(self, result: ActionResult) -> None:
        if result.forbidden:
            self.known[need_of(result)] = False

    async def review(self, api: Any, wanted: Iterable[Need]) -> None:
        """Ask the API server about each call not yet known; failures leave it unknown."""
        todo = [n for n in dict.fromkeys(wanted) if n not in self.known]
        if not todo:
            return
        c = await client(api)
        answers = await asyncio.gather(*(can_i(c, n) for n in todo), return_exceptions=True)
        for n, got in zip(todo, answers, strict=True):
            if isinstance(got, bool):
                self.known[n] = got
            else:
                log.info("access review of %s failed: %s", n.text(), got)


def everything(kinds: Iterable[str], namespaces: Iterable[str]) -> list[Need]:
    """The calls every action of the console may make in these namespaces."""
    out: list[Need] = []
    for ns in namespaces:
        for kind in kinds:
            for action in ACTIONS:
                out += needs(action, kind, ns)
    return out


async def can_i(api: Any, need: Need) -> bool:
    """`kubectl auth can-i VERB RESOURCE[/SUB] [-n NS]`, through the API."""
    from kubernetes.aio import client as k8s

    body = k8s.V1SelfSubjectAccessReview(
        api_version="authorization.k8s.io/v1",
        kind="SelfSubjectAccessReview",
        spec=k8s.V1SelfSubjectAccessReviewSpec(
            resource_attributes=k8s.V1ResourceAttributes(
                verb=need.verb,
                group=need.group,
                resource=need.resource,
                subresource=need.subresource or None,
                namespace=need.namespace or None,
            )
        ),
    )
    auth = k8s.AuthorizationV1Api(api)
    got = await read_json(
        await auth.create_self_subject_access_review_without_preload_content(
            body, _request_timeout=10.0
        )
    )
    return bool((got.get("status") or {}).get("allowed"))
