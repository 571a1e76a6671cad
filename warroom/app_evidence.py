"""The evidence half of the composition root: `e` collects a sealed bundle while work goes on.

`e` anywhere collects incident-wide (the most suspect pods of the namespace in trouble, their
owners and events, every health check's range data, the alerts, the timeline); `e` on a pod
row collects that pod. The collection runs as an async worker on the app's loop (the blocking
Prometheus client gets a thread inside it), reports progress to a docked bar, and `e` again
offers to stop it. The bundle's hash reaches the timeline as an EVIDENCE event written by
`collect_evidence` itself; the app only routes and reports.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from typing import TYPE_CHECKING, Any

from textual import work

from warroom.widgets.dialogs import ConfirmScreen
from warroom.widgets.evidence_progress import EvidenceProgress

if TYPE_CHECKING:
    from warroom.app import WarRoomApp

log = logging.getLogger("warroom")


class EvidenceMixin:
    """Mixed into WarRoomApp; `self` is the app."""

    _evidence_cancel: asyncio.Event | None = None
    _evidence_scope: str = ""

    def action_evidence(self: WarRoomApp) -> None:
        """Incident-wide collection (the pods table binds `e` to a pod-scoped one)."""
        self.start_evidence(None, None)

    def start_evidence(self: WarRoomApp, namespace: str | None, pod: str | None) -> None:
        room = self._need_room()
        if room is None:
            return
        if self._evidence_cancel is not None:
            self._offer_stop()
            return
        if room.store.read_only:
            self.notify(
                "This console follows another writer: collect evidence from that one.",
                severity="warning",
            )
            return
        ns = namespace or self.evidence_namespace()
        scope = f"{ns}/{pod}" if pod else f"{ns or 'no cluster'} (incident-wide)"
        self._evidence_cancel = asyncio.Event()
        self._evidence_scope = scope
        self.main.query_one(EvidenceProgress).start(scope, self._evidence_key())
        self._collect(ns or "", pod, self._evidence_cancel)

    def evidence_namespace(self: WarRoomApp) -> str | None:
        """Where incident-wide evidence comes from: the watched namespace with the most
        unhealthy pods (the trouble), else the first watched one."""
        rows = list(getattr(self, "pod_rows", {}).values())
        sick = Counter(r.namespace for r in rows if not r.healthy)
        if sick:
            return sick.most_common(1)[0][0]
        kube = getattr(self, "kube", None)
        if kube is None:
            return None
        from warroom.sources.kube import ALL

        named = [n for n in kube.namespaces if n != ALL]
        if named:
            return named[0]
        counts = Counter(r.namespace for r in rows)
        return counts.most_common(1)[0][0] if counts else None

    def _offer_stop(self: WarRoomApp) -> None:
        def stop(ok: bool | None) -> None:
            if ok and self._evidence_cancel is not None:
                self._evidence_cancel.set()

        self.push_screen(
            ConfirmScreen(
                "Stop collecting evidence?",
                f"Collecting {self._evidence_scope}.\n\n"
                "Stopping discards the partial bundle; the timeline records that it was "
                "stopped and by whom.",
                "Stop collection",
            ),
            stop,
        )

    def _evidence_key(self: WarRoomApp) -> str:
        """The key that stops a collection, as the keymap binds it (the help screen's lookup)."""
        from warroom.app import ACTIONS, _display_key

        return _display_key(self, next(a for a in ACTIONS if a.id == "evidence")).split(",")[0]

    def _evidence_secrets(self: WarRoomApp) -> list[str]:
        """Our own credentials, redacted wherever they turn up (a log line echoing a header)."""
        s = self.settings
        found = [s.prometheus.bearer_token, s.alertmanager.bearer_token]
        if s.prometheus.basic_auth:
            found.append(s.prometheus.basic_auth[1])
        for d in self.outbox.destinations.values() if self.outbox else []:
            found.append(d.url)
            found.extend(d.headers.values())
        return [x for x in found if x]

    @work(exclusive=True, group="evidence", exit_on_error=False)
    async def _collect(self: WarRoomApp, namespace: str, pod: str | None, cancel: Any) -> None:
        from warroom.actions.evidence import EvidenceCancelled, EvidenceLimits, collect_evidence

        room = self.room
        bar = self.main.query_one(EvidenceProgress)
        s = self.settings
        try:
            specs = list(self.health_config.specs)
            prometheus = None
            if s.prometheus.url and specs:
                # Made in a thread: the first import of prometheus-api-client is slow.
                prometheus = await asyncio.to_thread(self.prometheus)
            alertmanager = self.alertmanager() if s.alertmanager.url else None
            kube = self.kube
            result = await collect_evidence(
                store=room.store,
                room_or_recorder=room,
                kube_api_client_factory=kube.new_client if kube is not None else None,
                namespace=namespace,
                pod=pod,
                prometheus=prometheus,
                check_specs=specs,
                alertmanager=alertmanager,
                limits=EvidenceLimits.from_settings(s.evidence),
                actor=s.actor,
                progress=bar.progress,
                cancel=cancel,
                redact_extra=self._evidence_secrets(),
            )
        except EvidenceCancelled:
            self.notify("Evidence collection stopped; nothing was kept.", title="Evidence")
        except Exception as exc:  # a full disk, an unwritable evidence dir: say so, keep going
            log.exception("evidence collection failed")
            self.notify(
                f"{type(exc).__name__}: {exc}", severity="error", title="Evidence not collected"
            )
        else:
            failed = len(result.failures)
            files = len(result.manifest.get("files", []))
            text = f"{result.path_tar.name}\nsha256 {result.sha256[:16]}…  {files} file(s)" + (
                f", {failed} part(s) failed (see manifest)" if failed else ""
            )
            self.notify(
                text,
                title="Evidence sealed",
                severity="warning" if failed else "information",
                timeout=10,
            )
        finally:
            self._evidence_cancel = None
            if self._widgets_alive():
                bar.finish()
                self.sync()
