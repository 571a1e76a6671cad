"""The war-room screen: header; health | Kubernetes (pods, deployments or nodes) on top;
timeline | checklist below; the evidence and drain progress lines and the footer. Its widgets
are made in the constructor, so the features that feed them can be given them before the
screen is mounted. In read-only mode every table is the class without mutating keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen

from warroom.widgets.checklist import Checklist
from warroom.widgets.evidence_progress import EvidenceProgress
from warroom.widgets.footer import PaneFooter
from warroom.widgets.header import IncidentHeader
from warroom.widgets.health_pane import AlertsTable, HealthTable, MutableAlertsTable
from warroom.widgets.keys import bindings_for
from warroom.widgets.nodes_pane import MutableNodesTable, NodesTable
from warroom.widgets.panes import KubePane, Pane
from warroom.widgets.pods_pane import MutablePodsTable, PodsTable
from warroom.widgets.source_status import SourceStatus
from warroom.widgets.timeline import Timeline, TimelineDetails
from warroom.widgets.workloads_pane import MutableWorkloadsTable, WorkloadsTable


class MainScreen(Screen):
    BINDINGS = bindings_for("app")
    # Zoomed (z), a pane fills the screen below the header; the footer and progress stay.
    ALLOW_IN_MAXIMIZED_VIEW = "IncidentHeader, EvidenceProgress, PaneFooter"

    # DEFAULT_CSS, not CSS: Textual loads a screen's CSS only when it is pushed or switched
    # to, never for the default screen (get_default_screen), so these rules went unapplied.
    DEFAULT_CSS = """
    #top, #bottom { height: 1fr; }
    /* Health needs less width than pods once both fit: at 220 columns a half-empty health
       pane took width the pods' NODE column needed. */
    #health-pane { width: 1fr; max-width: 100; }
    #pods-pane { width: 1fr; }
    Pane.-maximized { width: 100% !important; max-width: 100% !important; }
    #timeline-pane { width: 3fr; }
    #health-table { height: 2fr; }
    #alerts-status { border-top: solid $primary-darken-3; height: 2; }
    #alerts-table { height: 1fr; }
    #checklist-pane { width: 2fr; }
    .kube-view { height: 1fr; }
    """

    def __init__(
        self, clock: Callable[[], datetime], *, read_only: bool, on_ready: Callable[[], None]
    ) -> None:
        super().__init__()
        self.on_ready = on_ready
        self.header = IncidentHeader(clock, id="header")
        self.health_status = SourceStatus(clock, id="health-status")
        # Tables appear with their first data: until then the status line says why.
        self.health_table = HealthTable(id="health-table")
        self.health_table.display = False
        self.alerts_status = SourceStatus(clock, id="alerts-status")
        # Read-only binds no mutating key at all (k9s's rule), rather than refusing it.
        alerts_class = AlertsTable if read_only else MutableAlertsTable
        self.alerts_table = alerts_class(id="alerts-table", clock=clock)
        self.alerts_table.display = False
        self.kube_pane = KubePane(2, id="pods-pane")
        self.pods_status = SourceStatus(clock, id="pods-status")
        table_class = PodsTable if read_only else MutablePodsTable
        self.pods_table = table_class(id="pods-table", clock=clock)
        self.pods_table.display = False
        self.workloads_status = SourceStatus(clock, id="workloads-status")
        workloads_class = WorkloadsTable if read_only else MutableWorkloadsTable
        self.workloads_table = workloads_class(id="workloads-table", clock=clock)
        self.nodes_status = SourceStatus(clock, id="nodes-status")
        nodes_class = NodesTable if read_only else MutableNodesTable
        self.nodes_table = nodes_class(id="nodes-table", clock=clock)
        self.views = {
            "pods": Vertical(classes="kube-view", id="pods-view"),
            "workloads": Vertical(classes="kube-view", id="workloads-view"),
            "nodes": Vertical(classes="kube-view", id="nodes-view"),
        }
        self.views["workloads"].display = self.views["nodes"].display = False
        self.timeline = Timeline(id="timeline")
        self.timeline_details = TimelineDetails(id="timeline-details")
        self.checklist = Checklist(id="checklist")
        self.progress = EvidenceProgress(id="evidence-progress")
        self.drain_progress = EvidenceProgress(id="drain-progress")

    def compose(self) -> ComposeResult:
        yield self.header
        with Horizontal(id="top"):
            with Pane(1, "Health", id="health-pane"):
                yield self.health_status
                yield self.health_table
                yield self.alerts_status
                yield self.alerts_table
            with self.kube_pane:
                with self.views["pods"]:
                    yield self.pods_status
                    yield self.pods_table
                with self.views["workloads"]:
                    yield self.workloads_status
                    yield self.workloads_table
                with self.views["nodes"]:
                    yield self.nodes_status
                    yield self.nodes_table
        with Horizontal(id="bottom"):
            with Pane(3, "Timeline", id="timeline-pane"):
                yield self.timeline
                yield self.timeline_details
            with Pane(4, "Checklist", id="checklist-pane"):
                yield self.checklist
        yield self.progress
        yield self.drain_progress
        yield PaneFooter(compact=True)

    def on_mount(self) -> None:
        self.on_ready()
