"""The Kubernetes half of the composition root: the pods pane, pod actions, logs, describe.

The kubernetes client is imported only after the first frame (it costs ~0.4 s). Pods are
listed then watched by KubeSource; snapshots arrive at most every 0.25 s with the uids that
changed, and only those rows are converted and applied to the table (10k pods, 100 updates/s:
a full rebuild per snapshot saturated the UI thread). Restart and delete always pass through
a confirmation that names the cluster context, namespace and object, with Cancel focused;
their result, duration and revert hint go to the timeline (the change ledger).
"""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING, Any

from textual import work

from warroom.model import Kind
from warroom.widgets.dialogs import ConfirmScreen, PromptScreen
from warroom.widgets.pod_views import DescribeScreen, LogScreen
from warroom.widgets.pods_pane import PodAction, PodsTable, PodTableRow
from warroom.widgets.source_status import SourceState, SourceStatus

if TYPE_CHECKING:
    from warroom.app import WarRoomApp

log = logging.getLogger("warroom")
FREEZE_AFTER = 1000  # a (re)list that brought at least this many rows settles the heap


def settle_heap() -> None:
    """Move what is alive now (the rows and table of a big list) out of the collector's
    sight. Measured with 10k pods: each full collection walked them all and froze the UI for
    0.5-1.1 s, several times a minute under churn. Frozen objects are still freed by
    reference counting when they go; only a cycle among them would stay."""
    gc.freeze()


def table_row(r: Any) -> PodTableRow:
    """A PodRow as the table shows it; ages are drawn relative to the table's clock."""
    return PodTableRow(
        uid=r.uid,
        namespace=r.namespace,
        name=r.name,
        ready=r.ready,
        status=r.status,
        restarts=str(r.restarts),
        age="-",
        node=r.node,
        healthy=r.healthy,
        labels=tuple(sorted(r.labels.items())),
        created_at=r.created_at,
        last_restart_at=r.last_restart_at if r.restarts else None,
    )


