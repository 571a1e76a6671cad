"""The deployments view: Deployments, StatefulSets and DaemonSets of the incident's namespaces,
listed then watched (through the pods view's KubeSource, once it exists), and their actions:
scale, rollout undo, rollout restart, pause and resume. Every snapshot also feeds the tracker
of changes made elsewhere (warroom/signals/changes.py); this console's own changes are told
to it, so they are not reported twice.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import App

from warroom.actions import access, restart, rollout, scale, verify
from warroom.actions.kube_call import ActionResult
from warroom.console.kube_actions import Plan
from warroom.console.messages import WorkloadsRefreshed
from warroom.console.session import Session
from warroom.console.work import run_use_case
from warroom.pods import WatchSnapshot
from warroom.signals import record_changes
from warroom.sources.kube_api import error_text
from warroom.widgets.dialogs import ChoiceScreen, PromptScreen
from warroom.widgets.source_status import SourceState, SourceStatus
from warroom.widgets.workloads_pane import WorkloadsTable
from warroom.workloads import RESOURCES, WorkloadRow

if TYPE_CHECKING:
    from warroom.console.pods import PodsFeature
    from warroom.sources.kube import KubeSource

log = logging.getLogger("warroom")


class WorkloadsFeature:
    def __init__(
        self,
        app: App,
        session: Session,
        status: SourceStatus,
        table: WorkloadsTable,
        pods: PodsFeature,
    ) -> None:
        self.app, self.session, self.status, self.table, self.pods = (
            app,
            session,
            status,
            table,
            pods,
        )
        self.rows: dict[str, WorkloadRow] = {}
        self._full = True
        pods.on_source.append(self.start)
        if hasattr(table, "refused"):
            table.refused = lambda row, verb: pods.refusal(row.namespace)
            table.denied = lambda row, verb: session.access.denial(verb, row.kind, row.namespace)

    @property
    def kube(self) -> KubeSource | None:
        return self.pods.kube

    # ----- the watch ---------------------------------------------------------------------------
    def start(self, kube: KubeSource) -> None:
        self.table.show_namespace = kube.all_namespaces or len(kube.namespaces) > 1
        self.status.show(SourceState("connecting", kube.cluster_server))
        self.app.run_worker(
            self._watch_worker(kube), exclusive=True, group="workloads", exit_on_error=False
        )
        if not self.session.read_only:
            self.app.run_worker(self._review(kube), group="access", exit_on_error=False)

    async def _watch_worker(self, kube: KubeSource) -> None:
        from warroom.sources.kube import WORKLOADS

        await kube.watch(WORKLOADS, lambda s: self.app.post_message(WorkloadsRefreshed(s)))

    async def _review(self, kube: KubeSource) -> None:
        """Ask RBAC, before anything is pressed, which actions this responder may take."""
        kinds = ("Deployment", "StatefulSet", "DaemonSet")
        namespaces = [n for n in kube.namespaces if n != "*"] or [kube.target.namespace]
        await self.session.access.review(kube.api, access.everything(kinds, namespaces))
        self.app.refresh_bindings()  # greyed keys in the footer

    def apply(self, snap: WatchSnapshot[WorkloadRow]) -> None:
        rows = snap.rows_by_uid
        if rows or snap.ok:
            if snap.full or self._full:
                self.table.set_rows(rows)
            else:
                changed = snap.changed or frozenset()
                self.table.apply_delta(rows, changed, snap.removed)
            self._full = False
            self.rows = rows
        else:
            self._full = True
        if snap.ok:
            bad = sum(not r.healthy for r in rows.values())
            summary = f"{bad}/{len(rows)} workloads not ready or rolling"
            self.status.show(SourceState("live", since=snap.fetched_at, summary=summary))
        else:
            msg = f"watch lost, retrying: {snap.error}" if snap.error else "watch lost, retrying"
            self.status.show(SourceState("stale", msg, since=snap.stale_since or snap.fetched_at))
        self._changes(snap)

    def _changes(self, snap: WatchSnapshot[WorkloadRow] | None) -> None:
        room = self.session.room
        facts = self.session.signals.change_facts(snap, self.session.clock())
        if room is not None and facts:
            run_use_case(self.app, partial(record_changes, room, facts))

    def tick(self) -> None:
        """Once a second: changes whose hold ran out are told."""
        self._changes(None)

    # ----- actions -----------------------------------------------------------------------------
    def row(self, uid: str) -> WorkloadRow | None:
        row = self.rows.get(uid)
        if row is None or self.kube is None:
            self.app.notify("That workload is gone.", severity="warning")
        return row

    def on_action(self, verb: str, row: WorkloadRow) -> None:
        if verb == "pods":
            return  # the views feature shows its pods
        if not self.pods.check(verb, row.namespace, row.kind):
            return
        if verb == "scale":
            self._ask_scale(row)
        elif verb == "rollback":
            self.app.run_worker(self._ask_rollback(row), group="describe", exit_on_error=False)
        elif verb == "restart":
            self.pods.runner.confirm(self.restart_plan(row))
        elif verb == "pause":
            self.pods.runner.confirm(self.pause_plan(row))

    def _ours(self, result: ActionResult) -> None:
        """This console made the change: the changes tracker must not report it."""
        generation = int(result.seen.get("generation") or 0)
        kind = str(result.seen.get("kind") or "")
        if result.ok and generation and kind:
            target = f"{RESOURCES.get(kind, kind)}/{result.namespace}/{result.name}"
            self.session.signals.changes.ours(target, generation)

    def _plan(self, row: WorkloadRow, **kw: Any) -> Plan:
        return Plan(namespace=row.namespace, target=_target(row), done=self._ours, **kw)

    def _ctx(self) -> str:
        return self.pods.context()

    def restart_plan(self, row: WorkloadRow) -> Plan:
        assert self.kube is not None
        api, k = self.kube.api, self.session.settings.kube
        ctx = f" --context {self._ctx()}" if self._ctx() else ""
        return self._plan(
            row,
            title=f"Rollout restart {row.ref}?",
            what=f"{_what(row)}\nEvery pod is replaced, one by one, behind its readiness gate.",
            label="Restart",
            command=f"kubectl rollout restart {row.ref} -n {row.namespace}{ctx}",
            verb="rollout-restart",
            run=lambda: restart.rollout_restart(api, row.namespace, (row.kind, row.name)),
            verify=lambda r: verify.verify_rollout(
                api, r.namespace, r.name, r.seen, wait=k.verify_rollout.total_seconds()
            ),
        )

    def pause_plan(self, row: WorkloadRow) -> Plan:
        assert self.kube is not None
        api, pause = self.kube.api, not row.paused
        word = "pause" if pause else "resume"
        what = (
            "Changes to its template wait until it is resumed; the rollout in flight stops."
            if pause
            else "Its rollout continues, with every change made while it was paused."
        )
        ctx = f" --context {self._ctx()}" if self._ctx() else ""
        return self._plan(
            row,
            title=f"{word.capitalize()} the rollout of {row.ref}?",
            what=f"{_what(row)}\n{what}",
            label=word.capitalize(),
            command=f"kubectl rollout {word} {row.ref} -n {row.namespace}{ctx}",
            verb=f"rollout-{word}",
            run=lambda: rollout.set_paused(api, row.namespace, row.kind, row.name, pause),
            verify=lambda r: verify.verify_paused(api, r.namespace, r.name, r.seen),
        )

    def _ask_scale(self, row: WorkloadRow) -> None:
        def chosen(text: str | None) -> None:
            if text is None:
                return
            try:
                n = int(text.strip())
            except ValueError:
                self.app.notify(f"not a number of replicas: {text!r}", severity="warning")
                return
            if n < 0 or n > scale.MAX_REPLICAS:
                self.app.notify(f"replicas must be 0 to {scale.MAX_REPLICAS}", severity="warning")
                return
            self.pods.runner.confirm(self.scale_plan(row, n))

        prompt = PromptScreen(
            f"Scale {row.ref}: replicas (now {row.desired})", "e.g. 4", value=str(row.desired)
        )
        self.app.push_screen(prompt, chosen)

    def scale_plan(self, row: WorkloadRow, replicas: int) -> Plan:
        assert self.kube is not None
        api, k = self.kube.api, self.session.settings.kube
        drop = " (fewer pods: the ones removed stop serving)" if replicas < row.desired else ""
        return self._plan(
            row,
            title=f"Scale {row.ref} to {replicas}?",
            what=f"{_what(row)}\nreplicas:  {row.desired} now -> {replicas}{drop}",
            label="Scale",
            command=scale.command(row.kind, row.name, row.namespace, replicas, self._ctx()),
            verb="scale",
            run=lambda: scale.scale(api, row.namespace, row.kind, row.name, replicas),
            verify=lambda r: verify.verify_scale(
                api, r.namespace, r.name, r.seen, wait=k.verify_rollout.total_seconds()
            ),
        )

    async def _ask_rollback(self, row: WorkloadRow) -> None:
        """Read the history, offer its revisions (the previous one first), then confirm."""
        assert self.kube is not None
        try:
            h = await rollout.history(self.kube.api, row.namespace, row.kind, row.name)
            default = h.target()
        except Exception as e:
            self.app.notify(f"{row.ref}: {error_text(e)}", severity="warning", title="No rollback")
            return
        current = h.current
        choices = [
            (
                str(r.number),
                f"{r.words()}{' (previous)' if r is default else ''}"
                + (f": {r.cause}" if r.cause else ""),
            )
            for r in reversed(h.revisions)
            if not r.current
        ]
        if current is not None:
            choices.append((str(current.number), f"{current.words()}: running now"))

        def picked(value: str | None) -> None:
            if value is None:
                return
            target = next(r for r in h.revisions if str(r.number) == value)
            if target.current:
                self.app.notify(f"{row.ref} already runs revision {value}", severity="warning")
                return
            self.pods.runner.confirm(self.rollback_plan(row, h, target.number))

        title = f"Roll back {row.ref} to which revision?"
        self.app.push_screen(ChoiceScreen(title, choices, str(default.number)), picked)

    def rollback_plan(self, row: WorkloadRow, h: rollout.History, to: int) -> Plan:
        assert self.kube is not None
        api, k = self.kube.api, self.session.settings.kube
        target = next(r for r in h.revisions if r.number == to)
        now = h.current
        before = now.words() if now else "(current revision unknown)"
        asked = 0 if target is h.target() else to
        return self._plan(
            row,
            title=f"Roll back {row.ref}?",
            what=(
                f"workload:  {row.ref}\nrevision:  {now.number if now else '?'} -> {to}\n"
                f"image:     {', '.join(now.images) if now else '?'} -> "
                f"{', '.join(target.images)}\nfrom {before} to {target.words()}; pods are "
                "replaced as in a rollout."
            ),
            label="Roll back",
            command=rollout.command(row.kind, row.name, row.namespace, asked, self._ctx()),
            verb="rollout-undo",
            run=lambda: rollout.undo(api, row.namespace, row.kind, row.name, to, known=h),
            verify=lambda r: verify.verify_rollout(
                api, r.namespace, r.name, r.seen, wait=k.verify_rollout.total_seconds()
            ),
        )


def _target(row: WorkloadRow) -> str:
    return f"{row.resource}/{row.namespace}/{row.name}"


def _what(row: WorkloadRow) -> str:
    image = ", ".join(row.images) or "-"
    return (
        f"workload:  {row.ref}\nready:     {row.ready}/{row.desired}, revision "
        f"{row.revision or '-'}\nimage:     {image}"
    )
