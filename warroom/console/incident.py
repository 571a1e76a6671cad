"""The incident's own keys: declare, note, severity, status, roles, ack, escalate, export, pin,
tick, event details; and the SLA deadlines that pass while the console is open.

Every change is a WarRoom use case run in a worker; dialogs ask first, with the current value.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from textual.app import App

from warroom.bootstrap import export_context
from warroom.console.messages import RoomOpened
from warroom.console.session import Session
from warroom.console.work import announce, run_use_case
from warroom.model import Role, Severity, Status, format_duration
from warroom.report import export_path, write_export
from warroom.room import WarRoom
from warroom.signals import deadline_facts, health_facts, record
from warroom.widgets.dialogs import (
    ChoiceScreen,
    Declaration,
    DeclareScreen,
    EventScreen,
    PromptScreen,
    SeverityLevel,
    SeverityScreen,
)

log = logging.getLogger("warroom")
TYPE_NAME, UNASSIGN = "__type__", "__unassign__"


class IncidentActions:
    def __init__(self, app: App, session: Session) -> None:
        self.app = app
        self.session = session
        self._deadlines_told: set[str] = set()  # deadlines this console already announced
        self.on_resolved: Callable[[], None] = lambda: None  # offer the resolution notices

    def need_room(self) -> WarRoom | None:
        room = self.session.room
        if room is None:
            self.app.notify("No incident is open.", severity="warning")
        return room

    def _run(self, fn: Callable[[], Any]) -> None:
        run_use_case(self.app, fn)

    # ----- declaring -------------------------------------------------------------------------
    def ask_declare(self) -> None:
        settings = self.session.settings
        sevs = [(s.value, settings.policy(s).name) for s in Severity]
        self.app.push_screen(DeclareScreen(sevs, list(settings.categories)), self._declared)

    def _declared(self, decl: Declaration | None) -> None:
        if decl is None:
            self.app.exit(0)
            return
        s = self.session

        def declare() -> None:
            room = WarRoom.declare(
                s.repo,
                s.settings,
                title=decl.title,
                severity=decl.severity,
                category=decl.category,
                clock=s.clock,
            )
            self.app.post_message(RoomOpened(room))

        run_use_case(self.app, declare, group="declare")

    # ----- the keys --------------------------------------------------------------------------
    def note(self) -> None:
        room = self.need_room()
        if room is None:
            return

        def done(text: str | None) -> None:
            if text:
                self._run(partial(room.add_note, text))

        self.app.push_screen(
            PromptScreen("Add a note", "what happened? (TODO: / Root cause: / Impact: ...)"), done
        )

    def severity(self) -> None:
        room = self.need_room()
        if room is None:
            return
        settings = self.session.settings
        levels = []
        for s in Severity:
            p = settings.policy(s)
            sla = (
                f"respond {format_duration(p.respond_within)} · update every "
                f"{format_duration(p.update_every)} · resolve {format_duration(p.resolve_within)}"
            )
            levels.append(SeverityLevel(s.value, p.name, p.criteria, sla))

        def picked(choice: tuple[str, str] | None) -> None:
            if choice and choice[0] != room.state.severity.value:
                self._run(partial(room.change_severity, choice[0], choice[1]))

        self.app.push_screen(SeverityScreen(levels, room.state.severity.value), picked)

    def status(self) -> None:
        room = self.need_room()
        if room is None:
            return
        choices = [(s.value, s.value) for s in Status]

        def resolved(text: str | None) -> None:
            if text is None:
                return

            def resolve() -> None:
                room.resolve(text)
                self.app.call_from_thread(self.on_resolved)

            self._run(resolve)

        def picked(value: str | None) -> None:
            if not value or value == room.state.status.value:
                return
            if value == Status.RESOLVED.value:
                prompt = PromptScreen(
                    "Resolve: summary (optional)", "what fixed it?", allow_empty=True
                )
                self.app.push_screen(prompt, resolved)
            else:
                self._run(partial(room.change_status, value))

        self.app.push_screen(ChoiceScreen("Status", choices, room.state.status.value), picked)

    def role(self) -> None:
        room = self.need_room()
        if room is None:
            return
        choices = [(r.value, f"{r.label}: {room.state.roles.get(r, '-')}") for r in Role]

        def picked(role: str | None) -> None:
            if not role:
                return
            current = room.state.roles.get(Role(role), "")

            def named(name: str | None) -> None:
                if name is not None and name != current:
                    self._run(partial(room.assign_role, role, name))

            def typed() -> None:
                prompt = PromptScreen(
                    f"Who is {Role(role).label}? (empty unassigns)",
                    "name",
                    value=current,
                    allow_empty=True,
                )
                self.app.push_screen(prompt, named)

            contacts = self.session.settings.paging.contacts.values()
            if not contacts:
                typed()
                return
            # The directory: who can take the role first, with their phone.
            fits = sorted(contacts, key=lambda c: (role not in c.roles, c.name))
            people = [
                (c.name, f"{c.name}  {c.phone or 'no phone'}" + ("" if role in c.roles else "  *"))
                for c in fits
            ]
            people += [(TYPE_NAME, "Someone else… (type a name)")]
            if current:
                people.append((UNASSIGN, "Unassign"))

            def chosen(value: str | None) -> None:
                if value == TYPE_NAME:
                    typed()
                elif value is not None:
                    named("" if value == UNASSIGN else value)

            title = f"Who is {Role(role).label}? (* not listed for this role)"
            self.app.push_screen(ChoiceScreen(title, people, current or None), chosen)

        self.app.push_screen(ChoiceScreen("Assign a role", choices), picked)

    def ack(self) -> None:
        room = self.need_room()
        if room is not None:
            self._run(room.acknowledge)

    def export(self) -> None:
        room = self.need_room()
        if room is None:
            return
        s = self.session

        def export() -> None:
            path = export_path(s.settings.data_dir, room.incident_id)
            context = export_context(s.settings, room.store)
            write_export(room.store.events(), path, now=s.clock(), **context)
            self.app.call_from_thread(
                self.app.notify, f"Post-mortem written to {path}", title="Export"
            )

        run_use_case(self.app, export, group="export")

    # ----- widget intents --------------------------------------------------------------------
    def pin(self, seq: int) -> None:
        room = self.need_room()
        if room is not None:
            self._run(partial(room.pin, seq))

    def toggle(self, item_id: str) -> None:
        room = self.need_room()
        if room is not None:
            self._run(partial(room.toggle_item, item_id))

    def show_event(self, seq: int) -> None:
        room = self.need_room()
        ev = room.event(seq) if room else None
        if room is not None and ev is not None:
            self.app.push_screen(EventScreen(ev.to_dict(), room.state.edits.get(ev.seq)))

    # ----- deadlines -------------------------------------------------------------------------
    def check_deadlines(self) -> None:
        """Crossing a deadline writes one timeline event (once per incident, whichever console
        sees it first) and raises a notification on this console."""
        room = self.session.writable_room
        if room is None:
            return
        now = self.session.clock()
        verified = health_facts(room.state, self.session.settings.health.verify_after, now)
        if verified:
            self._run(partial(record, room, verified))
        facts = deadline_facts(room.state, room.policy, now)
        bell = self.session.settings.bell
        new = announce(self.app, self._deadlines_told, facts, "Deadline", bell=bell)
        if new:
            self._run(partial(record, room, new))
