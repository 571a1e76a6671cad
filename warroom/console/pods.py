"""The pods pane: live pods, the pod actions, logs and describe.

The kubernetes client is imported only after the first frame (it costs ~0.4 s). Pods are
listed then watched by KubeSource; snapshots come at most every 0.25 s with the uids that
changed, as Messages, and only those rows are converted and applied to the table (10k pods,
100 updates/s: a full rebuild per snapshot saturated the UI thread). Restart and delete always
pass through a confirmation that names the cluster context, namespace and object, with Cancel
focused; their result, duration and revert hint go to the timeline (the change ledger).
"""

from __future__ import annotations

import asyncio
import gc
import logging
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import App

from warroom.actions import restart, verify
from warroom.console.messages import PodsRefreshed, TimelineChanged
from warroom.console.session import Session
from warroom.console.work import record_result, run_use_case
from warroom.model import Event
from warroom.pods import PodRow, PodsSnapshot, summarize
from warroom.sanitize import one_line
from warroom.signals import record
from warroom.sources.kube_api import error_text
from warroom.widgets.dialogs import ConfirmScreen, PromptScreen
from warroom.widgets.pod_views import DescribeScreen, LogScreen
from warroom.widgets.pods_pane import PodsTable
from warroom.widgets.source_status import SourceState, SourceStatus

if TYPE_CHECKING:
    from warroom.sources.kube import KubeSource

log = logging.getLogger("warroom")
FREEZE_AFTER = 1000  # a (re)list that brought at least this many rows settles the heap


def settle_heap() -> None:
    """Move what is alive now (the rows and table of a big list) out of the collector's
    sight. Measured with 10k pods: each full collection walked them all and froze the UI for
    0.5-1.1 s, several times a minute under churn. Frozen objects are still freed by
    reference counting when they go; only a cycle among them would stay."""
    gc.freeze()


