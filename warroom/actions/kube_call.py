"""What every action on the cluster shares: its result, and the call in flight that names the
verb and resource a failure happened on.

Never raises for cluster trouble: every outcome is an ActionResult the timeline can record. A
403 reads "not allowed: <verb> <resource> in ns/<namespace>" for the call that was refused.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from warroom.sources.kube_api import KubeError, NoWorkload, error_text

if TYPE_CHECKING:
    from kubernetes.aio.client import ApiClient

TIMEOUT = 30.0
STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
ApiGetter = Callable[[], Awaitable["ApiClient"]]


@dataclass(frozen=True, slots=True)
class ActionResult:
    ok: bool
    verb: str  # the API verb of the last call: patch | delete | get | create | list
    resource: str  # deployments | statefulsets | daemonsets | pods | nodes | pods/eviction ...
    namespace: str  # "" for a cluster-scoped object (a node)
    name: str
    text: str  # one line for the timeline
    duration_s: float
    revert_hint: str = ""
    forbidden: bool = False
    # What the object was right after the call, for verifying its effect: the pod's uid and
    # whether it was already being deleted; the workload's kind and new generation.
    seen: dict[str, Any] = field(default_factory=dict)
    # More to record with the ACTION (replicas, image, grace...): what the drill scores and
    # the post-mortem shows.
    record: dict[str, Any] = field(default_factory=dict)


class Refused(Exception):
    """The action is not done, for the reason in the message (kubectl's words where it has
    them)."""


def where(namespace: str) -> str:
    return f"in ns/{namespace}" if namespace else "at the cluster scope"


class Step:
    """The call in flight, so a failure names the verb and resource that failed."""

    def __init__(self, namespace: str, verb: str, resource: str, name: str) -> None:
        self.namespace, self.verb, self.resource, self.name = namespace, verb, resource, name
        self.t0 = time.monotonic()

    def at(self, verb: str, resource: str, name: str) -> None:
        self.verb, self.resource, self.name = verb, resource, name

    def result(
        self,
        ok: bool,
        text: str,
        revert: str = "",
        forbidden: bool = False,
        seen: dict[str, Any] | None = None,
        record: dict[str, Any] | None = None,
    ) -> ActionResult:
        return ActionResult(
            ok,
            self.verb,
            self.resource,
            self.namespace,
            self.name,
            text,
            round(time.monotonic() - self.t0, 3),
            revert,
            forbidden,
            seen or {},
            record or {},
        )

    def failed(self, e: Exception) -> ActionResult:
        if isinstance(e, Refused | NoWorkload):
            return self.result(False, str(e))
        if isinstance(e, KubeError) and e.status == 403:
            text = f"not allowed: {self.verb} {self.resource} {where(self.namespace)}"
            return self.result(False, text, forbidden=True)
        if isinstance(e, KubeError) and e.status == 404:
            return self.result(False, f"not found: {e.message}")
        return self.result(False, f"failed: {self.verb} {self.resource}: {error_text(e)}")


async def client(api: ApiClient | ApiGetter) -> ApiClient:
    """An ApiClient, or a getter of one (KubeSource.api)."""
    got = api() if callable(api) else api
    return await got if inspect.isawaitable(got) else got
