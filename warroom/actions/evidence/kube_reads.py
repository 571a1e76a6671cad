"""What the cluster says, into the bundle: pods (objects, current and previous logs, events)
and the owners above them, up to the workload. Every artifact is read on its own: a 404, a 403
or a timeout becomes a failure in the manifest and the rest goes on.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from warroom.actions.evidence.bundle import Bundle, safe_name
from warroom.actions.evidence.leads import Lead, pods_behind
from warroom.actions.evidence.limits import EvidenceLimits
from warroom.actions.evidence.logs import LogSink, stream_log
from warroom.actions.evidence.progress import Progress
from warroom.model import utcnow
from warroom.pods import controller_of, pod_row
from warroom.sources.kube_api import read_json, status_error

NEWEST_RETRIES = 2  # further reads of a log whose newest lines the byte cap cut off
RECENT_RESTART = timedelta(hours=1)  # incident-wide: a pod restarted this recently is suspect
ApiClientFactory = Callable[[], Any]  # -> kubernetes.aio ApiClient, or an awaitable of one

_OWNERS: dict[str, tuple[str, str, str]] = {
    "ReplicaSet": ("AppsV1Api", "read_namespaced_replica_set", "apis/apps/v1/%s/replicasets"),
    "Deployment": ("AppsV1Api", "read_namespaced_deployment", "apis/apps/v1/%s/deployments"),
    "StatefulSet": ("AppsV1Api", "read_namespaced_stateful_set", "apis/apps/v1/%s/statefulsets"),
    "DaemonSet": ("AppsV1Api", "read_namespaced_daemon_set", "apis/apps/v1/%s/daemonsets"),
    "Job": ("BatchV1Api", "read_namespaced_job", "apis/batch/v1/%s/jobs"),
    "CronJob": ("BatchV1Api", "read_namespaced_cron_job", "apis/batch/v1/%s/cronjobs"),
}


class KubeReader:
    def __init__(self, api: Any, namespace: str, limits: EvidenceLimits) -> None:
        from kubernetes.aio import client

        self.api, self.ns, self.limits = api, namespace, limits
        self.core = client.CoreV1Api(api)
        self._apis: dict[str, Any] = {}

    def group_api(self, name: str) -> Any:
        """AppsV1Api / BatchV1Api on first use: each costs an import of ~0.1-0.5 s."""
        if name not in self._apis:
            from kubernetes.aio import client

            self._apis[name] = getattr(client, name)(self.api)
        return self._apis[name]

    @property
    def nspath(self) -> str:
        return f"namespaces/{self.ns}"

    async def open(self, call: Callable[..., Awaitable[Any]], *args: Any, **kw: Any) -> Any:
        resp = await call(*args, _request_timeout=self.limits.request_timeout, **kw)
        if resp.status != 200:
            try:
                raw = await resp.content.read(64 * 1024)
            finally:
                resp.close()
            raise status_error(resp.status, str(resp.reason or ""), raw)
        return resp

    async def json(self, call: Callable[..., Awaitable[Any]], *args: Any, **kw: Any) -> Any:
        return await read_json(await self.open(call, *args, **kw))

    async def services(self) -> list[dict[str, Any]]:
        body = await self.json(self.core.list_namespaced_service_without_preload_content, self.ns)
        return list(body.get("items") or [])

    async def pods(self) -> list[dict[str, Any]]:
        body = await self.json(self.core.list_namespaced_pod_without_preload_content, self.ns)
        return list(body.get("items") or [])

    async def pod(self, name: str) -> dict[str, Any]:
        return await self.json(self.core.read_namespaced_pod_without_preload_content, name, self.ns)

    async def events(self, kind: str, name: str) -> Any:
        sel = f"involvedObject.name={name},involvedObject.kind={kind}"
        return await self.json(
            self.core.list_namespaced_event_without_preload_content, self.ns, field_selector=sel
        )

    async def owner(self, kind: str, name: str) -> dict[str, Any]:
        api, method, _ = _OWNERS[kind]
        call = getattr(self.group_api(api), f"{method}_without_preload_content")
        return await self.json(call, name, self.ns)

    async def log(self, pod: str, container: str, previous: bool, tail: int) -> Any:
        return await self.open(
            self.core.read_namespaced_pod_log_without_preload_content,
            pod,
            self.ns,
            container=container,
            previous=previous or None,
            tail_lines=tail,
            limit_bytes=self.limits.max_log_bytes,
            timestamps=True,
        )

    def log_source(self, pod: str, container: str, previous: bool, tail: int) -> str:
        q = f"container={container}"
        if previous:
            q += "&previous=true"
        q += f"&tailLines={tail}&limitBytes={self.limits.max_log_bytes}"
        return f"GET /api/v1/{self.nspath}/pods/{pod}/log?{q}&timestamps=true"


def _suspect_pods(
    items: list[dict[str, Any]], now: datetime, behind: dict[str, list[str]]
) -> list[dict[str, Any]]:
    """Unhealthy pods, pods restarted within RECENT_RESTART and pods the failing checks and
    firing alerts point at: unhealthy first, then the pointed-at, then the most restarted."""
    scored = []
    for p in items:
        row = pod_row(p)
        recent = row.last_restart_at is not None and now - row.last_restart_at < RECENT_RESTART
        pointed = row.name in behind
        if not row.healthy or recent or pointed:
            scored.append(((row.healthy, not pointed, -row.restarts, row.name), p))
    return [p for _, p in sorted(scored, key=lambda x: x[0])]


async def _pods_behind_leads(
    b: Bundle, k: KubeReader, leads: tuple[Lead, ...], items: list[dict[str, Any]]
) -> dict[str, list[str]]:
    if not leads:
        return {}
    services: list[dict[str, Any]] = []
    if any(lead.kind == "service" for lead in leads):
        try:
            services = await k.services()
        except Exception as e:  # pods by label and name still count
            b.fail(f"services in {k.ns}", e)
    return pods_behind(leads, items, services)


def _pod_summary(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for p in items:
        r = pod_row(p)
        out.append(
            {
                "name": r.name,
                "status": r.status,
                "ready": r.ready,
                "restarts": r.restarts,
                "healthy": r.healthy,
                "node": r.node,
                "owner": f"{r.owner_kind}/{r.owner_name}" if r.owner_kind else "",
                "detail": r.reason_detail,
            }
        )
    return out


async def _collect_pod(
    b: Bundle, k: KubeReader, name: str, obj: dict[str, Any] | None, prog: Progress, source: str
) -> tuple[str, str] | None:
    """One pod's object, logs and events; returns its controller (kind, name)."""
    base = f"pods/{safe_name(name)}"
    if obj is None:
        source = f"GET /api/v1/{k.nspath}/pods/{name}"
        try:
            obj = await k.pod(name)
        except Exception as e:
            b.fail(f"pod {k.ns}/{name}", e)
    if obj is not None:
        b.add_json(f"{base}/pod.json", obj, source)
    prog.step(f"{name}: pod")
    containers: list[tuple[str, bool]] = []  # (name, restarted)
    if obj is not None:
        spec, st = obj.get("spec") or {}, obj.get("status") or {}
        statuses = {
            s.get("name"): s
            for s in (st.get("initContainerStatuses") or []) + (st.get("containerStatuses") or [])
        }
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            s = statuses.get(c.get("name")) or {}
            restarted = bool(s.get("restartCount")) or "terminated" in (s.get("lastState") or {})
            containers.append((str(c.get("name")), restarted))
        prog.plan(len(containers) + sum(r for _, r in containers))
    for cname, restarted in containers:
        for previous in (False, True) if restarted else (False,):
            suffix = ".previous.log" if previous else ".log"
            rel = f"{base}/logs/{safe_name(cname)}{suffix}"
            what = f"{'previous ' if previous else ''}log of {k.ns}/{name}/{cname}"
            try:
                got = await _newest_log(b, k, rel, name, cname, previous)
            except Exception as e:
                b.fail(what, e)
            else:
                sink, error, tail = got
                b.entry(
                    rel,
                    sink.w,
                    k.log_source(name, cname, previous, tail),
                    sink.red,
                    container=cname,
                    previous=previous,
                    lines=sink.lines,
                    truncated=sink.truncated,
                )
                if error is not None:
                    b.fail(f"{what} (cut short, kept what arrived)", error)
            prog.step(f"{name}: {what.split(' of ')[0]} {cname}")
    await _collect_events(b, k, "Pod", name, f"{base}/events.json")
    prog.step(f"{name}: events")
    return controller_of(obj) if obj is not None else None


