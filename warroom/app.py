"""WarRoomApp: the Textual composition root. The only module where widgets meet the core.

Keys become widget Messages or actions, actions run WarRoom use cases in thread workers (the
UI never waits on a disk or a network), and the timeline the use cases write flows back into
the widgets. Another process writing the same incident shows up through the same path.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer
from textual.worker import Worker, WorkerState

from warroom import __version__
from warroom.app_evidence import EvidenceMixin
from warroom.app_health import HealthMixin
from warroom.app_pods import PodsMixin
from warroom.model import Event, Kind, Role, Severity, Status, utcnow
from warroom.room import RoomError, WarRoom
from warroom.sanitize import strip_control
from warroom.settings import Settings
from warroom.widgets.checklist import Checklist, ChecklistRow
from warroom.widgets.composer import ComposerScreen
from warroom.widgets.dialogs import (
    ChoiceScreen,
    ConfirmScreen,
    Declaration,
    DeclareScreen,
    EventScreen,
    HelpEntry,
    HelpScreen,
    PromptScreen,
)
from warroom.widgets.evidence_progress import EvidenceProgress
from warroom.widgets.header import HeaderData, IncidentHeader
from warroom.widgets.health_pane import AlertsTable, HealthTable
from warroom.widgets.messages import EventSelected, PinRequested, ToggleRequested
from warroom.widgets.panes import Pane
from warroom.widgets.pods_pane import MutablePodsTable, PodsTable
from warroom.widgets.source_status import SourceStatus
from warroom.widgets.timeline import Timeline, TimelineRow

log = logging.getLogger("warroom")

FOLLOW_INTERVAL = 0.25  # seconds between looks at the incident file for other writers


@dataclass(frozen=True)
class ActionSpec:
    """One named action: its key, palette entry and help line come from here."""

    id: str
    key: str
    action: str
    description: str
    show: bool = True
    group: str = "incident"
    help: str = ""

    @property
    def long(self) -> str:
        return self.help or f"Focus the {self.description.lower()} pane"


ACTIONS: list[ActionSpec] = [
    ActionSpec(
        "note",
        "n",
        "note",
        "Note",
        help="Add a note ('TODO:', 'Root cause:', 'Impact:'"
        " file it under that post-mortem section)",
    ),
    ActionSpec("severity", "s", "severity", "Severity", help="Change severity"),
    ActionSpec("status", "t", "status", "Status", help="Change status (resolve from here)"),
    ActionSpec("role", "o", "role", "Roles", help="Assign or unassign a role"),
    ActionSpec("ack", "k", "ack", "Ack", help="Acknowledge the incident (stops the ack clock)"),
    ActionSpec("update", "u", "update", "Update", help="Write and send a status update"),
    ActionSpec(
        "evidence",
        "e",
        "evidence",
        "Evidence",
        help="Collect a sealed evidence bundle, incident-wide (on a pod row: that pod);"
        " again to stop",
    ),
    ActionSpec("escalate", "E", "escalate", "Escalate", False, help="Escalate to someone"),
    ActionSpec(
        "accept",
        "S",
        "accept_suggestion",
        "Accept suggestion",
        False,
        help="Accept the severity a detection rule suggests",
    ),
    ActionSpec(
        "alert",
        "a",
        "alert",
        "Alert",
        False,
        "health",
        help="Attach the selected alert, or declare a new incident from it",
    ),
    ActionSpec(
        "promql", "colon", "promql", "PromQL", False, "health", help="Run an ad-hoc PromQL query"
    ),
    ActionSpec(
        "export",
        "x",
        "export",
        "Export",
        False,
        help="Write the post-mortem (Markdown) to the data dir",
    ),
    ActionSpec("help", "question_mark", "help", "Keys", help="Show every key"),
    ActionSpec("focus_health", "1", "focus_pane('health')", "Health", False, "focus"),
    ActionSpec("focus_pods", "2", "focus_pane('pods')", "Pods", False, "focus"),
    ActionSpec("focus_timeline", "3", "focus_pane('timeline')", "Timeline", False, "focus"),
    ActionSpec("focus_checklist", "4", "focus_pane('checklist')", "Checklist", False, "focus"),
    ActionSpec("quit", "q", "quit_room", "Quit", help="Quit (asks while work is in flight)"),
]

# Keys of focused widgets, for the help screen (their Binding ids are rebindable too).
WIDGET_KEYS = [
    HelpEntry("enter", "Show the event's full text, data and hash", "timeline.details"),
    HelpEntry("p", "Pin or unpin the event", "timeline.pin"),
    HelpEntry("↑ ↓ pgup pgdn home end", "Move; the timeline follows new events at the end", "-"),
    HelpEntry(
        "space / enter", "Toggle the checklist item (who and when are recorded)", "checklist.toggle"
    ),
    HelpEntry(
        "r / ctrl+d / l / d / e",
        "On a pod row: restart its owner, delete it, logs, describe, evidence of that pod",
        "pods.*",
    ),
    HelpEntry("tab / shift+tab", "Next / previous pane", "-"),
    HelpEntry("ctrl+p", "Command palette: every action by name", "-"),
]


class MainScreen(Screen):
    BINDINGS = [
        Binding(a.key, f"app.{a.action}", a.description, show=a.show, id=f"warroom.{a.id}")
        for a in ACTIONS
    ]

    CSS = """
    #top, #bottom { height: 1fr; }
    #timeline-pane { width: 2fr; }
    #health-table { height: 2fr; }
    #alerts-table { height: 1fr; border-top: solid $primary-darken-3; }
    #checklist-pane { width: 1fr; }
    """

    def __init__(self, clock: Callable[[], datetime], read_only: bool = False) -> None:
        super().__init__()
        self.clock = clock
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        yield IncidentHeader(self.clock, id="header")
        with Horizontal(id="top"):
            with Pane(1, "Health", id="health-pane"):
                yield SourceStatus(self.clock, id="health-status")
                # Tables appear with their first data: until then the status line says why.
                health_table = HealthTable(id="health-table")
                health_table.display = False
                yield health_table
                alerts_table = AlertsTable(id="alerts-table")
                alerts_table.display = False
                yield alerts_table
            with Pane(2, "Pods", id="pods-pane"):
                yield SourceStatus(self.clock, id="pods-status")
                table_class = PodsTable if self.read_only else MutablePodsTable
                pods = table_class(id="pods-table", clock=self.clock)
                pods.display = False
                yield pods
        with Horizontal(id="bottom"):
            with Pane(3, "Timeline", id="timeline-pane"):
                yield Timeline(id="timeline")
            with Pane(4, "Checklist", id="checklist-pane"):
                yield Checklist(id="checklist")
        yield EvidenceProgress(id="evidence-progress")
        yield Footer()

    def on_mount(self) -> None:
        self.app.main_ready()  # type: ignore[attr-defined]


class WarRoomApp(HealthMixin, PodsMixin, EvidenceMixin, App[int]):
    TITLE = "warroom"
    ENABLE_COMMAND_PALETTE = True

    def __init__(
        self,
        settings: Settings,
        *,
        repo: Any,
        room: WarRoom | None = None,
        clock: Callable[[], datetime] = utcnow,
        started: float | None = None,
        follow: bool = True,
        poll_sources: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.repo = repo
        self.room = room
        self.clock = clock
        self.started = started if started is not None else time.perf_counter()
        self.follow = follow
        self.poll_sources = poll_sources  # tests with fixed data feed snapshots themselves
        read_only = settings.read_only or (
            bool(settings.kube.context)
            and settings.kube.context in settings.kube.read_only_contexts
        )
        self.main = MainScreen(clock, read_only=read_only)
        self._shown = 0  # events already handed to the widgets
        self._first_frame_logged = False
        self.outbox: Any = None
        self.undelivered = 0
        self._deadlines_seen: set[str] = set()
        if settings.keymap:
            # "note" names our action; "timeline.pin" and the like name a widget's binding.
            self.set_keymap(
                {(k if "." in k else f"warroom.{k}"): v for k, v in settings.keymap.items()}
            )

    # ----- lifecycle --------------------------------------------------------------------
    def get_default_screen(self) -> Screen:
        return self.main

    def main_ready(self) -> None:
        """Called by MainScreen once its widgets exist."""
        self.call_after_refresh(self._log_first_frame)
        self.set_interval(1.0, self._tick)
        if self.follow:
            self.set_interval(FOLLOW_INTERVAL, self._follow)
        self._health_setup()
        self._pods_setup()
        self.set_interval(2.0, self._deliver)
        if self.room is None:
            self._ask_declare()
        else:
            self._make_outbox()
            self.sync()
            self._check_deadlines()
            self.main.query_one(Timeline).focus()

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

    def _widgets_alive(self) -> bool:
        """False while the app shuts down: timers and worker callbacks may still fire after
        the main screen's widgets are gone."""
        return self.main.is_attached and not self._exit and bool(self.main.query(IncidentHeader))

    def _tick(self) -> None:
        if not self._widgets_alive():
            return
        self._check_deadlines()
        self.main.query_one(IncidentHeader).tick()
        for status in self.main.query(SourceStatus):
            status.refresh()
        if self.room is not None:
            self._sync_checklist()

    # ----- following the store ----------------------------------------------------------
    def _follow(self) -> None:
        if self.room is not None:
            self._refresh_worker()

    @work(thread=True, exclusive=True, group="follow", exit_on_error=False)
    def _refresh_worker(self) -> None:
        room = self.room
        if room is not None and room.refresh():
            self.call_from_thread(self.sync)

    def sync(self) -> None:
        """Hand the widgets whatever events they have not seen, and the state they imply."""
        room = self.room
        if room is None or not self._widgets_alive():
            return
        events = room.events
        new = events[self._shown :]
        self._shown = len(events)
        timeline = self.main.query_one(Timeline)
        state = room.state
        rows = []
        for ev in new:
            if ev.kind == Kind.PIN:
                target = int(ev.data.get("target", 0))
                timeline.update_row(target, pinned=target in state.pinned)
            elif ev.kind == Kind.EDIT:
                target = int(ev.data.get("target", 0))
                timeline.update_row(target, text=state.edits.get(target, ""), edited=True)
            rows.append(self._row(ev))
        timeline.add_rows(rows)
        self._sync_header()
        self._sync_checklist()

    def _row(self, ev: Event) -> TimelineRow:
        state = self.room.state if self.room else None
        return TimelineRow(
            seq=ev.seq,
            time=ev.time.strftime("%H:%M:%S"),
            kind=ev.kind,
            actor=ev.actor,
            text=state.text_of(ev) if state else ev.text,
            pinned=bool(state and ev.seq in state.pinned),
            edited=bool(state and ev.seq in state.edits),
        )

    def _sync_header(self) -> None:
        room = self.room
        if room is None:
            return
        st = room.state
        policy = room.policy
        unacked = st.acked_at is None and not st.resolved
        declared = st.declared_at
        data = HeaderData(
            incident_id=st.incident_id or room.incident_id,
            title=st.title,
            severity=st.severity.value,
            severity_name=policy.name,
            status=st.status.value,
            declared_at=declared,
            resolved_at=st.resolved_at,
            roles={r.label: n for r, n in st.roles.items()},
            next_update_at=st.next_update_due(policy.update_every),
            respond_by=(declared + policy.respond_within) if unacked and declared else None,
            escalate_by=(
                declared + policy.escalate_after
                if unacked and declared and st.escalated_at is None
                else None
            ),
            drill=st.drill,
            read_only=self.settings.read_only,
            warn_before=self.settings.warn_before,
            note=self.health_note(),
            undelivered=self.undelivered,
        )
        self.main.query_one(IncidentHeader).show(data)

    def _sync_checklist(self) -> None:
        room = self.room
        if room is None:
            return
        now = self.clock()
        rows = [
            ChecklistRow(
                id=i.id,
                phase=i.phase,
                phase_title=i.phase_title,
                text=i.text,
                done=i.done,
                by=i.by,
                at=i.at.strftime("%H:%M") if i.at else None,
                due=_minutes(i.due_at - now) if i.due_at and not i.done else None,
                overdue=i.overdue(now),
            )
            for i in room.state.checklist.values()
        ]
        self.main.query_one(Checklist).set_rows(rows)

    # ----- running use cases ------------------------------------------------------------
    def run_use_case(self, fn: Callable[[], Any], *, group: str = "store") -> None:
        """Run a WarRoom use case off the UI thread; show its refusal, never a traceback."""
        self.run_worker(fn, thread=True, group=group, exit_on_error=False, name=group)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group not in ("store", "action", "declare"):
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

    def _need_room(self) -> WarRoom | None:
        if self.room is None:
            self.notify("No incident is open.", severity="warning")
        return self.room

    # ----- declare ----------------------------------------------------------------------
    def _ask_declare(self) -> None:
        sevs = [(s.value, self.settings.policy(s).name) for s in Severity]
        self.push_screen(DeclareScreen(sevs, list(self.settings.categories)), self._declared)

    def _declared(self, decl: Declaration | None) -> None:
        if decl is None:
            self.exit(0)
            return

        def declare() -> None:
            room = WarRoom.declare(
                self.repo,
                self.settings,
                title=decl.title,
                severity=decl.severity,
                category=decl.category,
                clock=self.clock,
            )
            self.call_from_thread(self.switch_room, room)

        self.run_use_case(declare, group="declare")

    def declare_from_alert(self, alert: Any, severity: Severity) -> None:
        title = f"{alert.name}: {alert.summary}" if alert.summary else alert.name

        def declare() -> None:
            room = WarRoom.declare(
                self.repo,
                self.settings,
                title=title,
                severity=severity,
                category="application",
                detected_at=alert.starts_at,
                clock=self.clock,
            )
            room.record(
                Kind.ALERT,
                f"Declared from alert {alert.name}",
                {
                    "fingerprint": alert.fingerprint,
                    "alertname": alert.name,
                    "transition": "attached",
                    "labels": alert.labels,
                },
            )
            self.call_from_thread(self.switch_room, room)

        self.run_use_case(declare, group="declare")

    def switch_room(self, room: WarRoom) -> None:
        """Show another incident: the widgets start over from its timeline."""
        old, self.room = self.room, room
        if old is not None and old is not room:
            old.store.close()
        self._make_outbox()
        self._shown = 0
        timeline = self.main.query_one(Timeline)
        timeline.clear_rows()
        self.sync()
        timeline.focus()

    # ----- status updates and deadlines -------------------------------------------------
    def _make_outbox(self) -> None:
        from warroom.actions.outbox import Outbox
        from warroom.updates import destinations

        self.outbox = None
        if self.room is None or self.room.store.read_only:
            return
        dests = destinations(self.settings)
        if dests:
            self.outbox = Outbox(
                self.room.store, dests, clock=self.clock, actor=self.settings.actor
            )

    @work(exclusive=True, group="deliver", exit_on_error=False)
    async def _deliver(self) -> None:
        outbox = self.outbox
        if outbox is None:
            return
        await outbox.deliver_due()
        count = outbox.undelivered_count()
        if count != self.undelivered:
            self.undelivered = count
            self._sync_header()

    def action_update(self) -> None:
        room = self._need_room()
        if room is None:
            return
        from warroom.updates import compose

        try:
            kind, text = compose(room, self.clock(), self.settings.templates_dir)
        except Exception as exc:  # a broken template file: say which
            self.notify(str(exc), severity="error", title="Template")
            return
        names = [
            f"{d.name} ({d.type})"
            for d in (self.outbox.destinations.values() if self.outbox else [])
        ]
        number = room.state.updates_sent + 1
        title = {
            "notification": "Incident notification (first update)",
            "resolution": "Resolution notice",
        }.get(kind, f"Status update #{number}")

        def send(text: str | None) -> None:
            if not text:
                return

            def post() -> None:
                from warroom.updates import post as post_update

                post_update(room, text, kind, self.clock(), self.outbox)
                self.call_from_thread(self._deliver)

            self.run_use_case(post)

        self.push_screen(ComposerScreen(title, text, names), send)

    def _check_deadlines(self) -> None:
        """Crossing a deadline writes one timeline event and raises a notification."""
        room = self.room
        if room is None or room.store.read_only:
            return
        st = room.state
        if st.resolved or st.declared_at is None:
            return
        now = self.clock()
        policy = room.policy
        due: list[tuple[str, Any]] = []
        nxt = st.next_update_due(policy.update_every)
        if nxt:
            due.append(("status update", nxt))
        if st.acked_at is None:
            due.append(("acknowledgement", st.declared_at + policy.respond_within))
            if st.escalated_at is None:
                due.append(("escalation", st.declared_at + policy.escalate_after))
        for name, at in due:
            key = f"{name}@{at.isoformat()}"
            if now < at or key in self._deadlines_seen:
                continue
            self._deadlines_seen.add(key)
            if any(e.kind == Kind.DEADLINE and e.data.get("key") == key for e in room.events):
                continue  # another console on this incident already recorded it
            text = f"Deadline missed: {name} was due {at.strftime('%H:%M')} ({st.severity.value})"
            self.notify(text, severity="error", title="Deadline", timeout=10)
            if self.settings.bell:
                self.bell()
            self.run_use_case(
                partial(
                    room.record,
                    Kind.DEADLINE,
                    text,
                    {"key": key, "deadline": name},
                    source="warroom",
                )
            )

    # ----- actions (the registry above binds keys and palette entries to these) ---------
    def action_note(self) -> None:
        room = self._need_room()
        if room is None:
            return

        def done(text: str | None) -> None:
            if text:
                self.run_use_case(partial(room.add_note, text))

        self.push_screen(
            PromptScreen("Add a note", "what happened? (TODO: / Root cause: / Impact: ...)"), done
        )

    def action_severity(self) -> None:
        room = self._need_room()
        if room is None:
            return
        choices = [(s.value, f"{s.value}  {self.settings.policy(s).name}") for s in Severity]

        def picked(value: str | None) -> None:
            if value and value != room.state.severity.value:
                self.run_use_case(partial(room.change_severity, value))

        self.push_screen(ChoiceScreen("Severity", choices, room.state.severity.value), picked)

    def action_status(self) -> None:
        room = self._need_room()
        if room is None:
            return
        choices = [(s.value, s.value) for s in Status]

        def picked(value: str | None) -> None:
            if not value or value == room.state.status.value:
                return
            if value == Status.RESOLVED.value:
                self.push_screen(
                    PromptScreen("Resolve: summary (optional)", "what fixed it?", allow_empty=True),
                    lambda text: (
                        text is not None and self.run_use_case(partial(room.resolve, text))
                    ),
                )
            else:
                self.run_use_case(partial(room.change_status, value))

        self.push_screen(ChoiceScreen("Status", choices, room.state.status.value), picked)

    def action_role(self) -> None:
        room = self._need_room()
        if room is None:
            return
        choices = [(r.value, f"{r.label}: {room.state.roles.get(r, '-')}") for r in Role]

        def picked(role: str | None) -> None:
            if not role:
                return
            current = room.state.roles.get(Role(role), "")
            self.push_screen(
                PromptScreen(
                    f"Who is {Role(role).label}? (empty unassigns)",
                    "name",
                    value=current,
                    allow_empty=True,
                ),
                lambda name: (
                    name is not None
                    and name != current
                    and self.run_use_case(partial(room.assign_role, role, name))
                ),
            )

        self.push_screen(ChoiceScreen("Assign a role", choices), picked)

    def action_ack(self) -> None:
        room = self._need_room()
        if room is not None:
            self.run_use_case(room.acknowledge)

    def action_escalate(self) -> None:
        room = self._need_room()
        if room is None:
            return
        self.push_screen(
            PromptScreen("Escalate to", "team, person or level"),
            lambda to: to and self.run_use_case(partial(room.escalate, to)),
        )

    def action_export(self) -> None:
        room = self._need_room()
        if room is None:
            return

        def export() -> None:
            from warroom.report import to_markdown

            path = self.settings.data_dir / "exports" / f"{room.incident_id}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(to_markdown(room.store.events(), self.clock()), encoding="utf-8")
            self.call_from_thread(self.notify, f"Post-mortem written to {path}", title="Export")

        self.run_use_case(export, group="export")

    def action_help(self) -> None:
        entries = [HelpEntry(_display_key(self, a), a.long, a.id) for a in ACTIONS] + WIDGET_KEYS
        self.push_screen(HelpScreen(entries))

    def action_focus_pane(self, name: str) -> None:
        self.main.query_one(f"#{name}-pane", Pane).focus_first()

    def action_quit_room(self) -> None:
        busy = [
            w
            for w in self.workers
            if w.group in ("store", "action", "declare", "evidence", "export")
            and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        ]
        if not busy:
            self.exit(0)
            return
        self.push_screen(
            ConfirmScreen(
                "Quit while work is in flight?",
                f"{len(busy)} operation(s) still running: "
                + ", ".join(sorted({w.group for w in busy}))
                + ".\nQuitting may leave them unfinished.",
                "Quit anyway",
            ),
            lambda ok: ok and self.exit(0),
        )

    # ----- widget intents ---------------------------------------------------------------
    def on_pin_requested(self, message: PinRequested) -> None:
        room = self._need_room()
        if room is not None:
            self.run_use_case(partial(room.pin, message.seq))

    def on_toggle_requested(self, message: ToggleRequested) -> None:
        room = self._need_room()
        if room is not None:
            self.run_use_case(partial(room.toggle_item, message.item_id))

    def on_event_selected(self, message: EventSelected) -> None:
        room = self._need_room()
        ev = room.event(message.seq) if room else None
        if ev is not None:
            current = room.state.edits.get(ev.seq) if room else None
            self.push_screen(EventScreen(ev.to_dict(), current))

    # ----- command palette: the same registry as the keys -------------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        if isinstance(screen, MainScreen):
            for a in ACTIONS:
                if a.id == "help":
                    continue
                yield SystemCommand(
                    a.long, f"key: {_display_key(self, a)}", partial(self._run_action, a)
                )
        yield from super().get_system_commands(screen)

    def _run_action(self, spec: ActionSpec) -> None:
        self.call_later(self.run_action, spec.action)


