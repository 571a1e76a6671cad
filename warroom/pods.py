"""Pods as warroom sees them: raw pod JSON -> PodRow (STATUS as kubectl prints it), the owner
that controls a pod, ordering, the pane summary, and describe's data. Pure: no I/O.

STATUS follows kubectl's printPod (pkg/printers/internalversion/printers.go, v1.32): init
containers first (Init:N/M, Init:<reason>, native sidecars counted as containers), then the
app containers from last to first (the first container's reason wins), Completed-with-running
turned back into Running/NotReady, and Terminating/Unknown for pods being deleted.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

NODE_LOST = "NodeLost"  # node.NodeUnreachablePodReason
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PodRow:
    uid: str
    namespace: str
    name: str
    ready: str  # "1/2"
    status: str  # kubectl's STATUS column
    restarts: int
    last_restart_at: datetime | None
    created_at: datetime | None
    node: str
    owner_kind: str  # controller owner ("ReplicaSet", "StatefulSet", ...); "" for a bare pod
    owner_name: str
    labels: dict[str, str]
    healthy: bool
    phase: str
    reason_detail: str  # the message behind STATUS (raw outside text: the UI sanitises)
    last_exit_reason: str = ""  # lastState.terminated.reason of the latest restart


R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class WatchSnapshot(Generic[R]):
    """What a watched view draws (pods; workloads and nodes too, with their rows). After a
    failure the last rows are kept (stale, not empty)."""

    ok: bool
    rows_by_uid: dict[str, R]
    resource_version: str  # one stream: its rv; several namespaces: "ns=rv,ns2=rv2"
    error: str | None
    stale_since: datetime | None  # when the watch was lost ("watch lost 12s ago")
    fetched_at: datetime
    # What moved since the previous snapshot, so consumers touch only those pods (10k pods
    # under churn: a full diff four times a second saturates the UI thread). `changed` holds
    # uids added or whose PodRow differs; None means "everything" (a first list, an error).
    changed: frozenset[str] | None = None
    removed: frozenset[str] = frozenset()
    unhealthy: int | None = None  # counted by the source as pods come and go (None: count)

    @property
    def full(self) -> bool:
        return self.changed is None


PodsSnapshot = WatchSnapshot  # the pods watch's: rows are PodRow


def merge_deltas(
    first: tuple[frozenset[str] | None, frozenset[str]],
    then: tuple[frozenset[str] | None, frozenset[str]],
) -> tuple[frozenset[str] | None, frozenset[str]]:
    """(changed, removed) of two successive deltas as one: for a consumer that skipped one."""
    (c1, r1), (c2, r2) = first, then
    if c1 is None or c2 is None:
        return None, frozenset()
    return (c1 - r2) | c2, (r1 - c2) | r2


@dataclass(frozen=True, slots=True)
class PodDetails:
    conditions: list[dict[str, Any]]  # type, status, reason, message, last_transition
    events: list[dict[str, Any]]  # type, reason, message, count, last_seen (oldest first)
    containers: list[dict[str, Any]]
    row: PodRow | None = None
    raw: dict[str, Any] = field(default_factory=dict)  # the pod as the API returned it


def parse_time(value: Any) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def _terminated_reason(term: dict[str, Any], prefix: str = "") -> str:
    if term.get("reason"):
        return prefix + term["reason"]
    if term.get("signal"):
        return f"{prefix}Signal:{term['signal']}"
    return f"{prefix}ExitCode:{term.get('exitCode', 0)}"


def _terminated_detail(term: dict[str, Any]) -> str:
    parts = [f"exit code {term.get('exitCode', 0)}"]
    if term.get("signal"):
        parts.append(f"signal {term['signal']}")
    if term.get("message"):
        parts.append(str(term["message"]).strip())
    return ", ".join(parts)


def _condition_true(conditions: list[dict[str, Any]], ctype: str) -> bool:
    return any(c.get("type") == ctype and c.get("status") == "True" for c in conditions)


@dataclass(slots=True)
class _Acc:
    """Running state of printPod's loops."""

    reason: str
    detail: str
    ready: int = 0
    restarts: int = 0
    last_restart: str = ""  # RFC 3339 strings of one format compare like times
    last_exit: str = ""

    def restarted(self, cs: dict[str, Any]) -> None:
        self.restarts += int(cs.get("restartCount") or 0)
        last = (cs.get("lastState") or {}).get("terminated")
        if last and (last.get("finishedAt") or "") > self.last_restart:
            self.last_restart = last.get("finishedAt") or ""
            self.last_exit = last.get("reason") or _terminated_reason(last)


