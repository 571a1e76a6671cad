"""Evidence bundles: what the cluster, Prometheus, Alertmanager and the timeline said, sealed.

`collect_evidence` writes a folder under the incident's evidence dir (dirs 0700, files 0600):

  <incident>-<UTC stamp>[-<pod>]/
    manifest.json                    per file: sha256, size, source, time, redactions; who, where
    pods.json                        incident-wide only: every pod's status at collection time
    pods/<pod>/pod.json              the pod object
    pods/<pod>/logs/<c>.log          current run of container c (bounded, redacted while streaming)
    pods/<pod>/logs/<c>.previous.log the run before (only for containers that restarted)
    pods/<pod>/events.json           events of the pod (involvedObject.name)
    owners/<Kind>-<name>.json        ReplicaSet -> Deployment, StatefulSet, DaemonSet, Job
    owners/<Kind>-<name>.events.json
    metrics.json                     range data of every health check (capture_metric_snapshots)
    alerts.json                      Alertmanager's alerts (firing and suppressed)
    timeline.json                    report.to_json of the timeline so far

then archives it to `<folder>.tar.gz` (0600, fsynced, renamed into place) and records its sha256
and the manifest's on the timeline as a Kind.EVIDENCE event: who, when, what, hash.

Choices:
- The folder is removed after archiving (keep_folder=False), as the seed procedure does: the
  archive is the one artifact whose hash is on the timeline; a loose copy beside it could be
  edited and mistaken for the evidence, and doubles the disk used by logs.
- Cancel (the `cancel` event, or the task being cancelled) is heard at any await, a stalled
  log read included: the partial folder is removed and a SYSTEM event "Evidence collection ...
  cancelled by <actor>; nothing was kept" is recorded, so the timeline still shows that someone
  started a collection and stopped it. `EvidenceCancelled` is raised (CancelledError when the
  task itself was cancelled). Once the archive is renamed into place the bundle is sealed: the
  EVIDENCE event follows with no await in between (one fsynced append on the calling loop), so
  a late cancel can never leave a bundle without its event or an event without its bundle.
- Partial failure is normal: every artifact is collected on its own; a 404/403/400, a timeout,
  Prometheus or Alertmanager down each become `failures: [{what, error}]` in the manifest.
- Logs are read with `*_without_preload_content` in chunks and written as they come: tailLines
  and limitBytes ask the server for the bound, and the same bound is enforced here too (servers
  may overshoot, "slightly more or slightly less" says the API), cutting at a line boundary and
  closing the connection. Lines are counted as the server sent them, bytes as written.
- The newest lines win: the API applies limitBytes from the start of the tailLines window, so
  a log whose last max_log_lines lines outweigh max_log_bytes is read again asking for as many
  lines as fit (`_newest_log`); the crash at the end of a log is what a responder needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import getpass
import hashlib
import inspect
import json
import os
import re
import shutil
import socket
import tarfile
import threading
import zlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warroom.actions.redact import Redactor, redact, redact_json
from warroom.model import Event, Kind, format_ts, utcnow
from warroom.report import to_json
from warroom.sources.kube_status import pod_row

if TYPE_CHECKING:
    from warroom.health import CheckSpec
    from warroom.settings import EvidenceSettings
    from warroom.sources.alertmanager import AlertmanagerSource
    from warroom.sources.prometheus import PrometheusSource

__all__ = [
    "BundleResult",
    "EvidenceCancelled",
    "EvidenceLimits",
    "collect_evidence",
    "list_bundles",
    "verify_bundles",
]

FORMAT = "warroom.evidence/v1"
MANIFEST = "manifest.json"
CHUNK = 64 * 1024
MAX_LINE = 1024 * 1024  # a "line" this long without a newline is written in pieces
NEWEST_RETRIES = 2  # further reads of a log whose newest lines the byte cap cut off
RECENT_RESTART = timedelta(hours=1)  # incident-wide: a pod restarted this recently is suspect
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class EvidenceLimits:
    max_log_lines: int = 5000  # per log file
    max_log_bytes: int = 5 * 1024 * 1024  # per log file, after redaction
    max_pods: int = 20  # incident-wide collections: the most suspect pods first
    request_timeout: float = 60.0  # seconds, per Kubernetes request (a whole log stream)
    metric_minutes: float = 30.0  # metric snapshot window

    @classmethod
    def from_settings(cls, s: EvidenceSettings) -> EvidenceLimits:
        return cls(
            max_log_lines=s.max_log_lines,
            max_log_bytes=s.max_log_bytes,
            max_pods=s.max_pods,
            request_timeout=s.request_timeout,
            metric_minutes=s.metric_window.total_seconds() / 60,
        )


@dataclass(frozen=True)
class BundleResult:
    path_tar: Path
    sha256: str
    manifest: dict[str, Any]
    failures: list[dict[str, str]]
    event: Event


class EvidenceCancelled(Exception):
    """Collection stopped on request; nothing was kept. `event` is the SYSTEM event recorded."""

    def __init__(self, event: Event | None) -> None:
        super().__init__("evidence collection cancelled")
        self.event = event


class _HttpError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(f"HTTP {status} {reason}: {message}".rstrip(": "))
        self.status = status


# A WarRoom, or any callable shaped like WarRoom.record(kind, text, data, *, source=...).
Recorder = Callable[..., Event]
ApiClientFactory = Callable[[], Any]  # -> kubernetes.aio ApiClient, or an awaitable of one


# ----- the folder being filled ----------------------------------------------------------------
def _safe(name: str) -> str:
    return _SAFE.sub("_", name).strip("._") or "_"


def _mkdir(path: Path) -> None:
    """Every missing level 0700 (mkdir(parents=True) would make the parents 0777 & ~umask)."""
    if path.is_dir():
        return
    _mkdir(path.parent)
    path.mkdir(mode=0o700, exist_ok=True)
    os.chmod(path, 0o700)  # exact, whatever the umask


class _Writer:
    """One file of the bundle, 0600, hashed while written."""

    def __init__(self, path: Path) -> None:
        _mkdir(path.parent)
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(self.fd, 0o600)
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        if data:
            self.sha.update(data)
            self.size += len(data)
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class _Bundle:
    def __init__(self, folder: Path, extra: Sequence[str]) -> None:
        self.folder = folder
        self.extra = list(extra)
        self.files: list[dict[str, Any]] = []
        self.failures: list[dict[str, str]] = []
        self.skipped: list[str] = []

    def redactor(self) -> Redactor:
        return Redactor(self.extra)

    def fail(self, what: str, error: BaseException | str) -> None:
        msg = error if isinstance(error, str) else _describe(error)
        self.failures.append({"what": what, "error": redact(msg, self.extra)[0][:500]})

    def entry(self, rel: str, w: _Writer, source: str, red: Redactor, **meta: Any) -> None:
        e: dict[str, Any] = {
            "path": rel,
            "sha256": w.sha.hexdigest(),
            "size": w.size,
            "source": redact(source, self.extra)[0],
            "collected_at": format_ts(utcnow()),
            "redactions": red.total,
        }
        if red.total:
            e["redactions_by_rule"] = dict(sorted(red.counts.items()))
        e.update(meta)
        self.files.append(e)

    def add_json(self, rel: str, obj: Any, source: str, **meta: Any) -> None:
        red = self.redactor()
        text, _ = redact_json(obj, red)
        w = _Writer(self.folder / rel)
        try:
            w.write(text.encode("utf-8", "surrogateescape"))
        finally:
            w.close()
        self.entry(rel, w, source, red, **meta)


def _describe(e: BaseException) -> str:
    import aiohttp

    if isinstance(e, _HttpError):
        return str(e)
    if isinstance(e, TimeoutError):
        return "timed out"
    if isinstance(e, aiohttp.ClientError):
        return f"cannot reach the API server: {type(e).__name__}: {e}"
    status = getattr(e, "status", None)  # ApiException from the client or its config loader
    if status is not None:
        return f"HTTP {status} {getattr(e, 'reason', '')}".strip()
    return f"{type(e).__name__}: {e}"


# ----- logs: streamed, bounded, redacted ------------------------------------------------------
class _LogSink:
    """Whole lines in, redacted bytes out to disk, until a cap is hit."""

    def __init__(self, w: _Writer, red: Redactor, max_lines: int, max_bytes: int) -> None:
        self.w, self.red = w, red
        self.max_lines, self.max_bytes = max_lines, max_bytes
        self.lines_in = 0  # lines as the server sent them (the line cap counts these)
        self.bytes_in = 0  # bytes as the server sent them, before redaction
        self.lines = 0  # lines written
        self.truncated: str | None = None

    def emit(self, block: bytes) -> bool:
        """Write a block of whole lines (the last may lack its newline at EOF); True = stop."""
        self.bytes_in += len(block)
        room = self.max_lines - self.lines_in
        if room <= 0:
            self.truncated = "lines"
            return True
        n = block.count(b"\n") + (0 if block.endswith(b"\n") else 1)
        stop = False
        if n > room:
            cut = -1
            for _ in range(room):
                cut = block.index(b"\n", cut + 1)
            block, n, stop, self.truncated = block[: cut + 1], room, True, "lines"
        room_b = self.max_bytes - self.w.size
        if len(block) > room_b + CHUNK:  # don't redact what cannot fit anyway
            block = block[: block.rfind(b"\n", 0, room_b + CHUNK) + 1]
            n, stop, self.truncated = block.count(b"\n"), True, "bytes"
        cp = self.red.checkpoint()
        text, _ = self.red.redact(block.decode("utf-8", "surrogateescape"))
        out = text.encode("utf-8", "surrogateescape")
        if len(out) > room_b:  # redo line by line, so counts cover only what is written
            self.red.rollback(cp)
            out, n = self._fit(block, room_b)
            stop, self.truncated = True, "bytes"
        self.lines_in += n
        self.lines += out.count(b"\n") + (0 if not out or out.endswith(b"\n") else 1)
        self.w.write(out)
        return stop

    def _fit(self, block: bytes, room: int) -> tuple[bytes, int]:
        """Whole redacted lines of `block` that fit in `room` bytes, and how many lines."""
        parts, used, n = [], 0, 0
        text = block.decode("utf-8", "surrogateescape")
        for line in re.findall(r"[^\n]*\n|[^\n]+$", text):
            cp = self.red.checkpoint()
            out = self.red.redact(line)[0].encode("utf-8", "surrogateescape")
            if used + len(out) > room:
                self.red.rollback(cp)
                break
            parts.append(out)
            used += len(out)
            n += 1
        return b"".join(parts), n


async def _stream_log(
    b: _Bundle, rel: str, resp: Any, limits: EvidenceLimits
) -> tuple[_LogSink, Exception | None]:
    """Stream a log response to `rel`. An error mid-stream keeps what arrived and is returned."""
    red = b.redactor()
    w = _Writer(b.folder / rel)
    sink = _LogSink(w, red, limits.max_log_lines, limits.max_log_bytes)
    pending = b""
    error: Exception | None = None
    try:
        async for chunk in resp.content.iter_chunked(CHUNK):
            # A read from a full buffer does not suspend: yield, or a fast stream would hold
            # the loop (and the console's input) until the cap.
            await asyncio.sleep(0)
            buf = pending + chunk if pending else chunk
            cut = buf.rfind(b"\n")
            if cut < 0 and len(buf) < MAX_LINE:
                pending = buf
                continue
            block, pending = (buf, b"") if cut < 0 else (buf[: cut + 1], buf[cut + 1 :])
            if sink.emit(block):
                pending = b""
                break
        if pending:
            sink.emit(pending)
    except Exception as e:
        error = e
        if sink.truncated is None:
            sink.truncated = "error"
    finally:
        w.close()
        resp.close()  # at a cap this drops the connection: the rest is never read
    return sink, error


# ----- Kubernetes -----------------------------------------------------------------------------
_OWNERS: dict[str, tuple[str, str, str]] = {
    "ReplicaSet": ("AppsV1Api", "read_namespaced_replica_set", "apis/apps/v1/%s/replicasets"),
    "Deployment": ("AppsV1Api", "read_namespaced_deployment", "apis/apps/v1/%s/deployments"),
    "StatefulSet": ("AppsV1Api", "read_namespaced_stateful_set", "apis/apps/v1/%s/statefulsets"),
    "DaemonSet": ("AppsV1Api", "read_namespaced_daemon_set", "apis/apps/v1/%s/daemonsets"),
    "Job": ("BatchV1Api", "read_namespaced_job", "apis/batch/v1/%s/jobs"),
    "CronJob": ("BatchV1Api", "read_namespaced_cron_job", "apis/batch/v1/%s/cronjobs"),
}


class _Kube:
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
            try:
                st = json.loads(raw)
                reason, message = str(st.get("reason", "")), str(st.get("message", ""))
            except (ValueError, AttributeError):
                reason, message = str(resp.reason or ""), raw[:200].decode(errors="replace")
            raise _HttpError(resp.status, reason, message)
        return resp

    async def json(self, call: Callable[..., Awaitable[Any]], *args: Any, **kw: Any) -> Any:
        resp = await self.open(call, *args, **kw)
        try:
            return json.loads(await resp.read())
        finally:
            resp.release()

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


def _controller(obj: dict[str, Any]) -> tuple[str, str] | None:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    ref = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
    return (str(ref.get("kind", "")), str(ref.get("name", ""))) if ref else None


def _suspect_pods(items: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """Unhealthy pods and pods restarted within RECENT_RESTART, the worst first."""
    scored = []
    for p in items:
        row = pod_row(p)
        recent = row.last_restart_at is not None and now - row.last_restart_at < RECENT_RESTART
        if not row.healthy or recent:
            scored.append(((row.healthy, -row.restarts, row.name), p))
    return [p for _, p in sorted(scored, key=lambda x: x[0])]


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


class _Progress:
    def __init__(self, cb: Callable[[float, str], None] | None) -> None:
        self.cb, self.total, self.done, self.last = cb, 1, 0, 0.0

    def plan(self, n: int) -> None:
        self.total += n

    def step(self, message: str, n: int = 1) -> None:
        self.done += n
        self.report(min(0.95, self.done / max(self.total, 1)), message)

    def report(self, fraction: float, message: str) -> None:
        self.last = max(self.last, fraction)  # never backwards, even when the plan grows
        if self.cb is not None:
            with contextlib.suppress(Exception):  # a broken progress bar must not lose evidence
                self.cb(self.last, message)


async def _collect_pod(
    b: _Bundle, k: _Kube, name: str, obj: dict[str, Any] | None, prog: _Progress, source: str
) -> tuple[str, str] | None:
    """One pod's object, logs and events; returns its controller (kind, name)."""
    base = f"pods/{_safe(name)}"
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
            rel = f"{base}/logs/{_safe(cname)}{suffix}"
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
    return _controller(obj) if obj is not None else None


