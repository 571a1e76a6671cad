"""Cordon, uncordon and drain a node, as `kubectl cordon|uncordon|drain` do, and what they did.

Cordon is kubectl's strategic merge patch `{"spec":{"unschedulable":true}}` (uncordon: null).
Drain is `kubectl drain NODE --ignore-daemonsets --delete-emptydir-data`: cordon, list the
node's pods, leave DaemonSet and mirror pods, refuse when a pod has no controller (nothing
would recreate it: kubectl wants --force), then evict every other pod through the Eviction API
(policy/v1), so PodDisruptionBudgets are respected. A budget that refuses (429) is reported at
once, with its reason, and retried every RETRY seconds as kubectl does, until the pods are gone,
the drain is stopped, or `timeout` passes: it never loops forever. The result says what was
evicted, what is still there and what blocked it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from warroom.actions.kube_call import (
    STRATEGIC,
    TIMEOUT,
    ActionResult,
    ApiGetter,
    Refused,
    Step,
    client,
)
from warroom.actions.verify import Outcome, watch
from warroom.pods import controller_of
from warroom.sources.kube_api import KubeError, error_text, read_json, status_error

if TYPE_CHECKING:
    from kubernetes.aio.client import ApiClient

RETRY = 5.0  # kubectl drain's pause between evictions a budget refused
MIRROR = "kubernetes.io/config.mirror"
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"


def cordon_command(node: str, on: bool, context: str = "") -> str:
    ctx = f" --context {context}" if context else ""
    return f"kubectl {'cordon' if on else 'uncordon'} {node}{ctx}"


def drain_command(node: str, timeout: float, context: str = "") -> str:
    ctx = f" --context {context}" if context else ""
    return (
        f"kubectl drain {node} --ignore-daemonsets --delete-emptydir-data "
        f"--timeout={int(timeout)}s{ctx}"
    )


async def _patch_node(apps: Any, node: str, on: bool) -> dict[str, Any]:
    body = {"spec": {"unschedulable": True if on else None}}
    return await read_json(
        await apps.patch_node_without_preload_content(
            node, body, _content_type=STRATEGIC, _request_timeout=TIMEOUT
        )
    )


async def cordon(api: ApiClient | ApiGetter, node: str, on: bool = True) -> ActionResult:
    """Mark the node unschedulable (on) or schedulable again; "already" when it was."""
    step = Step("", "get", "nodes", node)
    word = "cordoned" if on else "uncordoned"
    try:
        from kubernetes.aio import client as k8s

        core = k8s.CoreV1Api(await client(api))
        obj = await read_json(
            await core.read_node_without_preload_content(node, _request_timeout=TIMEOUT)
        )
        already = bool((obj.get("spec") or {}).get("unschedulable")) == on
        if not already:
            step.at("patch", "nodes", node)
            await _patch_node(core, node, on)
    except Exception as e:
        return step.failed(e)
    step.at("patch", "nodes", node)
    text = f"node/{node} {'already ' if already else ''}{word}"
    return step.result(
        True,
        text,
        cordon_command(node, not on),
        seen={"unschedulable": on, "already": already},
        record={"unschedulable": on},
    )


async def verify_cordon(
    api: Any, node: str, seen: dict[str, Any], *, wait: float = 20.0, poll: float = 1.0
) -> Outcome:
    """Took effect when the node says so: spec.unschedulable, and the scheduler's taint."""
    from kubernetes.aio import client as k8s

    core = k8s.CoreV1Api(await client(api))
    on = bool(seen.get("unschedulable"))

    async def read() -> dict[str, Any] | None:
        return await read_json(await core.read_node_without_preload_content(node))

    def judge(obj: dict[str, Any] | None) -> Outcome | None:
        spec = (obj or {}).get("spec") or {}
        tainted = any(t.get("key") == UNSCHEDULABLE_TAINT for t in spec.get("taints") or [])
        if bool(spec.get("unschedulable")) == on and tainted == on:
            what = "unschedulable (SchedulingDisabled)" if on else "schedulable again"
            return Outcome("took_effect", f"node {node} is {what}", 0)
        return None

    def still(obj: dict[str, Any] | None) -> str:
        spec = (obj or {}).get("spec") or {}
        return f"node {node} still has unschedulable={bool(spec.get('unschedulable'))}"

    return await watch(read, judge, wait=wait, poll=poll, still=still, otherwise="no_effect")


# ----- drain -------------------------------------------------------------------------------