def pod_row(pod: dict[str, Any]) -> PodRow:
    meta = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    st = pod.get("status") or {}
    phase = st.get("phase") or ""
    conditions = st.get("conditions") or []
    acc = _Acc(st.get("reason") or phase, st.get("message") or "")
    for c in conditions:
        if c.get("type") == "PodScheduled" and c.get("reason") == "SchedulingGated":
            acc.reason = "SchedulingGated"
    total = len(spec.get("containers") or [])
    sidecars = {
        c.get("name")
        for c in spec.get("initContainers") or []
        if c.get("restartPolicy") == "Always"
    }
    total += len(sidecars)
    n_init = len(spec.get("initContainers") or [])

    # Init containers: the first one not done decides the STATUS.
    sidecar_acc = _Acc("", "")
    initializing = False
    for i, cs in enumerate(st.get("initContainerStatuses") or []):
        acc.restarted(cs)
        is_sidecar = cs.get("name") in sidecars
        if is_sidecar:
            sidecar_acc.restarted(cs)
        state = cs.get("state") or {}
        term, waiting = state.get("terminated"), state.get("waiting")
        if term is not None and term.get("exitCode", 0) == 0:
            continue
        if is_sidecar and cs.get("started"):
            acc.ready += bool(cs.get("ready"))
            continue
        initializing = True
        if term is not None:
            acc.reason, acc.detail = _terminated_reason(term, "Init:"), _terminated_detail(term)
        elif (
            waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing"
        ):
            acc.reason, acc.detail = "Init:" + waiting["reason"], waiting.get("message") or ""
        else:
            acc.reason, acc.detail = f"Init:{i}/{n_init}", ""
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        acc.restarts, acc.last_restart = sidecar_acc.restarts, sidecar_acc.last_restart
        acc.last_exit = sidecar_acc.last_exit
        has_running = False
        for cs in reversed(st.get("containerStatuses") or []):
            acc.restarted(cs)
            state = cs.get("state") or {}
            waiting, term = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                acc.reason, acc.detail = waiting["reason"], waiting.get("message") or ""
            elif term is not None:
                acc.reason, acc.detail = _terminated_reason(term), _terminated_detail(term)
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                acc.ready += 1
        if acc.reason == "Completed" and has_running:
            acc.reason = "Running" if _condition_true(conditions, "Ready") else "NotReady"

    if meta.get("deletionTimestamp"):
        if st.get("reason") == NODE_LOST:
            acc.reason = "Unknown"
        elif phase not in ("Succeeded", "Failed"):
            acc.reason = "Terminating"
    if acc.reason in ("CrashLoopBackOff", "Init:CrashLoopBackOff") and acc.last_exit:
        acc.detail = f"last exit: {acc.last_exit}" + (f"; {acc.detail}" if acc.detail else "")

    owner_kind, owner_name = controller_of(pod) or ("", "")
    healthy = (acc.reason == "Running" and acc.ready == total and total > 0) or phase == "Succeeded"
    return PodRow(
        uid=meta.get("uid") or f"{meta.get('namespace', '')}/{meta.get('name', '')}",
        namespace=meta.get("namespace") or "",
        name=meta.get("name") or "",
        ready=f"{acc.ready}/{total}",
        status=acc.reason or "Unknown",
        restarts=acc.restarts,
        last_restart_at=parse_time(acc.last_restart),
        created_at=parse_time(meta.get("creationTimestamp")),
        node=spec.get("nodeName") or "",
        owner_kind=owner_kind,
        owner_name=owner_name,
        labels=dict(meta.get("labels") or {}),
        healthy=healthy,
        phase=phase,
        reason_detail=acc.detail,
        last_exit_reason=acc.last_exit,
    )