def _minutes(delta: Any) -> str:
    """Whole-minute durations for the checklist: it redraws when the minute changes, not every
    second."""
    mins = int(abs(delta.total_seconds()) // 60)
    if mins < 1:
        return "<1m"
    if mins < 60:
        return f"{mins}m"
    h, m = divmod(mins, 60)
    return f"{h}h{m:02d}m" if h < 48 else f"{h // 24}d{h % 24:02d}h"


def _display_key(app: App, spec: ActionSpec) -> str:
    keys = app._keymap.get(f"warroom.{spec.id}", spec.key)
    names = {"question_mark": "?", "colon": ":", "slash": "/"}
    return ",".join(names.get(k, k) for k in keys.split(","))


def with_cli_overrides(settings: Settings, args: Any) -> Settings:
    """--kubeconfig, --context and --namespace win over the settings file."""
    import dataclasses

    kube = settings.kube
    changes: dict[str, Any] = {}
    if getattr(args, "kubeconfig", None):
        changes["kubeconfig"] = args.kubeconfig
    if getattr(args, "context", None):
        changes["context"] = args.context
    if getattr(args, "namespace", None):
        changes["namespaces"] = tuple(args.namespace)
    if not changes:
        return settings
    return dataclasses.replace(settings, kube=dataclasses.replace(kube, **changes))


def run_app(settings: Settings, args: Any, started: float) -> int:
    """`warroom` / `warroom run`: open the newest open incident, or ask to declare one."""
    from warroom.app_health import load_health_config
    from warroom.cli import newest_open_incident, open_store
    from warroom.store import IncidentRepository
    from warroom.updates import destinations

    settings = with_cli_overrides(settings, args)
    # Broken checks or destinations are config errors before the screen opens.
    load_health_config(settings)
    destinations(settings)
    _setup_logging(settings)
    repo = IncidentRepository(settings.data_dir)
    incident_id = getattr(args, "incident", None) or newest_open_incident(repo)
    room = None
    if incident_id:
        room = WarRoom(open_store(settings, incident_id), settings)
    app = WarRoomApp(settings, repo=repo, room=room, started=started)
    try:
        code = app.run()
    finally:
        if app.room is not None:
            app.room.store.close()
    return code or 0


def _setup_logging(settings: Settings) -> None:
    level = os.environ.get("WARROOM_LOG_LEVEL", "INFO").upper()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(settings.data_dir / "warroom.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(getattr(logging, level, logging.INFO))