async def _newest_log(
    b: Bundle, k: KubeReader, rel: str, pod: str, container: str, previous: bool
) -> tuple[LogSink, Exception | None, int]:
    """The newest lines that fit both caps. The API applies limitBytes from the start of the
    tailLines window, so when the last max_log_lines lines weigh more than max_log_bytes the
    first read keeps the oldest of them and loses the newest (where the panic is). Then ask
    again for as many lines as fit at the size seen, up to NEWEST_RETRIES times."""
    tail = k.limits.max_log_lines
    for attempt in range(NEWEST_RETRIES + 1):
        sink, error = await stream_log(
            b, rel, await k.log(pod, container, previous, tail), k.limits
        )
        cut_by_bytes = sink.truncated == "bytes" or sink.bytes_in >= k.limits.max_log_bytes
        if error is not None or not cut_by_bytes or sink.lines_in == 0:
            break
        per_line = sink.bytes_in / sink.lines_in
        fits = int(k.limits.max_log_bytes / per_line * 0.9)
        if attempt == NEWEST_RETRIES or not 0 < fits < tail:
            break
        tail = fits
        (b.folder / rel).unlink()
    return sink, error, tail


async def _collect_events(b: Bundle, k: KubeReader, kind: str, name: str, rel: str) -> None:
    sel = f"involvedObject.name={name},involvedObject.kind={kind}"
    try:
        events = await k.events(kind, name)
    except Exception as e:
        b.fail(f"events of {kind} {k.ns}/{name}", e)
        return
    b.add_json(rel, events, f"GET /api/v1/{k.nspath}/events?fieldSelector={sel}")


