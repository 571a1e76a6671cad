"""Collect one evidence bundle: the cluster, Prometheus, Alertmanager and the timeline, sealed.

Cancel (the `cancel` event, or the task being cancelled) is heard at any await, a stalled log
read included: the partial folder is removed and a SYSTEM event "Evidence collection ...
cancelled by <actor>; nothing was kept" is recorded, so the timeline still shows that someone
started a collection and stopped it. Once the archive is renamed into place the bundle is
sealed: the EVIDENCE event follows with no await in between (one fsynced append on the calling
loop), so a late cancel can never leave a bundle without its event or an event without its
bundle.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from warroom.actions.evidence.bundle import (
    FORMAT,
    MANIFEST,
    Bundle,
    FileWriter,
    archive,
    collector,
    fsync_dir,
    new_folder,
    plural,
)
from warroom.actions.evidence.kube_reads import ApiClientFactory, collect_kube
from warroom.actions.evidence.leads import Lead
from warroom.actions.evidence.limits import EvidenceLimits
from warroom.actions.evidence.progress import Progress
from warroom.model import Event, Kind, format_ts, utcnow
from warroom.report import to_json
from warroom.trust.anchors import head_of

if TYPE_CHECKING:
    from warroom.checks import CheckSpec
    from warroom.room import WarRoom
    from warroom.sources.alertmanager import AlertmanagerSource
    from warroom.sources.prometheus import PrometheusSource


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


def _write_metrics(b: Bundle, prometheus: PrometheusSource, snap: dict[str, Any]) -> None:
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


def _write_timeline(b: Bundle, store: Any) -> dict[str, Any]:
    events = store.events()
    red = b.redactor()
    text, _ = red.redact(to_json(events))
    w = FileWriter(b.folder / "timeline.json")
    try:
        w.write(text.encode("utf-8"))
    finally:
        w.close()
    head = head_of(events)  # the manifest's anchor: the record as it stood when sealed
    span = f"events 1..{head['seq']}, head {head['hash']}" if head else "no events"
    b.entry("timeline.json", w, f"warroom timeline {store.incident_id} ({span})", red)
    return head or {}


@dataclass(frozen=True)
class EvidenceRequest:
    """What to collect. `pod=None`: incident-wide, the suspect pods of `namespace`."""

    namespace: str
    pod: str | None = None
    limits: EvidenceLimits = field(default_factory=EvidenceLimits)
    redact_extra: tuple[str, ...] = ()  # our own credentials: redacted wherever they turn up
    keep_folder: bool = False  # keep the loose folder beside the archive (tests)
    # What the failing checks and firing alerts point at (incident-wide only): their pods are
    # collected even when every pod looks healthy (leads.py).
    leads: tuple[Lead, ...] = ()


@dataclass(frozen=True)
class EvidenceSources:
    """Where it comes from; any may be missing (the manifest says what was skipped)."""

    kube: ApiClientFactory | None = None  # -> a kubernetes.aio ApiClient; closed after use
    prometheus: PrometheusSource | None = None
    checks: Sequence[CheckSpec] = ()
    alertmanager: AlertmanagerSource | None = None


async def collect_evidence(
    room: WarRoom,
    request: EvidenceRequest,
    sources: EvidenceSources,
    *,
    progress: Callable[[float, str], None] | None = None,
    cancel: asyncio.Event | None = None,
) -> BundleResult:
    """Collect, seal and record one evidence bundle (see the package doc) on the room's
    timeline, as the room's actor. Incident-wide collections take every unhealthy (or
    recently restarted) pod of the namespace, worst first, at most limits.max_pods, plus
    their owners. Raises EvidenceCancelled when `cancel` is set before the bundle is sealed."""
    run = _Run(room, request, sources, Progress(progress))
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


class _Run:
    def __init__(
        self, room: WarRoom, request: EvidenceRequest, sources: EvidenceSources, prog: Progress
    ) -> None:
        self.room, self.store = room, room.store
        self.actor = room.actor
        self.namespace, self.pod, self.limits = request.namespace, request.pod, request.limits
        self.leads = request.leads
        self.keep_folder = request.keep_folder
        self.extra = list(request.redact_extra)
        self.factory, self.prometheus = sources.kube, sources.prometheus
        self.check_specs, self.alertmanager = list(sources.checks), sources.alertmanager
        self.progress = prog
        self.cancel_event: Event | None = None

    async def collect(self) -> BundleResult:
        started = utcnow()
        evidence_dir = self.store.evidence_dir
        folder = new_folder(evidence_dir, self.store.incident_id, started, self.pod)
        part = evidence_dir / f"{folder.name}.tar.gz.part"
        b = Bundle(folder, self.extra)
        abort = threading.Event()
        tasks: list[asyncio.Future[Any]] = []
        try:
            tasks = self._start_sources(b)
            scope = await self._gather(b, tasks)
            manifest = self._manifest(b, scope, started)
            manifest_bytes = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
            w = FileWriter(folder / MANIFEST)
            try:
                w.write(manifest_bytes)
            finally:
                w.close()
            self.progress.step("manifest")
            self.progress.report(self.progress.last, "archiving")
            sha, size = await asyncio.to_thread(archive, folder, part, abort)
            tar_path = evidence_dir / f"{folder.name}.tar.gz"
            os.replace(part, tar_path)
            fsync_dir(evidence_dir)
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
        pods = len(scope["pods"])
        label = self.pod or f"{self.namespace} ({plural(pods, 'pod')})"
        n_fail = len(b.failures)
        text = f"Evidence bundle {label}: {plural(len(b.files), 'file')}, sha256 {sha[:12]}…, " + (
            plural(n_fail, "failure") if n_fail else "no failures"
        )
        if not pods:  # says so, and preserves nothing of the pods: no checklist tick
            text += "; no pod data (no unhealthy pod, none behind a failing check or alert)"
        data = {
            "bundle": tar_path.name,
            "sha256": sha,
            "size": size,
            "files": len(b.files),
            "failures": n_fail,
            "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
            "namespace": self.namespace,
            "pod": self.pod,
            "pods": pods,
            "redactions": manifest["redactions"],
            "anchor": manifest["timeline_head"] or None,
        }
        ev = self.room.record(Kind.EVIDENCE, text, data, source=self.actor)
        self.progress.report(1.0, "evidence recorded")
        return BundleResult(tar_path, sha, manifest, list(b.failures), ev)

    def _start_sources(self, b: Bundle) -> list[asyncio.Future[Any]]:
        """Metrics (blocking client: a thread) and alerts run while the cluster is read."""
        tasks: list[asyncio.Future[Any]] = []
        if self.prometheus is not None and self.check_specs:
            from warroom.actions.evidence.metrics import capture_metric_snapshots

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

    async def _gather(self, b: Bundle, tasks: list[asyncio.Future[Any]]) -> dict[str, Any]:
        scope: dict[str, Any] = {
            "namespace": self.namespace,
            "pod": self.pod,
            "pods": [],
            "owners": [],
        }
        await collect_kube(
            b, self.factory, self.namespace, self.pod, self.limits, self.progress, scope, self.leads
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

    def _manifest(self, b: Bundle, scope: dict[str, Any], started: datetime) -> dict[str, Any]:
        head = scope.pop("timeline_head")
        return {
            "format": FORMAT,
            "bundle": b.folder.name,
            "incident": self.store.incident_id,
            "scope": scope,
            "collector": collector(self.actor),
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
            return self.room.record(
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