class PodsFeature:
    def __init__(self, app: App, session: Session, status: SourceStatus, table: PodsTable) -> None:
        self.app, self.session = app, session
        self.status, self.table = status, table
        self.kube: KubeSource | None = None
        self.rows: dict[str, PodRow] = {}
        self._table_full = True  # the next snapshot is applied whole (a delta was skipped)

    def start(self, poll: bool) -> None:
        k = self.session.settings.kube
        if not k.enabled:
            self.status.show(SourceState("unconfigured", "kube.enabled = false in warroom.toml"))
            return
        self.status.show(SourceState("connecting", k.context or "the current kubeconfig context"))
        if poll:
            # After the first frame: importing the kubernetes client costs ~0.4 s.
            self.app.call_after_refresh(self._watch)

    def _watch(self) -> None:
        self.app.run_worker(self._watch_worker(), exclusive=True, group="pods", exit_on_error=False)

    async def _watch_worker(self) -> None:
        from warroom.sources.kube import KubeConfigError, KubeSource

        k = self.session.settings.kube
        try:
            self.kube = KubeSource.from_kubeconfig(k.kubeconfig, k.context, list(k.namespaces))
        except KubeConfigError as exc:
            self.status.show(SourceState("error", str(exc)))
            return
        except Exception as exc:  # no kubeconfig at all, unreadable file: say so, plainly
            self.status.show(SourceState("unconfigured", f"no usable kubeconfig: {exc}"))
            return
        kube = self.kube
        self.table.show_namespace = kube.all_namespaces or len(kube.namespaces) > 1
        self.table.mutable_namespaces = set(k.mutate_namespaces)
        self.table.border_title = Text(
            one_line(f"{kube.context_name} · {', '.join(kube.namespaces)}")
        )
        self.status.show(SourceState("connecting", kube.cluster_server))
        try:
            await kube.watch_pods(lambda snap: self.app.post_message(PodsRefreshed(snap)))
        finally:  # at exit: close the shared client of logs, describe, actions and evidence
            await kube.aclose()

    def apply(self, snap: PodsSnapshot) -> None:
        table = self.table
        rows = snap.rows_by_uid  # a fresh dict per snapshot: ours to keep
        if rows or snap.ok:
            table.display = True
            # The table shows the source's PodRows as they are: no copy per pod.
            if snap.full or self._table_full:
                table.set_rows(rows)
                moved = len(rows)
            else:
                changed = snap.changed or frozenset()
                table.apply_delta(rows, changed, snap.removed)
                moved = len(changed)
            self._table_full = False
            self.rows = rows
        else:
            moved = 0
            self._table_full = True  # later deltas build on this one, not applied
        namespaces = self.kube.namespaces if self.kube else []
        summary = summarize(snap.rows_by_uid.values(), namespaces, snap.unhealthy)
        if snap.ok:
            # A connected watch is live: "updated 21s ago" would read as stale data.
            self.status.show(SourceState("live", since=snap.fetched_at, summary=summary))
        else:
            msg = f"watch lost, retrying: {snap.error}" if snap.error else "watch lost, retrying"
            since = snap.stale_since or snap.fetched_at
            self.status.show(SourceState("stale", msg, since=since))
        room = self.session.room
        signals = self.session.signals
        facts = signals.source_facts("kubernetes", snap.ok, snap.fetched_at, snap.error)
        if room is None:
            signals.pods_unseen()
        else:
            facts += signals.pod_facts(snap)
            if facts:
                run_use_case(self.app, partial(record, room, facts))
        if moved >= FREEZE_AFTER:  # after the tracker: its state per pod is long-lived too
            settle_heap()

    # ----- pod actions -----------------------------------------------------------------------
    def row(self, uid: str) -> PodRow | None:
        """The pod of a table row, if it is still there (and the cluster reachable)."""
        row = self.rows.get(uid)
        if row is None or self.kube is None:
            self.app.notify("That pod is gone.", severity="warning")
            return None
        return row

    def on_pod_action(self, verb: str, row: PodRow) -> None:
        if verb in ("restart", "delete"):
            self._confirm_mutation(verb, row)
        elif verb == "logs":
            lines = self.session.settings.kube.log_lines
            self.app.push_screen(LogScreen(row.namespace, row.name, lines))
        elif verb == "describe":
            self.app.run_worker(
                self._describe(row), exclusive=True, group="describe", exit_on_error=False
            )

    def refusal(self, namespace: str) -> str | None:
        """Why a change to this namespace is refused here, or None when it is allowed."""
        if self.session.read_only:
            return "Read-only: no restarts or deletes here."
        allowed = self.session.settings.kube.mutate_namespaces
        if allowed and namespace not in allowed:
            return f"namespace {namespace} is not in kube.mutate_namespaces"
        return None

    def _confirm_mutation(self, verb: str, row: PodRow) -> None:
        why = self.refusal(row.namespace)
        if why:
            self.app.notify(why, severity="warning")
            return
        context = self.kube.context_name if self.kube else ""
        where = f"context:   {context}\nnamespace: {row.namespace}\npod:       {row.name}\n"
        if verb == "restart":
            owner = f"{row.owner_kind or 'no owner'} {row.owner_name}".strip()
            title = "Rollout restart the pod's owner?"
            body = (
                f"{where}owner:     {owner} (a Deployment is found through its ReplicaSet)\n\n"
                "Every pod of the owner is replaced, one by one, as `kubectl rollout restart` "
                "does."
            )
            label = "Restart"
        else:
            title = "Delete this pod?"
            body = (
                f"{where}\nIts owner, if any, creates a replacement; a bare pod is gone for good."
            )
            label = "Delete"

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.app.run_worker(self._mutate(verb, row), group="action", exit_on_error=False)

        self.app.push_screen(ConfirmScreen(title, body, label), confirmed)

    async def _mutate(self, verb: str, row: PodRow) -> None:
        kube = self.kube
        assert kube is not None
        if verb == "restart":
            result = await restart.rollout_restart(kube.api, row.namespace, row)
        else:
            result = await restart.delete_pod(kube.api, row.namespace, row.name, uid=row.uid)
        if result.ok:
            self.app.notify(result.text, title="Sent: watching for its effect")
        else:
            self.app.notify(result.text, severity="error", title="Not done", timeout=10)
        room = self.session.room
        if room is None:
            return
        action = await record_result(
            room,
            result,
            verb="rollout-restart" if verb == "restart" else "delete-pod",
            target=f"{result.resource}/{result.namespace}/{result.name}",
            actor=self.session.actor,
            context=kube.context_name,
        )
        self.app.post_message(TimelineChanged())
        if result.ok:
            self.app.run_worker(
                self._verify(verb, result, action), group="verify", exit_on_error=False
            )

    async def _verify(self, verb: str, result: restart.ActionResult, action: Event) -> None:
        """Watch the object, then put what the action did on the timeline (a mitigation item
        ticks only on "took effect")."""
        kube, room = self.kube, self.session.room
        if kube is None or room is None:
            return
        k = self.session.settings.kube
        if verb == "restart":
            wait = k.verify_rollout.total_seconds()
            outcome = await verify.verify_rollout(
                kube.api, result.namespace, result.name, result.seen, wait=wait
            )
        else:
            wait = k.verify_delete.total_seconds()
            outcome = await verify.verify_delete(
                kube.api, result.namespace, result.name, result.seen, wait=wait
            )
        await asyncio.to_thread(
            room.record_outcome, action, outcome.kind, outcome.text, outcome.waited_s
        )
        self.app.post_message(TimelineChanged())
        title = {"took_effect": "Took effect", "no_effect": "No effect"}.get(
            outcome.kind, "Pending"
        )
        severity = "information" if outcome.kind == "took_effect" else "warning"
        self.app.notify(outcome.text, title=title, severity=severity, timeout=10)

    async def _describe(self, row: PodRow) -> None:
        assert self.kube is not None
        try:
            details, err = await self.kube.describe(row.namespace, row.name), None
        except Exception as exc:
            details, err = None, error_text(exc)
        self.app.push_screen(DescribeScreen(row, details, err))

    # ----- logs ------------------------------------------------------------------------------
    def logs_wanted(self, screen: LogScreen) -> None:
        work = self._follow_logs(screen) if screen.following else self._load_logs(screen)
        self.app.run_worker(work, exclusive=True, group="logs", exit_on_error=False)

    async def _load_logs(self, screen: LogScreen) -> None:
        assert self.kube is not None
        try:
            lines = await self.kube.logs(
                screen.namespace, screen.pod, previous=screen.previous, tail_lines=screen.tail
            )
        except Exception as exc:
            screen.show_error(error_text(exc))
            return
        screen.show_lines(lines)

    async def _follow_logs(self, screen: LogScreen) -> None:
        assert self.kube is not None
        screen.show_lines([], "following…")
        batch: list[str] = []
        try:
            async for line in self.kube.follow_logs(screen.namespace, screen.pod, tail_lines=100):
                if not screen.following or not screen.is_attached:
                    break
                batch.append(line)
                if len(batch) >= 200:  # write in batches: a chatty pod must not flood redraws
                    screen.append_lines(batch)
                    batch = []
                    continue
                screen.append_lines(batch)
                batch = []
        except Exception as exc:
            if screen.is_attached:
                screen.show_error(error_text(exc))
            return
        if batch and screen.is_attached:
            screen.append_lines(batch)

    def ask_filter(self) -> None:
        table = self.table

        def apply(text: str | None) -> None:
            if text is not None:
                table.apply_filter(text)

        prompt = PromptScreen(
            "Filter pods",
            "text, or -l app=checkout (empty clears)",
            value=table.filter_text,
            allow_empty=True,
        )
        self.app.push_screen(prompt, apply)