async def _collect_owners(
    b: Bundle, k: KubeReader, owners: list[tuple[str, str]], prog: Progress
) -> list[str]:
    seen: set[tuple[str, str]] = set()
    queue = list(owners)
    collected = []
    while queue:
        kind, name = queue.pop(0)
        if (kind, name) in seen:
            continue
        seen.add((kind, name))
        if kind not in _OWNERS:
            b.skipped.append(f"owner {kind}/{name}: kind not collected")
            continue
        prog.plan(2)
        rel = f"owners/{safe_name(kind)}-{safe_name(name)}"
        source = f"GET /{_OWNERS[kind][2] % k.nspath}/{name}"
        try:
            obj = await k.owner(kind, name)
        except Exception as e:
            b.fail(f"{kind} {k.ns}/{name}", e)
            obj = None
        if obj is not None:
            b.add_json(f"{rel}.json", obj, source)
            collected.append(f"{kind}/{name}")
            up = controller_of(obj)
            if up:
                queue.append(up)
        prog.step(f"{kind} {name}")
        await _collect_events(b, k, kind, name, f"{rel}.events.json")
        prog.step(f"{kind} {name}: events")
    return collected


async def _client(factory: ApiClientFactory) -> Any:
    api = factory()
    if inspect.isawaitable(api):
        api = await api
    return api


def _own_secrets(api: Any) -> list[str]:
    """The client's own credentials: never written, whatever the caller passed."""
    cfg = getattr(api, "configuration", None)
    out = []
    for v in (getattr(cfg, "api_key", None) or {}).values():
        if isinstance(v, str) and v:
            out.append(v.removeprefix("Bearer ").strip())
    for attr in ("password",):
        v = getattr(cfg, attr, None)
        if isinstance(v, str) and v:
            out.append(v)
    return out


async def collect_kube(
    b: Bundle,
    factory: ApiClientFactory | None,
    namespace: str,
    pod: str | None,
    limits: EvidenceLimits,
    prog: Progress,
    scope: dict[str, Any],
    leads: tuple[Lead, ...] = (),
) -> None:
    if factory is None:
        if pod:
            b.fail(f"pod {namespace}/{pod}", "no Kubernetes client configured")
        else:
            b.skipped.append("kubernetes: no client configured")
        return
    try:
        api = await _client(factory)
    except Exception as e:
        b.fail("kubernetes client", e)
        return
    try:
        b.extra.extend(_own_secrets(api))
        k = KubeReader(api, namespace, limits)
        if pod:
            targets: list[tuple[str, dict[str, Any] | None, str]] = [(pod, None, "")]
        else:
            prog.plan(1)
            try:
                items = await k.pods()
            except Exception as e:
                b.fail(f"pods in {namespace}", e)
                return
            listed = f"GET /api/v1/{k.nspath}/pods"
            b.add_json("pods.json", _pod_summary(items), listed + " (summary)")
            prog.step("pods listed")
            behind = await _pods_behind_leads(b, k, leads, items)
            scope["leads"] = behind
            suspects = _suspect_pods(items, utcnow(), behind)
            chosen, rest = suspects[: limits.max_pods], suspects[limits.max_pods :]
            scope["pods_skipped"] = [p["metadata"]["name"] for p in rest]
            if rest:
                more = f"{len(rest)} more suspect pod(s)"
                b.skipped.append(f"{more} beyond max_pods={limits.max_pods}")
            if not suspects:
                b.skipped.append(
                    f"no unhealthy pod in {namespace}, and none behind a failing check or a "
                    "firing alert"
                )
            targets = [(p["metadata"]["name"], p, listed) for p in chosen]
        scope["pods"] = [t[0] for t in targets]
        prog.plan(2 * len(targets))
        owners = []
        for name, obj, source in targets:
            owner = await _collect_pod(b, k, name, obj, prog, source)
            if owner and owner not in owners:
                owners.append(owner)
        scope["owners"] = await _collect_owners(b, k, owners, prog)
    finally:
        with contextlib.suppress(Exception):
            await api.close()
