"""The pods pane: live pods, the pod actions, logs and describe.

The kubernetes client is imported only after the first frame (it costs ~0.4 s). Pods are
listed then watched by KubeSource; snapshots come at most every 0.25 s with the uids that
changed, as Messages, and only those rows are converted and applied to the table (10k pods,
100 updates/s: a full rebuild per snapshot saturated the UI thread). Restart, delete and force
delete go through the ActionRunner (kube_actions.py): a confirmation that names the cluster
context, namespace, object and kubectl command, then the timeline (the change ledger) and the
watch for their effect. `refusal` is the one place read-only and the namespace allow-list
are decided, for every view's actions.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import App

from warroom.actions import restart, verify
from warroom.console.kube_actions import ActionRunner, Plan
from warroom.console.messages import PodsRefreshed
from warroom.console.session import Session
from warroom.console.work import run_use_case
from warroom.pods import PodRow, PodsSnapshot, summarize
from warroom.sanitize import one_line
from warroom.signals import record
from warroom.sources.kube_api import error_text
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


_FORCE_RISK = (
    "\nGrace period 0: the API server forgets the pod now, without waiting for its kubelet "
    "to confirm the containers stopped. If the node is only partitioned, they may still run.\n"
    "StatefulSet pods: the controller then creates a pod of the same name and identity "
    "(same volume, same DNS name). If the old one still runs, two pods share that identity: "
    "split-brain, double writes to the same disk. Be sure its node is really gone (or fenced) "
    "first."
)


def _workload_kind(row: PodRow) -> str:
    """The kind a rollout of this pod acts on (a ReplicaSet's pods: their Deployment's)."""
    return "Deployment" if row.owner_kind == "ReplicaSet" else row.owner_kind


class PodsFeature:
    def __init__(self, app: App, session: Session, status: SourceStatus, table: PodsTable) -> None:
        self.app, self.session = app, session
        self.status, self.table = status, table
        self.kube: KubeSource | None = None
        self.rows: dict[str, PodRow] = {}
        self._table_full = True  # the next snapshot is applied whole (a delta was skipped)
        self.runner = ActionRunner(app, session, self.context)
        if hasattr(table, "denied"):
            table.denied = self._denied  # type: ignore[attr-defined]
        # Called with the KubeSource once it exists: the other views watch through it.
        self.on_source: list[Callable[[KubeSource], None]] = []

    def context(self) -> str:
        return self.kube.context_name if self.kube else ""

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
        for started in self.on_source:
            started(kube)
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
        if verb in ("restart", "delete", "force_delete"):
            self._mutate(verb, row)
        elif verb == "logs":
            lines = self.session.settings.kube.log_lines
            self.app.push_screen(LogScreen(row.namespace, row.name, lines))
        elif verb == "describe":
            self.app.run_worker(
                self._describe(row), exclusive=True, group="describe", exit_on_error=False
            )

    def refusal(self, namespace: str | None) -> str | None:
        """Why a change to this namespace (None: a cluster-scoped object, a node) is refused
        here, or None when it is allowed. The one place read-only and the allow-list decide."""
        if self.session.read_only:
            return "Read-only: this console changes nothing (restart, delete, scale, drain...)."
        allowed = self.session.settings.kube.mutate_namespaces
        if allowed and namespace is None:
            return (
                "a node is cluster-scoped: changing it reaches beyond kube.mutate_namespaces "
                f"({', '.join(allowed)})"
            )
        if allowed and namespace not in allowed:
            return f"namespace {namespace} is not in kube.mutate_namespaces"
        return None

    def _denied(self, uid: str, verb: str) -> str | None:
        row = self.rows.get(uid)
        if row is None:
            return None
        return self.session.access.denial(verb, _workload_kind(row), row.namespace)

    def check(self, action: str, namespace: str | None, kind: str = "") -> bool:
        """Say why not (one line) and return False when this action may not run here."""
        why = self.refusal(namespace) or self.session.access.denial(action, kind, namespace or "")
        if why:
            self.app.notify(why, severity="warning")
        return why is None

    def _mutate(self, verb: str, row: PodRow) -> None:
        owner_kind = _workload_kind(row)
        if not self.check(verb, row.namespace, owner_kind) or self.kube is None:
            return
        api, ns, name = self.kube.api, row.namespace, row.name
        k = self.session.settings.kube
        where = f"pod:       {row.name}\n"
        ctx = f" --context {self.context()}" if self.context() else ""
        if verb == "restart":
            owner = f"{row.owner_kind or 'no owner'} {row.owner_name}".strip()
            workload = f"{owner_kind.lower()}/{row.owner_name}" if owner_kind else "?"
            plan = Plan(
                "Rollout restart the pod's owner?",
                f"{where}owner:     {owner} (a Deployment is found through its ReplicaSet)\n\n"
                "Every pod of the owner is replaced, one by one, as `kubectl rollout restart` "
                "does.",
                "Restart",
                f"kubectl rollout restart {workload} -n {ns}{ctx}",
                ns,
                "rollout-restart",
                lambda: restart.rollout_restart(api, ns, row),
                verify=lambda r: verify.verify_rollout(
                    api, r.namespace, r.name, r.seen, wait=k.verify_rollout.total_seconds()
                ),
            )
        else:
            force = verb == "force_delete"
            plan = Plan(
                "Force delete this pod?" if force else "Delete this pod?",
                where
                + (
                    _FORCE_RISK
                    if force
                    else "\nIts owner, if any, creates a replacement; a bare pod is gone for good."
                ),
                "Force delete" if force else "Delete",
                f"kubectl delete pod {name} -n {ns}"
                + (" --grace-period=0 --force" if force else "")
                + ctx,
                ns,
                "delete-pod",
                lambda: restart.delete_pod(api, ns, name, uid=row.uid, force=force),
                verify=lambda r: verify.verify_delete(
                    api, ns, name, r.seen, wait=k.verify_delete.total_seconds()
                ),
                target=f"pods/{ns}/{name}",
                typed=name if force else "",
            )
        self.runner.confirm(plan)

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