@dataclass
class DrainProgress:
    """Where a drain is, for the progress line (and the test that stops one)."""

    node: str
    total: int = 0  # pods to evict
    evicted: set[str] = field(default_factory=set)  # eviction accepted
    gone: set[str] = field(default_factory=set)  # no longer on the node
    blocked: dict[str, str] = field(default_factory=dict)  # pod -> why the budget refused
    failed: dict[str, str] = field(default_factory=dict)  # pod -> the error
    tries: dict[str, int] = field(default_factory=dict)  # pod -> evictions asked
    skipped: list[str] = field(default_factory=list)  # DaemonSet and mirror pods, left
    message: str = "cordoning"

    @property
    def fraction(self) -> float:
        return len(self.gone) / self.total if self.total else 1.0

    def line(self) -> str:
        text = f"{len(self.gone)} of {self.total} pods gone, {len(self.evicted)} evicted"
        if self.blocked:
            pod, why = next(iter(self.blocked.items()))
            more = f" (+{len(self.blocked) - 1} more)" if len(self.blocked) > 1 else ""
            tries = self.tries.get(pod, 0)
            text += f"; {pod} blocked{more} ({tries} {'try' if tries == 1 else 'tries'}): {why}"
        return text


def _key(pod: dict[str, Any]) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace')}/{meta.get('name')}"


def _evictable(pods: list[dict[str, Any]], p: DrainProgress) -> list[dict[str, Any]]:
    """The pods to evict; Refused when one has no controller (kubectl drain without --force)."""
    out, bare = [], []
    for pod in pods:
        meta = pod.get("metadata") or {}
        owner = controller_of(pod)
        if MIRROR in (meta.get("annotations") or {}) or (owner and owner[0] == "DaemonSet"):
            p.skipped.append(_key(pod))
        elif owner is None:
            bare.append(_key(pod))
        else:
            out.append(pod)
    if bare:
        raise Refused(
            "cannot delete Pods that declare no controller (kubectl drain would need --force; "
            f"nothing recreates them): {', '.join(bare)}; node/{p.node} stays cordoned"
        )
    return out


def _budget_reason(e: KubeError, body: str = "") -> str:
    """The disruption budget's own sentence, e.g. "The disruption budget redis-cart needs 1
    healthy pods and has 1 currently", else the API's message."""
    try:
        causes = ((json.loads(body) or {}).get("details") or {}).get("causes") or []
    except ValueError:
        causes = []
    for c in causes:
        if c.get("reason") == "DisruptionBudget" and c.get("message"):
            return str(c["message"])
    return e.message


async def drain(
    api: ApiClient | ApiGetter,
    node: str,
    *,
    timeout: float = 120.0,
    retry: float = RETRY,
    poll: float = 1.0,
    stop: asyncio.Event | None = None,
    progress: Callable[[DrainProgress], None] | None = None,
) -> ActionResult:
    """Cordon the node and evict its pods (see the module's doc). Ends when every evicted pod
    is gone, `stop` is set, or `timeout` seconds passed."""
    p = DrainProgress(node)
    step = Step("", "patch", "nodes", node)
    t0 = time.monotonic()
    stop = stop or asyncio.Event()

    def tell(message: str) -> None:
        p.message = message
        if progress is not None:
            progress(p)

    try:
        from kubernetes.aio import client as k8s

        core = k8s.CoreV1Api(await client(api))
        tell("cordoning")
        await _patch_node(core, node, True)
        step.at("list", "pods", node)
        listed = await read_json(
            await core.list_pod_for_all_namespaces_without_preload_content(
                field_selector=f"spec.nodeName={node}", _request_timeout=TIMEOUT
            )
        )
        pods = {_key(x): x for x in _evictable(listed.get("items") or [], p)}
        p.total = len(pods)
        tell(p.line())
        next_try: dict[str, float] = {}  # a refused eviction waits `retry` s, as kubectl's
        t0 = time.monotonic()  # the evictions' clock: every pod is tried at least once
        while len(p.gone) < p.total and not stop.is_set():
            now = time.monotonic()
            if now - t0 >= timeout and next_try:
                break
            for key, pod in pods.items():
                if key in p.evicted or key in p.gone or next_try.get(key, 0.0) > now:
                    continue
                step.at("create", "pods/eviction", key.partition("/")[2])
                step.namespace = key.partition("/")[0]
                await _evict(core, pod, p)
                if key in p.blocked:
                    next_try[key] = now + retry
            step.at("get", "pods", node)
            await _look(core, pods, p)
            tell(p.line())
            if len(p.gone) >= p.total:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll)
    except Exception as e:
        return step.failed(e)
    step.namespace = ""
    step.at("create", "pods/eviction", node)
    return _drain_result(step, p, stopped=stop.is_set(), waited=time.monotonic() - t0)