async def _newest_log(
    b: _Bundle, k: _Kube, rel: str, pod: str, container: str, previous: bool
) -> tuple[_LogSink, Exception | None, int]:
    """The newest lines that fit both caps. The API applies limitBytes from the start of the
    tailLines window, so when the last max_log_lines lines weigh more than max_log_bytes the
    first read keeps the oldest of them and loses the newest (where the panic is). Then ask
    again for as many lines as fit at the size seen, up to NEWEST_RETRIES times."""
    tail = k.limits.max_log_lines
    for attempt in range(NEWEST_RETRIES + 1):
        sink, error = await _stream_log(
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


async def _collect_events(b: _Bundle, k: _Kube, kind: str, name: str, rel: str) -> None:
    sel = f"involvedObject.name={name},involvedObject.kind={kind}"
    try:
        events = await k.events(kind, name)
    except Exception as e:
        b.fail(f"events of {kind} {k.ns}/{name}", e)
        return
    b.add_json(rel, events, f"GET /api/v1/{k.nspath}/events?fieldSelector={sel}")


async def _collect_owners(
    b: _Bundle, k: _Kube, owners: list[tuple[str, str]], prog: _Progress
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
        rel = f"owners/{_safe(kind)}-{_safe(name)}"
        source = f"GET /{_OWNERS[kind][2] % k.nspath}/{name}"
        try:
            obj = await k.owner(kind, name)
        except Exception as e:
            b.fail(f"{kind} {k.ns}/{name}", e)
            obj = None
        if obj is not None:
            b.add_json(f"{rel}.json", obj, source)
            collected.append(f"{kind}/{name}")
            up = _controller(obj)
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


async def _collect_kube(
    b: _Bundle,
    factory: ApiClientFactory | None,
    namespace: str,
    pod: str | None,
    limits: EvidenceLimits,
    prog: _Progress,
    scope: dict[str, Any],
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
        k = _Kube(api, namespace, limits)
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
            suspects = _suspect_pods(items, utcnow())
            chosen, rest = suspects[: limits.max_pods], suspects[limits.max_pods :]
            scope["pods_skipped"] = [p["metadata"]["name"] for p in rest]
            if rest:
                more = f"{len(rest)} more suspect pod(s)"
                b.skipped.append(f"{more} beyond max_pods={limits.max_pods}")
            if not suspects:
                b.skipped.append(f"no unhealthy pod in {namespace}")
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


# ----- Prometheus, Alertmanager, timeline -------------------------------------------------------
def _write_metrics(b: _Bundle, prometheus: PrometheusSource, snap: dict[str, Any]) -> None:
    b.add_json(
        "metrics.json",
        snap,
        f"{prometheus.url}/api/v1/query_range",
        queries=[c["expr"] for c in snap.get("checks", [])],
    )
    errors = [(c["name"], c["error"]) for c in snap.get("checks", []) if c.get("error")]
    if errors and len(errors) == len(snap.get("checks", [])):
        b.fail(f"metrics from {prometheus.url}", errors[0][1])
    else:
        for name, err in errors:
            b.fail(f"metric {name!r}", err)


def _alerts_doc(snap: Any, url: str) -> dict[str, Any]:
    def alert(a: Any) -> dict[str, Any]:
        d = dataclasses.asdict(a)
        d["starts_at"] = format_ts(a.starts_at) if a.starts_at else None
        return d

    return {
        "source": url,
        "fetched_at": format_ts(snap.fetched_at),
        "alerts": [alert(a) for a in snap.alerts],
        "suppressed": [alert(a) for a in snap.suppressed],
    }


def _write_timeline(b: _Bundle, store: Any) -> dict[str, Any]:
    events = store.events()
    red = b.redactor()
    text, _ = red.redact(to_json(events))
    w = _Writer(b.folder / "timeline.json")
    try:
        w.write(text.encode("utf-8"))
    finally:
        w.close()
    head = {"seq": events[-1].seq, "hash": events[-1].hash} if events else None
    span = f"events 1..{head['seq']}, head {head['hash']}" if head else "no events"
    b.entry("timeline.json", w, f"warroom timeline {store.incident_id} ({span})", red)
    return head or {}


# ----- archive --------------------------------------------------------------------------------
def _member(ti: tarfile.TarInfo) -> tarfile.TarInfo:
    ti.mode = 0o700 if ti.isdir() else 0o600
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    return ti


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


def _archive(folder: Path, part: Path, abort: threading.Event) -> tuple[str, int]:
    """Tar+gzip the folder to `part` (0600, fsynced), the manifest first. Runs in a thread,
    which a cancel cannot stop: `abort` is checked between files and `part` removed."""
    if abort.is_set():
        raise _Aborted
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                tar.add(folder, arcname=folder.name, recursive=False, filter=_member)
                tar.add(folder / MANIFEST, arcname=f"{folder.name}/{MANIFEST}", filter=_member)
                for path in sorted(folder.rglob("*")):
                    if abort.is_set():
                        raise _Aborted
                    if path.name == MANIFEST and path.parent == folder:
                        continue
                    arc = f"{folder.name}/{path.relative_to(folder).as_posix()}"
                    tar.add(path, arcname=arc, recursive=False, filter=_member)
            raw.flush()
            os.fsync(raw.fileno())
        return _sha256_file(part), part.stat().st_size
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        raise


class _Aborted(Exception):
    pass


def _new_folder(evidence_dir: Path, incident_id: str, at: datetime, pod: str | None) -> Path:
    base = f"{incident_id}-{at:%Y%m%dT%H%M%SZ}" + (f"-{_safe(pod)}" if pod else "")
    for n in range(1, 100):
        name = base if n == 1 else f"{base}-{n}"
        path = evidence_dir / name
        if (evidence_dir / f"{name}.tar.gz").exists():
            continue
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(path, 0o700)
        return path
    raise FileExistsError(f"no free bundle name for {base} in {evidence_dir}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _collector(actor: str) -> dict[str, Any]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    try:
        from importlib.metadata import version

        tool = f"warroom {version('warroom')}"
    except Exception:
        tool = "warroom"
    return {
        "actor": actor,
        "host": socket.gethostname(),
        "os_user": user,
        "pid": os.getpid(),
        "tool": tool,
    }


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# ----- the use case ---------------------------------------------------------------------------
async def collect_evidence(
    *,
    store: Any,
    room_or_recorder: Any,
    kube_api_client_factory: ApiClientFactory | None,
    namespace: str,
    pod: str | None = None,
    prometheus: PrometheusSource | None = None,
    check_specs: Sequence[CheckSpec] = (),
    alertmanager: AlertmanagerSource | None = None,
    limits: EvidenceLimits = EvidenceLimits(),
    actor: str,
    progress: Callable[[float, str], None] | None = None,
    cancel: asyncio.Event | None = None,
    redact_extra: Sequence[str] = (),
    keep_folder: bool = False,
) -> BundleResult:
    """Collect, seal and record one evidence bundle (see the module doc). `pod=None` collects
    incident-wide: every unhealthy (or recently restarted) pod of `namespace`, worst first, at
    most limits.max_pods, plus their owners. The ApiClient from the factory is closed here.
    `room_or_recorder`: a WarRoom, or a callable like WarRoom.record(kind, text, data, *,
    source=...). Raises EvidenceCancelled when `cancel` is set before the bundle is sealed."""
    run = _Run(
        store=store,
        record=getattr(room_or_recorder, "record", room_or_recorder),
        factory=kube_api_client_factory,
        namespace=namespace,
        pod=pod,
        prometheus=prometheus,
        check_specs=list(check_specs),
        alertmanager=alertmanager,
        limits=limits,
        actor=actor,
        progress=_Progress(progress),
        extra=list(redact_extra),
        keep_folder=keep_folder,
    )
    body = asyncio.ensure_future(run.collect())
    if cancel is None:
        return await body  # cancelling us cancels it; it cleans up before we return
    waiter = asyncio.ensure_future(cancel.wait())
    try:
        await asyncio.wait({body, waiter}, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        body.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await body  # its cleanup, before our caller sees the cancellation
        raise
    finally:
        waiter.cancel()
    if body.done():
        return body.result()  # finished in the same breath as the cancel: the bundle stands
    body.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await body
    raise EvidenceCancelled(run.cancel_event)


@dataclass
class _Run:
    store: Any
    record: Recorder
    factory: ApiClientFactory | None
    namespace: str
    pod: str | None
    prometheus: PrometheusSource | None
    check_specs: list[CheckSpec]
    alertmanager: AlertmanagerSource | None
    limits: EvidenceLimits
    actor: str
    progress: _Progress
    extra: list[str]
    keep_folder: bool
    cancel_event: Event | None = None

    async def collect(self) -> BundleResult:
        started = utcnow()
        evidence_dir = self.store.evidence_dir
        folder = _new_folder(evidence_dir, self.store.incident_id, started, self.pod)
        part = evidence_dir / f"{folder.name}.tar.gz.part"
        b = _Bundle(folder, self.extra)
        abort = threading.Event()
        tasks: list[asyncio.Future[Any]] = []
        try:
            tasks = self._start_sources(b)
            scope = await self._gather(b, tasks)
            manifest = self._manifest(b, scope, started)
            manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
            w = _Writer(folder / MANIFEST)
            try:
                w.write(manifest_bytes)
            finally:
                w.close()
            self.progress.step("manifest")
            self.progress.report(self.progress.last, "archiving")
            sha, size = await asyncio.to_thread(_archive, folder, part, abort)
            tar_path = evidence_dir / f"{folder.name}.tar.gz"
            os.replace(part, tar_path)
            _fsync_dir(evidence_dir)
        except asyncio.CancelledError:
            abort.set()
            _discard(folder, part)
            self.cancel_event = self._record_cancel(len(b.files))
            raise
        except BaseException:
            abort.set()
            _discard(folder, part)
            raise
        finally:
            for t in tasks:
                t.cancel()
        # Sealed. No await from here on: a cancel cannot split "archived" from "recorded".
        if not self.keep_folder:
            shutil.rmtree(folder, ignore_errors=True)
        label = self.pod or f"{self.namespace} ({_plural(len(scope['pods']), 'pod')})"
        n_fail = len(b.failures)
        text = f"Evidence bundle {label}: {_plural(len(b.files), 'file')}, sha256 {sha[:12]}…, " + (
            _plural(n_fail, "failure") if n_fail else "no failures"
        )
        data = {
            "bundle": tar_path.name,
            "sha256": sha,
            "size": size,
            "files": len(b.files),
            "failures": n_fail,
            "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
            "namespace": self.namespace,
            "pod": self.pod,
            "redactions": manifest["redactions"],
        }
        ev = self.record(Kind.EVIDENCE, text, data, source=self.actor)
        self.progress.report(1.0, "evidence recorded")
        return BundleResult(tar_path, sha, manifest, list(b.failures), ev)

    def _start_sources(self, b: _Bundle) -> list[asyncio.Future[Any]]:
        """Metrics (blocking client: a thread) and alerts run while the cluster is read."""
        tasks: list[asyncio.Future[Any]] = []
        if self.prometheus is not None and self.check_specs:
            from warroom.snapshots import capture_metric_snapshots

            self.progress.plan(1)
            call = (capture_metric_snapshots, self.prometheus, self.check_specs)
            minutes = self.limits.metric_minutes
            tasks.append(asyncio.ensure_future(asyncio.to_thread(*call, minutes)))
        else:
            tasks.append(_none())
            b.skipped.append("metrics: no Prometheus or no health checks configured")
        if self.alertmanager is not None:
            self.progress.plan(1)
            tasks.append(asyncio.ensure_future(self.alertmanager.fetch()))
        else:
            tasks.append(_none())
            b.skipped.append("alerts: no Alertmanager configured")
        self.progress.plan(3)  # timeline, manifest, archive
        self.progress.report(0.0, "collecting evidence")
        return tasks

    async def _gather(self, b: _Bundle, tasks: list[asyncio.Future[Any]]) -> dict[str, Any]:
        scope: dict[str, Any] = {
            "namespace": self.namespace,
            "pod": self.pod,
            "pods": [],
            "owners": [],
        }
        await _collect_kube(
            b, self.factory, self.namespace, self.pod, self.limits, self.progress, scope
        )
        metrics_task, alerts_task = tasks
        if self.prometheus is not None and self.check_specs:
            url = self.prometheus.url
            try:
                _write_metrics(b, self.prometheus, await metrics_task)
            except Exception as e:
                b.fail(f"metrics from {url}", e)
            self.progress.step("metrics")
        if self.alertmanager is not None:
            url = self.alertmanager.url
            try:
                snap = await alerts_task
            except Exception as e:  # fetch() should not raise; be sure
                b.fail(f"alerts from {url}", e)
            else:
                if snap.ok:
                    b.add_json("alerts.json", _alerts_doc(snap, url), f"{url}/api/v2/alerts")
                else:
                    b.fail(f"alerts from {url}", snap.error or "failed")
            self.progress.step("alerts")
        scope["timeline_head"] = _write_timeline(b, self.store)
        self.progress.step("timeline")
        return scope

    def _manifest(self, b: _Bundle, scope: dict[str, Any], started: datetime) -> dict[str, Any]:
        head = scope.pop("timeline_head")
        return {
            "format": FORMAT,
            "bundle": b.folder.name,
            "incident": self.store.incident_id,
            "scope": scope,
            "collector": _collector(self.actor),
            "started_at": format_ts(started),
            "finished_at": format_ts(utcnow()),
            "limits": dataclasses.asdict(self.limits),
            "timeline_head": head,
            "files": b.files,
            "redactions": sum(f["redactions"] for f in b.files),
            "failures": b.failures,
            "skipped": b.skipped,
        }

    def _record_cancel(self, files: int) -> Event | None:
        what = f"{self.namespace}/{self.pod}" if self.pod else self.namespace
        try:
            return self.record(
                Kind.SYSTEM,
                f"Evidence collection for {what} cancelled by {self.actor}; nothing was kept",
                {
                    "evidence": "cancelled",
                    "namespace": self.namespace,
                    "pod": self.pod,
                    "discarded": files,
                },
                source=self.actor,
            )
        except Exception:  # the cancel itself must still go through
            return None


def _none() -> asyncio.Future[Any]:
    f: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    f.set_result(None)
    return f


def _discard(folder: Path, part: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        part.unlink()


# ----- reading back ---------------------------------------------------------------------------
def _bundle_events(store: Any) -> list[Event]:
    return [e for e in store.events() if e.kind == Kind.EVIDENCE and e.data.get("bundle")]


def _bundle_path(store: Any, name: str) -> Path | None:
    if "/" in name or "\\" in name or name in ("", ".", "..") or not name.endswith(".tar.gz"):
        return None
    return store.evidence_dir / name


def list_bundles(store: Any) -> list[dict[str, Any]]:
    """One row per EVIDENCE event, oldest first: for `warroom evidence ID`."""
    rows = []
    for e in _bundle_events(store):
        d = e.data
        path = _bundle_path(store, str(d["bundle"]))
        rows.append(
            {
                "seq": e.seq,
                "time": e.ts,
                "actor": e.actor,
                "bundle": d["bundle"],
                "sha256": d.get("sha256", ""),
                "size": d.get("size"),
                "files": d.get("files"),
                "failures": d.get("failures"),
                "path": str(path) if path else None,
                "present": bool(path and path.is_file()),
            }
        )
    return rows


def verify_bundles(store: Any) -> tuple[list[str], int]:
    """Recompute every recorded bundle: the archive against the timeline's sha256, the manifest
    against the timeline's manifest_sha256, every file against the manifest. Never extracts."""
    problems: list[str] = []
    events = _bundle_events(store)
    for e in events:
        name = str(e.data["bundle"])
        path = _bundle_path(store, name)
        if path is None:
            problems.append(f"bundle {name}: not a bundle file name")
            continue
        if not path.is_file():
            problems.append(f"bundle {name} missing")
            continue
        if _sha256_file(path) != e.data.get("sha256"):
            problems.append(f"bundle {name} sha256 differs from the timeline")
        problems += _verify_contents(name, path, e.data.get("manifest_sha256"))
    return problems, len(events)


def _verify_contents(name: str, path: Path, manifest_sha: str | None) -> list[str]:
    out: list[str] = []
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            top = name.removesuffix(".tar.gz")
            members: dict[str, tarfile.TarInfo] = {}
            for m in tar.getmembers():
                if m.isfile():
                    members[m.name] = m
                elif not m.isdir():  # a link or device never comes out of _archive
                    out.append(f"bundle {name}: unexpected member {m.name}")
            mf = members.pop(f"{top}/{MANIFEST}", None)
            if mf is None:
                return [f"bundle {name}: {MANIFEST} missing"]
            raw = _read_member(tar, mf)
            if manifest_sha and hashlib.sha256(raw).hexdigest() != manifest_sha:
                out.append(f"bundle {name}: {MANIFEST} differs from the timeline")
            try:
                files = json.loads(raw)["files"]
            except (ValueError, KeyError, TypeError):
                return [*out, f"bundle {name}: {MANIFEST} is unreadable"]
            for f in files if isinstance(files, list) else []:
                if not isinstance(f, dict):
                    out.append(f"bundle {name}: {MANIFEST} has a malformed entry")
                    continue
                rel = str(f.get("path", ""))
                m = members.pop(f"{top}/{rel}", None)
                if m is None:
                    out.append(f"bundle {name}: file {rel} missing")
                    continue
                h = hashlib.sha256()
                src = tar.extractfile(m)
                assert src is not None  # a regular file
                for chunk in iter(lambda src=src: src.read(1024 * 1024), b""):
                    h.update(chunk)
                if h.hexdigest() != f.get("sha256") or m.size != f.get("size"):
                    out.append(f"bundle {name}: file {rel} hash mismatch")
            for extra in sorted(members):
                rel = extra.removeprefix(top + "/")
                out.append(f"bundle {name}: file {rel} not in the manifest")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        out.append(f"bundle {name}: unreadable archive ({type(exc).__name__}: {exc})")
    return out


def _read_member(tar: tarfile.TarFile, m: tarfile.TarInfo, cap: int = 64 * 1024 * 1024) -> bytes:
    src = tar.extractfile(m)
    return src.read(cap) if src is not None else b""