def controller_of(obj: dict[str, Any]) -> tuple[str, str] | None:
    """(kind, name) of the object's controller: the ownerReference marked controller, else the
    first one (what kubectl shows as "Controlled By"); None for an object nobody owns."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    return (str(ref.get("kind") or ""), str(ref.get("name") or "")) if ref else None


# Kubernetes' random suffixes use consonants and digits only (no vowels), which tells
# "checkout-api-59965679df-d8d2v" (Deployment checkout-api) from a name like "redis-cache".
_RAND = "[bcdfghjklmnpqrstvwxz2456789]"
_WORKLOAD = re.compile(rf"^(.+?)(?:-{_RAND}{{6,10}}-{_RAND}{{5}}|-{_RAND}{{5}}|-\d+)$")


def workload_of(pod_name: str) -> str:
    """The workload a pod belongs to, read from its name as controllers make them: a
    Deployment's pod, a StatefulSet's (-0, -1) or a DaemonSet's; the name itself otherwise."""
    m = _WORKLOAD.match(pod_name)
    return m.group(1) if m else pod_name


def sort_key(row: PodRow) -> tuple[bool, str, str]:
    """Unhealthy first, then namespace/name."""
    return (row.healthy, row.namespace, row.name)


def sorted_rows(rows: Iterable[PodRow]) -> list[PodRow]:
    return sorted(rows, key=sort_key)


def summarize(
    rows: Collection[PodRow], namespaces: Iterable[str], unhealthy: int | None = None
) -> str:
    """ "3/42 unhealthy in 2 namespaces"; with ["*"]: "... in all namespaces". `unhealthy`,
    when the caller keeps the count, saves a pass over every row."""
    bad = sum(not r.healthy for r in rows) if unhealthy is None else unhealthy
    ns = list(namespaces)
    if "*" in ns:
        where = "all namespaces"
    else:
        n = len(ns) or len({r.namespace for r in rows})
        where = f"{n} namespace{'s' if n != 1 else ''}"
    return f"{bad}/{len(rows)} unhealthy in {where}"


# --- describe (what kubectl describe pod shows, as data) --------------------------------------


def pod_details(pod: dict[str, Any], events: list[dict[str, Any]]) -> PodDetails:
    st = pod.get("status") or {}
    conditions = [
        {
            "type": c.get("type", ""),
            "status": c.get("status", ""),
            "reason": c.get("reason", ""),
            "message": c.get("message", ""),
            "last_transition": parse_time(c.get("lastTransitionTime")),
        }
        for c in st.get("conditions") or []
    ]
    spec = pod.get("spec") or {}
    containers = [
        _container(c, st.get("initContainerStatuses") or [], True)
        for c in spec.get("initContainers") or []
    ] + [
        _container(c, st.get("containerStatuses") or [], False)
        for c in spec.get("containers") or []
    ]
    out = sorted((_event(e) for e in events), key=lambda e: e["last_seen"] or _EPOCH)
    return PodDetails(conditions, out, containers, pod_row(pod), pod)


def _event(e: dict[str, Any]) -> dict[str, Any]:
    series = e.get("series") or {}
    last = (
        parse_time(e.get("lastTimestamp"))
        or parse_time(series.get("lastObservedTime"))
        or parse_time(e.get("eventTime"))
        or parse_time(e.get("firstTimestamp"))
    )
    return {
        "type": e.get("type", ""),
        "reason": e.get("reason", ""),
        "message": e.get("message") or e.get("note") or "",
        "count": int(e.get("count") or series.get("count") or 1),
        "last_seen": last,
        "first_seen": parse_time(e.get("firstTimestamp")) or parse_time(e.get("eventTime")),
        "source": (e.get("source") or {}).get("component") or e.get("reportingComponent") or "",
    }


def _state(state: dict[str, Any]) -> dict[str, Any]:
    for name in ("running", "waiting", "terminated"):
        s = state.get(name)
        if s is not None:
            return {
                "state": name,
                "reason": s.get("reason", ""),
                "message": s.get("message", ""),
                "exit_code": s.get("exitCode"),
                "started_at": parse_time(s.get("startedAt")),
                "finished_at": parse_time(s.get("finishedAt")),
            }
    return {"state": "unknown", "reason": "", "message": "", "exit_code": None}


def _container(c: dict[str, Any], statuses: list[dict[str, Any]], init: bool) -> dict[str, Any]:
    cs = next((s for s in statuses if s.get("name") == c.get("name")), {})
    last = (cs.get("lastState") or {}) if cs else {}
    return {
        "name": c.get("name", ""),
        "image": c.get("image", ""),
        "init": init,
        "ready": bool(cs.get("ready")),
        "restarts": int(cs.get("restartCount") or 0),
        **_state(cs.get("state") or {}),
        "last_state": _state(last) if last else None,
    }
