"""`e` collects a sealed evidence bundle while work goes on.

`e` anywhere collects incident-wide (the most suspect pods of the namespace in trouble, their
owners and events, every health check's range data, the alerts, the timeline); `e` on a pod
row collects that pod. The collection runs as an async worker on the app's loop (the blocking
Prometheus client gets a thread inside it), reports progress to a docked bar, and `e` again
offers to stop it. The bundle's hash reaches the timeline as an EVIDENCE event written by
`collect_evidence` itself; the console only starts, stops and reports.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable

from textual.app import App

from warroom.actions.evidence import (
    BundleResult,
    EvidenceCancelled,
    EvidenceLimits,
    EvidenceRequest,
    EvidenceSources,
    collect_evidence,
)
from warroom.actions.evidence.leads import Lead, leads_from_labels, leads_from_query, unique
from warroom.console.health import HealthFeature
from warroom.console.pods import PodsFeature
from warroom.console.session import Session
from warroom.widgets.dialogs import ConfirmScreen
from warroom.widgets.evidence_progress import EvidenceProgress

log = logging.getLogger("warroom")
ALL_NAMESPACES = "*"


class EvidenceFeature:
    def __init__(
        self,
        app: App,
        session: Session,
        bar: EvidenceProgress,
        health: HealthFeature,
        pods: PodsFeature,
        *,
        stop_key: Callable[[], str],
        our_secrets: Callable[[], list[str]],
    ) -> None:
        self.app, self.session, self.bar = app, session, bar
        self.health, self.pods = health, pods
        self.stop_key = stop_key  # the key that stops a collection, as the keymap binds it
        self.our_secrets = our_secrets  # our own credentials: redacted wherever they turn up
        self._cancel: asyncio.Event | None = None
        self._scope = ""
        self.on_done: Callable[[], None] = lambda: None

    @property
    def running(self) -> bool:
        return self._cancel is not None

    def start(self, namespace: str | None = None, pod: str | None = None) -> None:
        """Incident-wide without a pod; `e` during a collection offers to stop it."""
        room = self.session.room
        if room is None:
            self.app.notify("No incident is open.", severity="warning")
            return
        if self._cancel is not None:
            self._offer_stop()
            return
        if room.store.read_only:
            self.app.notify(
                "This console follows another writer: collect evidence from that one.",
                severity="warning",
            )
            return
        ns = namespace or self.namespace()
        self._scope = f"{ns}/{pod}" if pod else f"{ns or 'no cluster'} (incident-wide)"
        self._cancel = asyncio.Event()
        self.bar.start(self._scope, self.stop_key())
        work = self._collect(ns or "", pod, self._cancel)
        self.app.run_worker(work, exclusive=True, group="evidence", exit_on_error=False)

    def namespace(self) -> str | None:
        """Where incident-wide evidence comes from: the watched namespace with the most
        unhealthy pods (the trouble), else the first watched one."""
        rows = list(self.pods.rows.values())
        sick = Counter(r.namespace for r in rows if not r.healthy)
        if sick:
            return sick.most_common(1)[0][0]
        kube = self.pods.kube
        if kube is None:
            return None
        named = [n for n in kube.namespaces if n != ALL_NAMESPACES]
        if named:
            return named[0]
        counts = Counter(r.namespace for r in rows)
        return counts.most_common(1)[0][0] if counts else None

    def leads(self) -> tuple[Lead, ...]:
        """What the failing checks and firing alerts point at, for incident-wide evidence."""
        found: list[Lead] = []
        snap = self.health.snapshot
        for r in snap.results if snap else []:
            if r.state.level is None or r.state.level == 0:
                continue
            why = f"check {r.spec.name} {r.state.value}"
            found += leads_from_query(r.spec.expr, why) + leads_from_labels(r.labels, why)
            if r.spec.pods:
                found.append(Lead("selector", r.spec.pods, why))
        alerts = self.health.alert_snapshot
        for a in alerts.alerts if alerts else []:
            found += leads_from_labels(a.labels, f"alert {a.name} firing")
        return unique(found)

    def _offer_stop(self) -> None:
        def stop(ok: bool | None) -> None:
            if ok and self._cancel is not None:
                self._cancel.set()

        self.app.push_screen(
            ConfirmScreen(
                "Stop collecting evidence?",
                f"Collecting {self._scope}.\n\n"
                "Stopping discards the partial bundle; the timeline records that it was "
                "stopped and by whom.",
                "Stop collection",
            ),
            stop,
        )

    async def collect_now(self, namespace: str, pod: str | None) -> BundleResult:
        """Collect and wait for the bundle (a quarantine collects before it changes anything);
        the progress line shows it and `e` stops it. Raises what the collection raised."""
        if self._cancel is not None:
            raise RuntimeError("another evidence collection is running: wait for it or stop it")
        self._scope = f"{namespace}/{pod}" if pod else f"{namespace} (incident-wide)"
        self._cancel = cancel = asyncio.Event()
        self.bar.start(self._scope, self.stop_key())
        try:
            return await self._gather(namespace, pod, cancel)
        finally:
            self._cancel = None
            self.on_done()

    async def _gather(self, namespace: str, pod: str | None, cancel: asyncio.Event) -> BundleResult:
        room = self.session.room
        assert room is not None
        s = self.session.settings
        specs = list(self.health.specs)
        prometheus = None
        if s.prometheus.url and specs:
            # Made in a thread: the first import of prometheus-api-client is slow.
            prometheus = await asyncio.to_thread(self.health.prometheus)
        kube = self.pods.kube
        sources = EvidenceSources(
            kube=kube.new_client if kube is not None else None,
            prometheus=prometheus,
            checks=specs,
            alertmanager=self.health.alertmanager() if s.alertmanager.url else None,
        )
        request = EvidenceRequest(
            namespace,
            pod,
            EvidenceLimits.from_settings(s.evidence),
            redact_extra=tuple(self.our_secrets()),
            leads=() if pod else self.leads(),
        )
        return await collect_evidence(
            room, request, sources, progress=self.bar.progress, cancel=cancel
        )

    async def _collect(self, namespace: str, pod: str | None, cancel: asyncio.Event) -> None:
        try:
            result = await self._gather(namespace, pod, cancel)
        except EvidenceCancelled:
            self.app.notify("Evidence collection stopped; nothing was kept.", title="Evidence")
        except Exception as exc:  # a full disk, an unwritable evidence dir: say so, keep going
            log.exception("evidence collection failed")
            self.app.notify(
                f"{type(exc).__name__}: {exc}", severity="error", title="Evidence not collected"
            )
        else:
            failed = len(result.failures)
            files = len(result.manifest.get("files", []))
            text = f"{result.path_tar.name}\nsha256 {result.sha256[:16]}…  {files} file(s)" + (
                f", {failed} part(s) failed (see manifest)" if failed else ""
            )
            self.app.notify(
                text,
                title="Evidence sealed",
                severity="warning" if failed else "information",
                timeout=10,
            )
        finally:
            self._cancel = None
            self.on_done()
