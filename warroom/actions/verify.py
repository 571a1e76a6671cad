"""Did it work? An action is watched after the API said yes, and its outcome is what the object
shows, not what the call returned: a delete of a pod stuck on a lost node is accepted and
changes nothing.

Outcomes: "took_effect" (pod gone, replaced or terminating; rollout complete), "no_effect" (the
object is as it was; the text says what it still shows) or "pending" (still under way when the
wait ended). Never raises: an API that cannot be read gives "pending" with the reason.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from warroom.pods import pod_row
from warroom.sources.kube_api import WORKLOADS, KubeError, error_text, read_json
from warroom.workloads import rollout_progress

OutcomeKind = Literal["took_effect", "no_effect", "pending"]
Reader = Callable[[], Awaitable[dict[str, Any] | None]]  # the object now, None when gone

DELETE_WAIT = 20.0  # a delete shows within seconds (Terminating); past this it did nothing
ROLLOUT_WAIT = 90.0  # then "pending"; the rollout itself may take longer
POLL = 1.0


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    text: str  # what the object shows, one line
    waited_s: float


async def watch(
    read: Reader,
    judge: Callable[[dict[str, Any] | None], Outcome | None],
    *,
    wait: float,
    poll: float,
    still: Callable[[dict[str, Any] | None], str],
    otherwise: OutcomeKind,
) -> Outcome:
    """Read the object every `poll` s until `judge` says what happened or `wait` passes; then
    the outcome is `otherwise` and `still` describes what the object shows."""
    t0 = time.monotonic()
    last: dict[str, Any] | None = None
    error = ""
    while True:
        try:
            last = await read()
            error = ""
            found = judge(last)
            if found is not None:
                return Outcome(found.kind, found.text, round(time.monotonic() - t0, 1))
        except Exception as e:  # the cluster may be the very thing in trouble: keep watching
            error = error_text(e)
        if time.monotonic() - t0 >= wait:
            break
        await asyncio.sleep(poll)
    waited = round(time.monotonic() - t0, 1)
    if error:
        return Outcome("pending", f"could not read it back: {error}", waited)
    return Outcome(otherwise, still(last), waited)


async def verify_delete(
    api: Any,
    namespace: str,
    name: str,
    seen: dict[str, Any],
    *,
    wait: float = DELETE_WAIT,
    poll: float = POLL,
) -> Outcome:
    """A pod delete took effect when the pod is gone, replaced (another uid under its name) or
    newly terminating. One that was already terminating and stays so did nothing."""
    from kubernetes.aio import client

    core = client.CoreV1Api(await _resolve(api))
    uid, was_deleting = seen.get("uid", ""), bool(seen.get("deleting"))

    async def read() -> dict[str, Any] | None:
        try:
            return await read_json(
                await core.read_namespaced_pod_without_preload_content(
                    name, namespace, _request_timeout=10.0
                )
            )
        except KubeError as e:
            if e.status == 404:
                return None
            raise

    def judge(pod: dict[str, Any] | None) -> Outcome | None:
        if pod is None:
            return Outcome("took_effect", f"pod {name} is gone", 0)
        meta = pod.get("metadata") or {}
        if uid and meta.get("uid") != uid:
            return Outcome("took_effect", f"pod {name} was replaced ({_status(pod)})", 0)
        if meta.get("deletionTimestamp") and not was_deleting:
            return Outcome("took_effect", f"pod {name} is terminating", 0)
        return None

    return await watch(read, judge, wait=wait, poll=poll, still=_pod_still, otherwise="no_effect")


def _pod_still(pod: dict[str, Any] | None) -> str:
    if pod is None:
        return "gone"
    spec = pod.get("spec") or {}
    status = _status(pod)
    node = f" on node {spec['nodeName']}" if spec.get("nodeName") else ""
    text = f"still {status}{node}, same pod"
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        text += (
            "; it was already being deleted, and a pod whose node stopped answering only goes "
            "with a force delete (grace period 0)"
        )
    return text


def _status(pod: dict[str, Any]) -> str:
    row = pod_row(pod)
    return f"{row.status} {row.ready}"


async def verify_rollout(
    api: Any,
    namespace: str,
    name: str,
    seen: dict[str, Any],
    *,
    wait: float = ROLLOUT_WAIT,
    poll: float = POLL,
) -> Outcome:
    """A rollout restart (or undo) took effect when the controller has seen the new template
    and every replica is updated and available (`kubectl rollout status` says complete)."""
    kind = str(seen.get("kind") or "Deployment")
    read = await _workload_reader(api, namespace, name, kind)
    generation = int(seen.get("generation") or 0)
    ref = f"{kind.lower()}/{name}"

    def judge(obj: dict[str, Any] | None) -> Outcome | None:
        done, _ = rollout_progress(kind, obj, generation)
        return Outcome("took_effect", f"{ref} rolled out: {done}", 0) if done else None

    def still(obj: dict[str, Any] | None) -> str:
        return f"{ref} still rolling out: {rollout_progress(kind, obj, generation)[1]}"

    return await watch(read, judge, wait=wait, poll=poll, still=still, otherwise="pending")


async def _resolve(api: Any) -> Any:
    """An ApiClient, or a getter of one (KubeSource.api)."""
    got = api() if callable(api) else api
    return await got if inspect.isawaitable(got) else got


async def _workload_reader(api: Any, namespace: str, name: str, kind: str) -> Reader:
    from kubernetes.aio import client

    apps = client.AppsV1Api(await _resolve(api))
    reader = getattr(apps, f"read_namespaced_{WORKLOADS[kind][1]}_without_preload_content")

    async def read() -> dict[str, Any] | None:
        return await read_json(await reader(name, namespace, _request_timeout=10.0))

    return read


async def verify_scale(
    api: Any,
    namespace: str,
    name: str,
    seen: dict[str, Any],
    *,
    wait: float = ROLLOUT_WAIT,
    poll: float = POLL,
) -> Outcome:
    """A scale took effect when the workload runs that many replicas, all ready. If its spec
    no longer asks for them, something set it back (an autoscaler, another responder)."""
    kind, want = str(seen.get("kind") or "Deployment"), int(seen.get("replicas") or 0)
    read = await _workload_reader(api, namespace, name, kind)
    ref = f"{kind.lower()}/{name}"

    def counts(obj: dict[str, Any] | None) -> tuple[int, int, int]:
        spec, st = (obj or {}).get("spec") or {}, (obj or {}).get("status") or {}
        return (
            int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1),
            int(st.get("replicas") or 0),
            int(st.get("readyReplicas") or 0),
        )

    def judge(obj: dict[str, Any] | None) -> Outcome | None:
        if obj is None:
            return Outcome("no_effect", f"{ref} is gone", 0)
        spec_n, replicas, ready = counts(obj)
        if spec_n != want:
            return Outcome(
                "no_effect", f"{ref} asks for {spec_n} replicas now: something set it back", 0
            )
        if replicas == want and ready >= want:
            return Outcome("took_effect", f"{ref} runs {want} replicas, {ready} ready", 0)
        return None

    def still(obj: dict[str, Any] | None) -> str:
        _, replicas, ready = counts(obj)
        return f"{ref} has {replicas} of {want} replicas, {ready} ready"

    return await watch(read, judge, wait=wait, poll=poll, still=still, otherwise="pending")


async def verify_paused(
    api: Any,
    namespace: str,
    name: str,
    seen: dict[str, Any],
    *,
    wait: float = DELETE_WAIT,
    poll: float = POLL,
) -> Outcome:
    """Pause and resume took effect when the controller has seen the change (its observed
    generation caught up) and the Deployment's spec still says so."""
    paused, generation = bool(seen.get("paused")), int(seen.get("generation") or 0)
    read = await _workload_reader(api, namespace, name, "Deployment")
    ref = f"deployment/{name}"

    def judge(obj: dict[str, Any] | None) -> Outcome | None:
        spec, st = (obj or {}).get("spec") or {}, (obj or {}).get("status") or {}
        if bool(spec.get("paused")) != paused:
            now = "paused" if spec.get("paused") else "not paused"
            return Outcome("no_effect", f"{ref} is {now} again: someone changed it back", 0)
        if int(st.get("observedGeneration") or 0) >= generation:
            what = "paused: changes to it wait" if paused else "resumed: it rolls out again"
            return Outcome("took_effect", f"rollout of {ref} {what}", 0)
        return None

    def still(obj: dict[str, Any] | None) -> str:
        return f"the controller has not seen the change to {ref} yet"

    return await watch(read, judge, wait=wait, poll=poll, still=still, otherwise="pending")