async def _evict(core: Any, pod: dict[str, Any], p: DrainProgress) -> None:
    from kubernetes.aio import client as k8s

    meta = pod.get("metadata") or {}
    ns, name, key = str(meta.get("namespace")), str(meta.get("name")), _key(pod)
    body = k8s.V1Eviction(
        metadata=k8s.V1ObjectMeta(name=name, namespace=ns),
        delete_options=k8s.V1DeleteOptions(
            preconditions=k8s.V1Preconditions(uid=str(meta.get("uid")))
        ),
    )
    resp = await core.create_namespaced_pod_eviction_without_preload_content(
        name, ns, body, _request_timeout=TIMEOUT
    )
    data = await resp.read()
    resp.release()
    text = data.decode("utf-8", "replace")
    p.tries[key] = p.tries.get(key, 0) + 1
    if 200 <= resp.status < 300:
        p.evicted.add(key)
        p.blocked.pop(key, None)
        return
    err = status_error(resp.status, resp.reason or "", data)
    if err.status == 429:
        p.blocked[key] = _budget_reason(err, text)
    elif err.status in (404, 409):  # gone, or replaced by a pod of the same name
        p.gone.add(key)
        p.blocked.pop(key, None)
    elif err.status == 403:
        raise err
    else:
        p.failed[key] = error_text(err)
        p.gone.add(key)  # counted done: retrying an error like this would not change it


async def _look(core: Any, pods: dict[str, dict[str, Any]], p: DrainProgress) -> None:
    """Evicted pods that are gone from the node (deleted, or replaced under their name)."""
    for key in sorted(p.evicted - p.gone):
        ns, _, name = key.partition("/")
        try:
            now = await read_json(
                await core.read_namespaced_pod_without_preload_content(
                    name, ns, _request_timeout=TIMEOUT
                )
            )
        except KubeError as e:
            if e.status == 404:
                p.gone.add(key)
                continue
            raise
        uid = (pods[key].get("metadata") or {}).get("uid")
        if (now.get("metadata") or {}).get("uid") != uid:
            p.gone.add(key)


def _drain_result(step: Step, p: DrainProgress, *, stopped: bool, waited: float) -> ActionResult:
    left = sorted(k for k in (p.evicted | set(p.blocked)) if k not in p.gone)
    left += sorted(k for k in p.failed if k not in left)
    seen = {
        "node": p.node,
        "pods": p.total,
        "tries": dict(p.tries),
        "evicted": sorted(p.evicted),
        "blocked": dict(p.blocked),
        "skipped": p.skipped,
    }
    record = {"pods": p.total, "evicted": len(p.evicted), "blocked": sorted(p.blocked)}
    skipped = f" ({len(p.skipped)} DaemonSet/mirror pods left)" if p.skipped else ""
    if len(p.gone) >= p.total and not p.failed:
        text = f"drained node/{p.node}: {p.total} pods evicted{skipped}"
    else:
        why = "stopped" if stopped else f"incomplete after {round(waited)}s"
        text = f"drain of node/{p.node} {why}: {len(p.gone)} of {p.total} pods gone"
        if p.blocked:
            blocked = "; ".join(f"{k}: {v}" for k, v in sorted(p.blocked.items()))
            text += f"; blocked by a disruption budget: {blocked}"
        if p.failed:
            text += "; " + "; ".join(f"{k}: {v}" for k, v in sorted(p.failed.items()))
        still = [k for k in left if k not in p.blocked and k not in p.failed]
        if still:
            text += f"; still terminating: {', '.join(still)}"
    return step.result(True, text, cordon_command(p.node, False), seen=seen, record=record)


async def verify_drain(
    api: Any, node: str, seen: dict[str, Any], *, wait: float = 5.0, poll: float = 1.0
) -> Outcome:
    """What the node shows now: cordoned, and which of the pods to evict are still on it."""
    from kubernetes.aio import client as k8s

    core = k8s.CoreV1Api(await client(api))
    skipped = set(seen.get("skipped") or [])

    async def read() -> dict[str, Any] | None:
        return await read_json(
            await core.list_pod_for_all_namespaces_without_preload_content(
                field_selector=f"spec.nodeName={node}"
            )
        )

    def left(listed: dict[str, Any] | None) -> list[str]:
        pods = (listed or {}).get("items") or []
        return sorted(k for x in pods if (k := _key(x)) not in skipped)

    def judge(listed: dict[str, Any] | None) -> Outcome | None:
        if not left(listed):
            return Outcome("took_effect", f"node {node} is cordoned and empty of evictable pods", 0)
        return None

    def still(listed: dict[str, Any] | None) -> str:
        pods = left(listed)
        return f"node {node} is cordoned; {len(pods)} pod(s) still on it: {', '.join(pods[:5])}"

    otherwise = "pending" if seen.get("evicted") else "no_effect"
    return await watch(read, judge, wait=wait, poll=poll, still=still, otherwise=otherwise)