class PodsMixin:
    """Mixed into WarRoomApp; `self` is the app."""

    def _pods_setup(self: WarRoomApp) -> None:
        self.kube: Any = None
        self.pod_rows: dict[str, Any] = {}
        self._pod_tracker: Any = None
        self._pods_table_full = True  # next snapshot is applied whole (a delta was skipped)
        self._pods_tracker_full = True
        k = self.settings.kube
        status = self.main.query_one("#pods-status", SourceStatus)
        if not k.enabled:
            status.show(SourceState("unconfigured", "kube.enabled = false in warroom.toml"))
            return
        status.show(SourceState("connecting", k.context or "the current kubeconfig context"))
        if self.poll_sources:
            # After the first frame: importing the kubernetes client costs ~0.4 s.
            self.call_after_refresh(self._pods_watch)

    def pods_read_only(self: WarRoomApp) -> bool:
        k = self.settings.kube
        context = self.kube.context_name if self.kube else (k.context or "")
        return self.settings.read_only or (bool(context) and context in k.read_only_contexts)

    @work(exclusive=True, group="pods", exit_on_error=False)
    async def _pods_watch(self: WarRoomApp) -> None:
        from warroom.sources.kube import KubeConfigError, KubeSource
        from warroom.sources.kube_status import PodTransitionTracker

        k = self.settings.kube
        status = self.main.query_one("#pods-status", SourceStatus)
        try:
            self.kube = KubeSource.from_kubeconfig(k.kubeconfig, k.context, list(k.namespaces))
        except KubeConfigError as exc:
            status.show(SourceState("error", str(exc)))
            return
        except Exception as exc:  # no kubeconfig at all, unreadable file: say so, plainly
            status.show(SourceState("unconfigured", f"no usable kubeconfig: {exc}"))
            return
        self._pod_tracker = PodTransitionTracker()
        table = self.main.query_one(PodsTable)
        table.show_namespace = self.kube.all_namespaces or len(self.kube.namespaces) > 1
        table.mutable_namespaces = set(k.mutate_namespaces)
        table.border_title = f"{self.kube.context_name} · {', '.join(self.kube.namespaces)}"
        status.show(SourceState("connecting", self.kube.cluster_server))
        try:
            await self.kube.watch_pods(self._apply_pods)
        finally:  # at exit: close the shared client of logs, describe, actions and evidence
            await self.kube.aclose()

    def _apply_pods(self: WarRoomApp, snap: Any) -> None:
        from warroom.sources.kube_status import summarize

        status = self.main.query_one("#pods-status", SourceStatus)
        table = self.main.query_one(PodsTable)
        rows = snap.rows_by_uid  # a fresh dict per snapshot: ours to keep
        if rows or snap.ok:
            table.display = True
            if snap.full or self._pods_table_full:
                table.set_rows({uid: table_row(r) for uid, r in rows.items()})
                moved = len(rows)
            else:
                changed = {uid: table_row(rows[uid]) for uid in snap.changed or ()}
                table.apply_delta(changed, changed.keys(), snap.removed)
                moved = len(changed)
            self._pods_table_full = False
            self.pod_rows = rows
        else:
            moved = 0
            self._pods_table_full = True  # later deltas build on this one, not applied
        summary = summarize(snap.rows_by_uid.values(), self.kube.namespaces if self.kube else [])
        if snap.ok:
            status.show(SourceState("ok", since=snap.fetched_at, summary=summary))
        else:
            msg = f"watch lost, retrying: {snap.error}" if snap.error else "watch lost, retrying"
            status.show(SourceState("stale", msg, since=snap.stale_since or snap.fetched_at))
        if not (snap.ok and self._pod_tracker is not None and self.room is not None):
            self._pods_tracker_full = True  # a delta the tracker does not see
        else:
            if self._pods_tracker_full:
                transitions = self._pod_tracker.feed(rows, snap.fetched_at)
                self._pods_tracker_full = False
            else:
                transitions = self._pod_tracker.feed(
                    rows, snap.fetched_at, changed=snap.changed, removed=snap.removed
                )
            if transitions:
                room = self.room

                def record() -> None:
                    for t in transitions:
                        room.record(
                            Kind.POD,
                            t.text,
                            {
                                "uid": t.uid,
                                "namespace": t.namespace,
                                "pod": t.name,
                                "transition": t.kind,
                            },
                            source="kubernetes",
                        )

                self.run_use_case(record)
        if moved >= FREEZE_AFTER:  # after the tracker: its state per pod is long-lived too
            settle_heap()

    # ----- pod actions ---------------------------------------------------------------------
    def on_pod_action(self: WarRoomApp, message: PodAction) -> None:
        row = self.pod_rows.get(message.uid)
        if row is None or self.kube is None:
            self.notify("That pod is gone.", severity="warning")
            return
        verb = message.verb
        if verb in ("restart", "delete"):
            self._confirm_mutation(verb, row)
        elif verb == "logs":
            self.push_screen(LogScreen(row.namespace, row.name, self.settings.kube.log_lines))
        elif verb == "describe":
            self._describe(row)
        elif verb == "evidence":
            self.start_evidence(row.namespace, row.name)

    def _confirm_mutation(self: WarRoomApp, verb: str, row: Any) -> None:
        if self.pods_read_only():
            self.notify("Read-only: no restarts or deletes here.", severity="warning")
            return
        allowed = self.settings.kube.mutate_namespaces
        if allowed and row.namespace not in allowed:
            self.notify(
                f"namespace {row.namespace} is not in kube.mutate_namespaces", severity="warning"
            )
            return
        context = self.kube.context_name
        if verb == "restart":
            owner = f"{row.owner_kind or 'no owner'} {row.owner_name}".strip()
            title = "Rollout restart the pod's owner?"
            body = (
                f"context:   {context}\nnamespace: {row.namespace}\npod:       {row.name}\n"
                f"owner:     {owner} (a Deployment is found through its ReplicaSet)\n\n"
                "Every pod of the owner is replaced, one by one, as `kubectl rollout restart` "
                "does."
            )
            label = "Restart"
        else:
            title = "Delete this pod?"
            body = (
                f"context:   {context}\nnamespace: {row.namespace}\npod:       {row.name}\n\n"
                "Its owner, if any, creates a replacement; a bare pod is gone for good."
            )
            label = "Delete"
        self.push_screen(
            ConfirmScreen(title, body, label),
            lambda ok: ok and self._mutate(verb, row),
        )

    @work(exclusive=False, group="action", exit_on_error=False)
    async def _mutate(self: WarRoomApp, verb: str, row: Any) -> None:
        kube = self.kube
        if verb == "restart":
            result = await kube.rollout_restart(row.namespace, row)
        else:
            result = await kube.delete_pod(row.namespace, row.name, uid=row.uid)
        room = self.room
        if room is not None:
            text = f"{result.text} (by {self.settings.actor}, {result.duration_s:.2f}s)"
            self.run_use_case(
                lambda: room.record_action(
                    text,
                    verb="rollout-restart" if verb == "restart" else "delete-pod",
                    target=f"{result.resource}/{result.namespace}/{result.name}",
                    ok=result.ok,
                    duration_s=result.duration_s,
                    revert=result.revert_hint or None,
                    context=kube.context_name,
                    forbidden=result.forbidden,
                )
            )
        if result.ok:
            self.notify(result.text, title="Done")
        else:
            self.notify(result.text, severity="error", title="Not done", timeout=10)

    @work(exclusive=True, group="describe", exit_on_error=False)
    async def _describe(self: WarRoomApp, row: Any) -> None:
        try:
            details, err = await self.kube.describe(row.namespace, row.name), None
        except Exception as exc:
            from warroom.sources.kube import error_text

            details, err = None, error_text(exc)
        self.push_screen(DescribeScreen(row, details, err))

    def on_log_screen_wanted(self: WarRoomApp, message: LogScreen.Wanted) -> None:
        screen = message.screen
        if screen.following:
            self._follow_logs(screen)
        else:
            self._load_logs(screen)

    @work(exclusive=True, group="logs", exit_on_error=False)
    async def _load_logs(self: WarRoomApp, screen: LogScreen) -> None:
        from warroom.sources.kube import error_text

        try:
            lines = await self.kube.logs(
                screen.namespace, screen.pod, previous=screen.previous, tail_lines=screen.tail
            )
        except Exception as exc:
            screen.show_error(error_text(exc))
            return
        screen.show_lines(lines)

    @work(exclusive=True, group="logs", exit_on_error=False)
    async def _follow_logs(self: WarRoomApp, screen: LogScreen) -> None:
        from warroom.sources.kube import error_text

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

    def on_pods_table_filter_requested(self: WarRoomApp, _: PodsTable.FilterRequested) -> None:
        table = self.main.query_one(PodsTable)
        self.push_screen(
            PromptScreen(
                "Filter pods",
                "text, or -l app=checkout (empty clears)",
                value=table.filter_text,
                allow_empty=True,
            ),
            lambda text: text is not None and table.apply_filter(text),
        )
