"""The nodes view: the cluster's nodes (watched) and every pod's requests (watched across all
namespaces, a few fields per pod, summed per node as they change), shown for the nodes the
incident's pods use and every node in trouble. Its actions: cordon, uncordon and drain; a drain
shows its progress on a line above the footer, and `D` again offers to stop it.

Listing every pod of the cluster may be refused by RBAC (a responder allowed only their
namespaces): the view then shows the nodes without requests and says why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from functools import partial
from typing import TYPE_CHECKING

from textual.app import App

from warroom.actions import drain
from warroom.console.kube_actions import Plan
from warroom.console.messages import LoadsRefreshed, NodesRefreshed
from warroom.console.session import Session
from warroom.console.work import run_use_case
from warroom.nodes import NodeInfo, NodeLoads, NodeRow, incident_nodes
from warroom.pods import WatchSnapshot
from warroom.signals import record_changes
from warroom.widgets.dialogs import ConfirmScreen
from warroom.widgets.evidence_progress import EvidenceProgress
from warroom.widgets.keys import shown_key, spec
from warroom.widgets.nodes_pane import NodesTable
from warroom.widgets.source_status import SourceState, SourceStatus

if TYPE_CHECKING:
    from warroom.actions.drain import DrainProgress
    from warroom.console.pods import PodsFeature
    from warroom.sources.kube import KubeSource

log = logging.getLogger("warroom")


class NodesFeature:
    def __init__(
        self,
        app: App,
        session: Session,
        status: SourceStatus,
        table: NodesTable,
        pods: PodsFeature,
        progress: EvidenceProgress,
    ) -> None:
        self.app, self.session, self.status, self.table = app, session, status, table
        self.pods, self.progress = pods, progress
        self.infos: dict[str, NodeInfo] = {}
        self.loads = NodeLoads(session.settings.kube.namespaces)
        self.rows: dict[str, NodeRow] = {}
        self.loads_error: str | None = None
        self._nodes_snap: WatchSnapshot[NodeInfo] | None = None
        self._stop: asyncio.Event | None = None
        self._draining = ""
        pods.on_source.append(self.start)
        if hasattr(table, "refused"):
            table.refused = lambda row, verb: pods.refusal(None)
            table.denied = lambda row, verb: session.access.denial(verb)

    # ----- the watches -------------------------------------------------------------------------
    def start(self, kube: KubeSource) -> None:
        from warroom.sources.kube import NODES, POD_LOADS

        self.loads = NodeLoads(kube.namespaces)
        self.status.show(SourceState("connecting", kube.cluster_server))
        post = self.app.post_message
        for name, resources, message, namespaces in (
            ("nodes", [NODES], NodesRefreshed, None),
            ("loads", [POD_LOADS], LoadsRefreshed, ["*"]),
        ):
            work = kube.watch(resources, lambda s, m=message: post(m(s)), namespaces=namespaces)
            self.app.run_worker(work, exclusive=True, group=name, exit_on_error=False)

    def apply_nodes(self, snap: WatchSnapshot[NodeInfo]) -> None:
        if snap.rows_by_uid or snap.ok:
            self.infos = snap.rows_by_uid
        self._nodes_snap = snap
        self._redraw()
        if snap.ok:
            self._cordons(snap.rows_by_uid)

    def _cordons(self, nodes: Mapping[str, NodeInfo] | None) -> None:
        """Cordons made elsewhere, on the incident's nodes, as seen changes (signals)."""
        room = self.session.room
        facts = self.session.signals.cordon_facts(nodes, self.session.clock(), self.rows.keys())
        if room is not None and facts:
            run_use_case(self.app, partial(record_changes, room, facts))

    def tick(self) -> None:
        """Once a second: cordons whose hold ran out are told."""
        self._cordons(None)

    def apply_loads(self, snap: WatchSnapshot[object]) -> None:
        if snap.ok or snap.rows_by_uid:
            self.loads.apply(snap.rows_by_uid, snap.changed, snap.removed)  # type: ignore[arg-type]
            self.loads_error = None if snap.ok else snap.error
        else:
            self.loads_error = snap.error or "not listed yet"
        self._redraw()

    def _redraw(self) -> None:
        snap = self._nodes_snap
        if snap is None:
            return
        known = {r.node for r in self.pods.rows.values() if r.node}
        self.rows = incident_nodes(self.infos.values(), self.loads, known)
        if self.rows or snap.ok:
            self.table.set_rows(self.rows)
        if not snap.ok:
            msg = f"watch lost, retrying: {snap.error}" if snap.error else "watch lost, retrying"
            self.status.show(SourceState("stale", msg, since=snap.stale_since or snap.fetched_at))
            return
        bad = sum(not r.healthy for r in self.rows.values())
        summary = f"{bad}/{len(self.rows)} nodes in trouble (of {len(self.infos)})"
        if self.loads_error:
            summary += f"; pod requests unknown: {self.loads_error}"
        self.status.show(SourceState("live", since=snap.fetched_at, summary=summary))

    # ----- actions -----------------------------------------------------------------------------
    def row(self, uid: str) -> NodeRow | None:
        row = self.rows.get(uid)
        if row is None or self.pods.kube is None:
            self.app.notify("That node is gone.", severity="warning")
        return row

    def on_action(self, verb: str, row: NodeRow) -> None:
        if verb == "drain" and self._stop is not None:
            self._offer_stop()
            return
        if verb not in ("cordon", "drain") or not self.pods.check(verb, None):
            return
        self.pods.runner.confirm(
            self.cordon_plan(row) if verb == "cordon" else self.drain_plan(row)
        )

    def cordon_plan(self, row: NodeRow) -> Plan:
        kube = self.pods.kube
        assert kube is not None
        on, ctx = not row.unschedulable, self.pods.context()
        word = "cordon" if on else "uncordon"
        what = (
            "New pods are not scheduled on it; the pods running there stay."
            if on
            else "The scheduler may place new pods on it again."
        )
        return Plan(
            title=f"{word.capitalize()} node {row.name}?",
            what=f"node:      {row.name} ({row.status}, {_pods(row)})\n{what}",
            label=word.capitalize(),
            command=drain.cordon_command(row.name, on, ctx),
            namespace="",
            verb=word,
            target=f"nodes/{row.name}",
            run=lambda: drain.cordon(kube.api, row.name, on),
            verify=lambda r: drain.verify_cordon(kube.api, row.name, r.seen),
        )

    def drain_plan(self, row: NodeRow) -> Plan:
        kube = self.pods.kube
        assert kube is not None
        timeout = self.session.settings.kube.drain_timeout.total_seconds()
        return Plan(
            title=f"Drain node {row.name}?",
            what=(
                f"node:      {row.name} ({row.status}, {_pods(row)})\n"
                "It is cordoned, then every pod on it but DaemonSet pods is evicted through "
                "the Eviction API: disruption budgets are respected (a refusal is shown and "
                f"retried every 5s, for up to {int(timeout)}s). emptyDir data of those pods is "
                "lost. D again stops it."
            ),
            label="Drain",
            command=drain.drain_command(row.name, timeout, self.pods.context()),
            namespace="",
            verb="drain",
            target=f"nodes/{row.name}",
            run=lambda: self._drain(kube, row.name, timeout),
            verify=lambda r: drain.verify_drain(kube.api, row.name, r.seen),
        )

    async def _drain(self, kube: KubeSource, node: str, timeout: float) -> object:
        self._stop, self._draining = asyncio.Event(), node
        stop_key = shown_key(spec("nodes.drain"), self.session.settings.keymap).split(",")[0]
        self.progress.start(node, stop_key, title="Drain")
        try:
            return await drain.drain(
                kube.api, node, timeout=timeout, stop=self._stop, progress=self._progress
            )
        finally:
            self._stop, self._draining = None, ""
            self.progress.finish()

    def _progress(self, p: DrainProgress) -> None:
        self.progress.progress(p.fraction, p.message)

    def _offer_stop(self) -> None:
        def confirmed(ok: bool | None) -> None:
            if ok and self._stop is not None:
                self._stop.set()

        body = (
            f"node/{self._draining} stays cordoned; pods already evicted are not brought "
            "back. Stop evicting the others?"
        )
        self.app.push_screen(ConfirmScreen("Stop the drain?", body, "Stop"), confirmed)


def _pods(row: NodeRow) -> str:
    return f"{row.ours} of the incident's pods, {row.pods} in all" if row.pods >= 0 else "pods ?"
