"""WarRoomApp: composes the screen, builds one object per feature, and routes to them.

Keys run `app.run('<id>')` (one router, fed by the key table in warroom.widgets.keys); widget
intents and worker snapshots arrive as Messages and go to the feature that owns them. The
features do the work: incident use cases, health, pods, evidence, status updates, the drill.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from functools import partial
from typing import Any

from textual.app import App, SystemCommand
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable
from textual.worker import Worker, WorkerState

from warroom import __version__
from warroom.actions.situation import live as live_situation
from warroom.bootstrap import kube_context, own_secrets, read_only_for
from warroom.console.drill import DrillFeature
from warroom.console.evidence import EvidenceFeature
from warroom.console.followup import FollowUpFeature
from warroom.console.health import HealthFeature
from warroom.console.incident import IncidentActions
from warroom.console.kube_views import KubeViews
from warroom.console.messages import (
    AlertsRefreshed,
    HealthRefreshed,
    LoadsRefreshed,
    NodesRefreshed,
    PodsRefreshed,
    RoomOpened,
    TimelineChanged,
    WorkloadsRefreshed,
)
from warroom.console.nodes import NodesFeature
from warroom.console.paging import PagingFeature
from warroom.console.pods import PodsFeature
from warroom.console.quarantine import QuarantineFeature
from warroom.console.screen import MainScreen
from warroom.console.session import Session
from warroom.console.signing import SigningFeature
from warroom.console.silences import SilencesFeature
from warroom.console.updates import UpdatesFeature
from warroom.console.view import IncidentView
from warroom.console.work import USE_CASE_GROUPS, busy_workers
from warroom.console.workloads import WorkloadsFeature
from warroom.errors import UsageError
from warroom.model import utcnow
from warroom.room import RoomError, WarRoom
from warroom.sanitize import strip_control
from warroom.settings import Settings
from warroom.store import IncidentRepository
from warroom.widgets.dialogs import ConfirmScreen, HelpEntry, HelpScreen
from warroom.widgets.health_pane import AlertsTable, HealthTable
from warroom.widgets.keyed_table import KeyedTable, KubeAction
from warroom.widgets.keys import (
    KEYS,
    SCOPE_TITLES,
    KeySpec,
    key_rows,
    keymap_problems,
    shown_key,
    spec,
)
from warroom.widgets.messages import (
    EventHighlighted,
    EventSelected,
    PinRequested,
    ToggleRequested,
)
from warroom.widgets.panes import KubePane, Pane
from warroom.widgets.pod_views import LogScreen
from warroom.widgets.pods_pane import PodAction, PodsTable

log = logging.getLogger("warroom")

FOLLOW_INTERVAL = 0.25  # seconds between looks at the incident file for other writers
DELIVER_INTERVAL = 2.0  # seconds between outbox passes


class WarRoomApp(App[int]):
    TITLE = "warroom"
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        settings: Settings,
        *,
        repo: IncidentRepository,
        room: WarRoom | None = None,
        clock: Callable[[], datetime] = utcnow,
        started: float | None = None,
        follow: bool = True,
        poll_sources: bool = True,
        world: Any = None,
    ) -> None:
        super().__init__()
        for key_id, problem in keymap_problems(settings.keymap):
            raise UsageError(str(settings.error(f"keymap.{key_id}", problem)))
        read_only = read_only_for(settings, kube_context(settings))
        self.session = Session(settings, repo, clock, room=room, read_only=read_only)
        self.started = started if started is not None else time.perf_counter()
        self.follow = follow
        self.poll_sources = poll_sources  # tests with fixed data feed snapshots themselves
        self.world = world  # a drill's DrillHandle, or None
        self._first_frame_logged = False
        self._link: Any = None  # the store's link as the header last showed it
        main = self.main = MainScreen(clock, read_only=read_only, on_ready=self._screen_ready)
        s = self.session
        self.view = IncidentView(
            s, main.header, main.timeline, main.checklist, main.timeline_details
        )
        self.incident = IncidentActions(self, s)
        self.followup = FollowUpFeature(self, s)
        self.health = HealthFeature(
            self, s, main.health_status, main.health_table, main.alerts_status, main.alerts_table
        )
        self.pods = PodsFeature(self, s, main.pods_status, main.pods_table)
        self.workloads = WorkloadsFeature(
            self, s, main.workloads_status, main.workloads_table, self.pods
        )
        self.nodes = NodesFeature(
            self, s, main.nodes_status, main.nodes_table, self.pods, main.drain_progress
        )
        self.views = KubeViews(self, main, self.workloads, self.nodes)
        self.silences = SilencesFeature(self, s, self.health, self.pods)
        self.updates = UpdatesFeature(self, s)
        self.signing = SigningFeature(self, s, lambda: self.updates.outbox)
        self.paging = PagingFeature(self, s, self.updates.deliver)
        self.incident.on_resolved = self.updates.offer_resolution
        self.evidence = EvidenceFeature(
            self,
            s,
            main.progress,
            self.health,
            self.pods,
            stop_key=lambda: shown_key(spec("evidence"), s.settings.keymap).split(",")[0],
            our_secrets=self._our_secrets,
        )
        self.quarantine = QuarantineFeature(self, s, self.pods, self.evidence)
        self.drill = DrillFeature(self, world) if world is not None else None
        self.view.note = self.health.note
        self.view.undelivered = lambda: self.updates.undelivered
        self.view.pages_undelivered = lambda: self.updates.pages_undelivered
        if self.drill is not None:
            drill = self.drill
            self.view.drill_hint = lambda: drill.hint()[0]
        # A delivery pass writes pages, acknowledgements and failures: the timeline follows.
        self.updates.on_change = self.sync
        self.updates.live = lambda base: live_situation(
            base,
            self.health.snapshot,
            self.health.alert_snapshot.alerts
            if self.health.alert_snapshot and self.health.alert_snapshot.ok
            else None,
            self.pods.rows.values() if self.pods.rows else None,
        )
        self.evidence.on_done = self._evidence_done
        self.routes: dict[str, Callable[[], Any]] = {
            "note": self.incident.note,
            "severity": self.incident.severity,
            "status": self.incident.status,
            "role": self.incident.role,
            "ack": self.incident.ack,
            "escalate": self.paging.escalate,
            "action_item": self.followup.add_item,
            "export": self.incident.export,
            "update": self.updates.compose,
            "evidence": self.evidence.start,
            "accept": self.health.accept_suggestion,
            "alert": self.health.alert,
            "promql": self.health.promql,
            "help": self.show_help,
            "zoom": self.zoom,
            "focus_health": partial(self.focus_pane, "health"),
            "focus_pods": partial(self.focus_pane, "pods"),
            "focus_timeline": partial(self.focus_pane, "timeline"),
            "focus_checklist": partial(self.focus_pane, "checklist"),
            "quit": self.quit_room,
        }
        if settings.keymap:
            # "note" names an app key; "timeline.pin" and the like name a widget's binding.
            self.set_keymap(
                {(k if "." in k else f"warroom.{k}"): v for k, v in settings.keymap.items()}
            )

    @property
    def room(self) -> WarRoom | None:
        return self.session.room

    # ----- lifecycle -------------------------------------------------------------------------
    def get_default_screen(self) -> Screen:
        return self.main

    def _screen_ready(self) -> None:
        """The main screen's widgets exist: start the clocks and the sources."""
        self.call_after_refresh(self._log_first_frame)
        self.set_interval(1.0, self._tick)
        if self.follow:
            self.set_interval(FOLLOW_INTERVAL, self._follow)
        self.health.start(self.poll_sources)
        self.pods.start(self.poll_sources)
        self.set_interval(DELIVER_INTERVAL, self.updates.deliver)
        if self.drill is not None:
            self.drill.start()
        if self.session.room is None:
            self.incident.ask_declare()
        else:
            self.updates.open_outbox()
            self.view.sync()
            self.incident.check_deadlines()
            self.main.timeline.focus()

    def _log_first_frame(self) -> None:
        if self._first_frame_logged:
            return
        self._first_frame_logged = True
        took = time.perf_counter() - self.started
        log.debug("startup: first frame after %.3f s (warroom %s)", took, __version__)
        marker = os.environ.get("WARROOM_FIRST_FRAME_FILE")
        if marker:  # bench/startup.py reads this
            with open(marker, "w", encoding="utf-8") as f:
                f.write(f"{time.time():.6f}\n")

    def widgets_alive(self) -> bool:
        """False while the app shuts down: timers and worker callbacks may still fire after
        the main screen's widgets are gone."""
        return self.main.is_attached and not self._exit and self.main.header.is_attached

    def _tick(self) -> None:
        if not self.widgets_alive():
            return
        self.incident.check_deadlines()
        self.paging.check()
        self.main.header.tick()
        self.health.tick()
        for status in (self.main.pods_status, self.main.workloads_status, self.main.nodes_status):
            status.refresh()
        self.workloads.tick()
        self.nodes.tick()
        if self.session.room is not None:
            self.view.sync_checklist()
            self.signing.tick()

    def _follow(self) -> None:
        if self.session.room is not None:
            self.run_worker(
                self._refresh_room, thread=True, exclusive=True, group="follow", exit_on_error=False
            )

    def _refresh_room(self) -> None:
        room = self.session.room
        if room is None:
            return
        new = room.refresh()
        link = room.store.link()  # the header says when the shared database is away
        if new or link != self._link:
            self._link = link
            self.post_message(TimelineChanged())

    def timeline_changed(self) -> None:
        """Someone wrote to the timeline (any thread: the drill recorder calls it)."""
        self.post_message(TimelineChanged())

    def sync(self) -> None:
        if self.widgets_alive():
            self.view.sync()

    def switch_room(self, room: WarRoom) -> None:
        """Show another incident: the widgets start over from its timeline."""
        old, self.session.room = self.session.room, room
        if old is not None and old is not room:
            old.store.close()
        self.updates.open_outbox()
        self.view.restart()
        self.main.timeline.focus()

    # ----- routing ---------------------------------------------------------------------------
    def action_run(self, key_id: str) -> None:
        self.routes[key_id]()

    def on_timeline_changed(self, _: TimelineChanged) -> None:
        self.sync()

    def on_room_opened(self, message: RoomOpened) -> None:
        self.switch_room(message.room)

    def on_health_refreshed(self, message: HealthRefreshed) -> None:
        if self.widgets_alive():
            self.health.apply_health(message.snapshot)

    def on_alerts_refreshed(self, message: AlertsRefreshed) -> None:
        if self.widgets_alive():
            self.health.apply_alerts(message.snapshot)

    def on_pods_refreshed(self, message: PodsRefreshed) -> None:
        if self.widgets_alive():
            self.pods.apply(message.snapshot)

    def on_workloads_refreshed(self, message: WorkloadsRefreshed) -> None:
        if self.widgets_alive():
            self.workloads.apply(message.snapshot)

    def on_nodes_refreshed(self, message: NodesRefreshed) -> None:
        if self.widgets_alive():
            self.nodes.apply_nodes(message.snapshot)

    def on_loads_refreshed(self, message: LoadsRefreshed) -> None:
        if self.widgets_alive():
            self.nodes.apply_loads(message.snapshot)

    def on_kube_pane_view_requested(self, message: KubePane.ViewRequested) -> None:
        if message.view is None:
            self.views.ask()
        else:
            self.views.show(message.view)

    def on_kube_action(self, message: KubeAction) -> None:
        self.views.on_action(message.view, message.verb, message.uid)

    def on_keyed_table_filter_requested(self, message: KeyedTable.FilterRequested) -> None:
        self.views.ask_filter(message.view)

    def on_alerts_table_silence_requested(self, message: AlertsTable.SilenceRequested) -> None:
        self.silences.on_request(message.fingerprint)

    def on_pod_action(self, message: PodAction) -> None:
        row = self.pods.row(message.uid)
        if row is None:
            return
        if message.verb == "evidence":
            self.evidence.start(row.namespace, row.name)
        elif message.verb == "quarantine":
            self.quarantine.on_key(row)
        else:
            self.pods.on_pod_action(message.verb, row)

    def on_log_screen_wanted(self, message: LogScreen.Wanted) -> None:
        self.pods.logs_wanted(message.screen)

    def on_pods_table_filter_requested(self, _: PodsTable.FilterRequested) -> None:
        self.views.ask_filter("pods")

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if isinstance(event.data_table, HealthTable):
            event.stop()
            self.health.open_series(str(event.row_key.value))
        elif isinstance(event.data_table, AlertsTable):
            event.stop()
            self.health.alert()

    def on_pin_requested(self, message: PinRequested) -> None:
        self.incident.pin(message.seq)

    def on_toggle_requested(self, message: ToggleRequested) -> None:
        self.incident.toggle(message.item_id)

    def on_event_selected(self, message: EventSelected) -> None:
        self.incident.show_event(message.seq)

    def on_event_highlighted(self, message: EventHighlighted) -> None:
        self.view.show_details(message.seq if message.cut else None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group not in USE_CASE_GROUPS:
            return
        if event.state == WorkerState.SUCCESS:
            self.sync()
        elif event.state == WorkerState.ERROR:
            err = worker.error
            if isinstance(err, RoomError):
                self.notify(str(err), severity="warning", title="Not done")
            else:
                log.exception("use case failed", exc_info=err)
                self.notify(f"{type(err).__name__}: {err}", severity="error", title="Failed")
            self.sync()

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every toast is inert plain text, whatever the caller asked: messages carry pod
        names, API errors and alert text, which must not style the screen or reach the
        terminal as escape sequences."""
        super().notify(
            strip_control(str(message)),
            title=strip_control(str(title)),
            severity=severity,
            timeout=timeout,
            markup=False,
        )

    # ----- the app's own keys ----------------------------------------------------------------
    def focus_pane(self, name: str) -> None:
        self.main.query_one(f"#{name}-pane", Pane).focus_first()

    def help_entries(self) -> list[HelpEntry]:
        """Every key of the table, as bound now (keymap rebinds included), then the moves."""
        rows = key_rows(self.session.settings.keymap)
        return [HelpEntry(key, what, bid, section) for section, key, bid, what in rows]

    def zoom(self) -> None:
        """The focused pane fills the screen; again (or escape) restores the four panes."""
        screen = self.main
        if screen.maximized is not None:
            screen.minimize()
        elif screen.focused is not None:
            screen.maximize(screen.focused)

    def show_help(self) -> None:
        intro = self.drill.hint() if self.drill is not None else []
        self.push_screen(HelpScreen(self.help_entries(), intro))

    def quit_room(self) -> None:
        busy = busy_workers(self)
        if not busy:
            self.exit(0)
            return
        groups = ", ".join(sorted({w.group for w in busy}))

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.exit(0)

        self.push_screen(
            ConfirmScreen(
                "Quit while work is in flight?",
                f"{len(busy)} operation(s) still running: {groups}.\n"
                "Quitting may leave them unfinished.",
                "Quit anyway",
            ),
            confirmed,
        )

    def _evidence_done(self) -> None:
        if self.widgets_alive():
            self.main.progress.finish()
            self.sync()

    def _our_secrets(self) -> list[str]:
        """Our own credentials, redacted wherever they turn up (a log line echoing a header)."""
        return own_secrets(self.session.settings)

    # ----- command palette: the same table as the keys ---------------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if isinstance(screen, MainScreen):
            keymap = self.session.settings.keymap
            for k in KEYS:
                if k.id == "help" or (k.scope != "app" and not self._palette_widget(k)):
                    continue
                pane = SCOPE_TITLES.get(k.scope, "").split(" (")[0]
                title = k.help if k.scope == "app" else f"{pane}: {k.help}"
                yield SystemCommand(
                    title, f"key: {shown_key(k, keymap)}", partial(self._palette_run, k)
                )
        yield from super().get_system_commands(screen)

    def _palette_widget(self, k: KeySpec) -> Widget | None:
        """The pane a widget key acts on, if it binds that key (read-only binds no mutating
        key, and the palette offers no more than the keys do)."""
        widget = {
            "health": self.main.health_table,
            "alerts": self.main.alerts_table,
            "kube": self.main.kube_pane,
            "pods": self.main.pods_table,
            "workloads": self.main.workloads_table,
            "nodes": self.main.nodes_table,
            "timeline": self.main.timeline,
            "checklist": self.main.checklist,
        }.get(k.scope)
        if widget is None:
            return None
        bound = (b for c in type(widget).__mro__ for b in c.__dict__.get("BINDINGS", []))
        return widget if any(getattr(b, "id", None) == k.binding_id for b in bound) else None

    def _palette_run(self, k: KeySpec) -> None:
        if k.scope == "app":
            self.call_later(self.action_run, k.id)
            return
        widget = self._palette_widget(k)
        if widget is not None:  # on the row under that pane's cursor, as the key would
            if k.scope in self.views.tables:  # the Kubernetes pane shows that view first
                self.views.show(k.scope, focus=False)
            widget.focus()
            self.call_later(widget.run_action, k.action)
