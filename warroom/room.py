"""WarRoom: the use cases of running an incident. No Textual, no TinyDB details.

Every use case writes timeline events (with actor and UTC time) through the IncidentStore
interface and returns what it wrote; the state is re-folded from those events, so what the
commander sees is always what the timeline says.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from warroom.action_items import (
    Todo,
    TodoSyntaxError,
    clean_owner,
    describe,
    parse_due,
    parse_todo,
)
from warroom.model import (
    Event,
    Kind,
    Role,
    Severity,
    SeverityPolicy,
    Status,
    format_duration,
    format_ts,
    utcnow,
)
from warroom.playbooks import checklist_change, checklist_for, regulatory_entries
from warroom.projection import IncidentState, apply, next_item_id, note_section
from warroom.settings import Settings
from warroom.store import IncidentRepository, IncidentStore
from warroom.summary import summarize


def policy_data(policy: SeverityPolicy) -> dict[str, float]:
    """The SLA a severity change brings, in the event itself: the timeline alone then gives
    every due time (export and drill score read the same ones as the console)."""
    return {
        name: getattr(policy, name).total_seconds()
        for name in ("respond_within", "update_every", "escalate_after", "resolve_within")
    }


class RoomError(ValueError):
    """A use case refused: the message says why, in the commander's words."""


class WarRoom:
    def __init__(
        self,
        store: IncidentStore,
        settings: Settings,
        *,
        actor: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        playbooks: list | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.actor = actor or settings.actor
        self.clock = clock
        self._playbooks = playbooks
        self.state = IncidentState(incident_id=store.incident_id)
        self._events: list[Event] = []
        # The console reads and writes from worker threads; one lock keeps state and store in step.
        self._lock = threading.RLock()
        self.generation = 0  # bumped when the timeline was folded again from the start
        self._store_generation = store.link().generation
        self._fold(store.events())
        # The store hands out events once through refresh(); start from what we have now.
        store.refresh()

    # ----- reading -------------------------------------------------------------------------
    @property
    def incident_id(self) -> str:
        return self.store.incident_id

    @property
    def events(self) -> list[Event]:
        return self._events

    @property
    def policy(self) -> SeverityPolicy:
        return self.settings.policy(self.state.severity)

    def refresh(self) -> list[Event]:
        """Fold in events written by anyone (this process or another) since the last look."""
        with self._lock:
            fresh = self.store.refresh()
            if self.store.link().generation != self._store_generation:
                return self._refold()
            new = [e for e in fresh if e.seq > self.state.last_seq]
            self._fold(new)
            return new

    def _refold(self) -> list[Event]:
        """The store replaced events we folded (a spool replayed at its final place in the
        chain): fold the whole timeline again. `generation` tells the screens to redraw."""
        self._store_generation = self.store.link().generation
        self.state = IncidentState(incident_id=self.store.incident_id)
        self._events = []
        self._fold(self.store.events())
        self.generation += 1
        return list(self._events)

    def _fold(self, events: list[Event]) -> None:
        for ev in events:
            if ev.seq <= self.state.last_seq:
                continue
            apply(self.state, ev)
            self._events.append(ev)
        if events:
            self.state.apply_policy(self.settings.policy(self.state.severity))

    def _append(
        self,
        kind: Kind | str,
        text: str,
        data: dict[str, Any] | None = None,
        actor: str | None = None,
        ts: datetime | None = None,
    ) -> Event:
        ev = self._write(kind, text, data, actor, once=None, ts=ts)
        assert ev is not None  # only a dedup key can skip a write
        return ev

    def _write(
        self,
        kind: Kind | str,
        text: str,
        data: dict[str, Any] | None,
        actor: str | None,
        *,
        once: str | None,
        ts: datetime | None = None,
    ) -> Event | None:
        """The one path every event of this incident takes to the store. Under the store's
        transaction, caught up with other writers first, so checks like "already resolved"
        see other responders' writes. `once`: a dedup key (alert, deadline); if an event
        with it is already on the timeline, nothing is written and None is returned."""
        with self._lock, self.store.transaction():
            self.refresh()
            if once is not None:
                if once in self.state.once_keys:
                    return None
                data = {**(data or {}), "key": once}
            ev = self.store.append(
                str(kind), text, actor=actor or self.actor, data=data or {}, ts=ts or self.clock()
            )
            self._fold([ev])
            self.store.put_summary(summarize(self.state))  # what `warroom stats` reads
            self._tick_items_done_by(ev)
            return ev

    def _tick_items_done_by(self, ev: Event) -> None:
        """Items whose playbook says `done_when: <condition>` are ticked by the event that made
        the condition hold (projection.satisfied), credited to whoever did it and pointing at
        that event: the commander is not the scribe."""
        conds = {c for c, seq in self.state.satisfied.items() if seq == ev.seq}
        if conds:
            self._tick_done(lambda item: item.done_when in conds)

    def _tick_done(self, wanted: Callable[[Any], bool]) -> None:
        for item in list(self.state.checklist.values()):
            seq = self.state.satisfied.get(item.done_when or "")
            by = self.event(seq) if seq else None
            if item.done or by is None or not wanted(item):
                continue
            self._append(
                Kind.CHECKLIST,
                f"[x] {item.text} (by event #{by.seq})",
                {"op": "done", "item": item.id, "by_event": by.seq},
                actor=by.actor,
            )

    def event(self, seq: int) -> Event | None:
        if 1 <= seq <= len(self._events) and self._events[seq - 1].seq == seq:
            return self._events[seq - 1]
        return next((e for e in self._events if e.seq == seq), None)

    # ----- declaring -----------------------------------------------------------------------
    @classmethod
    def declare(
        cls,
        repo: IncidentRepository,
        settings: Settings,
        *,
        title: str,
        severity: Severity | str,
        category: str = "application",
        actor: str | None = None,
        drill: bool = False,
        scenario: str | None = None,
        started_at: datetime | None = None,
        detected_at: datetime | None = None,
        clock: Callable[[], datetime] = utcnow,
        playbooks: list | None = None,
    ) -> WarRoom:
        title = " ".join(title.split())
        if not title:
            raise RoomError("a title is required")
        try:
            sev = Severity(str(severity).upper())
        except ValueError:
            raise RoomError(f"unknown severity {severity!r}: use P0, P1, P2 or P3") from None
        category = category.strip().lower() or "application"
        now = clock()
        prefix = "DRILL" if drill else settings.id_prefix
        for _ in range(50):  # another process may take the same second's id first
            incident_id = repo.new_id(prefix, now)
            try:
                store = repo.create(incident_id)
                break
            except FileExistsError:
                continue
        else:
            raise RoomError("could not allocate an incident id")
        actor = actor or settings.actor
        data: dict[str, Any] = {
            "incident_id": incident_id,
            "title": title,
            "severity": sev.value,
            "category": category,
            "drill": drill,
            "policy": policy_data(settings.policy(sev)),
        }
        if scenario:
            data["scenario"] = scenario
        if started_at:
            data["started_at"] = format_ts(started_at)
        if detected_at:
            data["detected_at"] = format_ts(detected_at)
        label = "[DRILL] " if drill else ""
        room = cls(store, settings, actor=actor, clock=clock, playbooks=playbooks)
        room._append(Kind.DECLARED, f"{label}{sev.value} declared: {title}", data, ts=now)
        room._load_checklist()
        return room

    def _playbook_list(self) -> list:
        if self._playbooks is None:
            from warroom.playbooks import load_playbooks

            self._playbooks = load_playbooks(self.settings.playbooks_dir)
        return self._playbooks

    def _load_checklist(self) -> Event | None:
        """Add the items the current severity/category's playbooks have and we lack. Raised
        beyond its worst severity so far, the incident takes the new playbook's wording, due
        times and order for the items it already has (same id = same meaning); ticks stay.
        Items whose condition already holds (roles assigned before the raise) are ticked."""
        entries = checklist_for(
            self._playbook_list(), self.state.severity, self.state.category, self.policy
        ) + regulatory_entries(self.settings.paging, self.state)
        st = self.state
        raised = st.severity == st.worst_severity and len(st.severity_history) > 1
        change = checklist_change(
            entries, st.checklist, st.declared_at, revise=raised, severity=st.severity.value
        )
        if change is None:
            return None
        text, data = change
        ev = self._append(Kind.CHECKLIST, text, data)
        added = {it["id"] for it in data["items"] if not it.get("revise")}
        self._tick_done(lambda item: item.id in added)
        return ev

    # ----- use cases -----------------------------------------------------------------------
    def _require_open(self) -> None:
        if self.state.resolved:
            raise RoomError("the incident is resolved; reopen it first (status investigating)")

    def change_severity(self, severity: Severity | str, reason: str = "") -> list[Event]:
        try:
            sev = Severity(str(severity).upper())
        except ValueError:
            raise RoomError(f"unknown severity {severity!r}: use P0, P1, P2 or P3") from None
        old = self.state.severity
        if sev == old:
            raise RoomError(f"severity is already {sev.value}")
        direction = "raised" if sev.rank < old.rank else "lowered"
        text = f"Severity {direction} {old.value} -> {sev.value}"
        if reason.strip():
            text += f": {reason.strip()}"
        sla = policy_data(self.settings.policy(sev))
        data = {"from": old.value, "to": sev.value, "policy": sla, "reason": reason.strip()}
        out = [self._append(Kind.SEVERITY, text, data)]
        added = self._load_checklist()
        if added:
            out.append(added)
        return out

    def change_status(self, status: Status | str, note: str = "") -> Event:
        try:
            st = Status(str(status).lower())
        except ValueError:
            names = ", ".join(s.value for s in Status)
            raise RoomError(f"unknown status {status!r}: use {names}") from None
        if st is Status.RESOLVED:
            return self.resolve(note)
        old = self.state.status
        if st == old:
            raise RoomError(f"status is already {st.value}")
        text = f"Status {old.value} -> {st.value}"
        if note.strip():
            text += f": {note.strip()}"
        return self._append(Kind.STATUS, text, {"from": old.value, "to": st.value})

    def assign_role(self, role: Role | str, name: str) -> Event:
        try:
            r = Role(str(role).lower().replace(" ", "_").replace("-", "_"))
        except ValueError:
            names = ", ".join(x.value for x in Role)
            raise RoomError(f"unknown role {role!r}: use {names}") from None
        name = " ".join(name.split())
        previous = self.state.roles.get(r)
        if name == (previous or ""):
            raise RoomError(f"{r.label} is already {name or 'unassigned'}")
        text = f"{r.label.capitalize()}: {name}" if name else f"{r.label.capitalize()} unassigned"
        if previous and name:
            text += f" (was {previous})"
        return self._append(Kind.ROLE, text, {"role": r.value, "name": name, "previous": previous})

    def add_note(self, text: str) -> Event:
        """A note; 'Root cause: ...' and the like file it under a post-mortem section, and
        'TODO(@owner, due YYYY-MM-DD): ...' (or a plain 'TODO: ...') records an action item.
        A TODO( that does not read is kept as a plain note, with a hint after it."""
        text = text.strip()
        if not text:
            raise RoomError("an empty note records nothing")
        try:
            todo = parse_todo(text)
        except TodoSyntaxError as exc:
            note = self._append(Kind.NOTE, text, {"hint": str(exc)})
            hint = f"#{note.seq} kept as a plain note, not an action item: {exc}"
            self._append(Kind.SYSTEM, hint, {"hint_for": note.seq}, actor="warroom")
            return note
        section, body = note_section(text)
        if todo is None and section == "action_item":
            todo = Todo(body)
        if todo is not None:
            return self._add_item(todo)
        return self._append(Kind.NOTE, text, {"section": section} if section else {})

    def add_action_item(self, text: str, owner: str | None = None, due: str | None = None) -> Event:
        """Follow-up work with an owner ('@ann' or 'ann') and a due date (YYYY-MM-DD)."""
        text = " ".join(text.split())
        if not text:
            raise RoomError("an action item needs a text")
        try:
            who = clean_owner(owner) if owner else None
            when = parse_due(due) if due else None
        except ValueError as exc:
            raise RoomError(str(exc)) from None
        return self._add_item(Todo(text, who, when))

    def _add_item(self, todo: Todo) -> Event:
        with self._lock, self.store.transaction():
            self.refresh()  # the next id is the next under the lock, whoever wrote last
            item_id = next_item_id(self.state)
            data: dict[str, Any] = {"op": "add", "item": item_id, "text": todo.text}
            data.update(owner=todo.owner, due=todo.due.isoformat() if todo.due else None)
            line = describe(item_id, todo.text, todo.owner, todo.due)
            return self._append(Kind.ACTION_ITEM, f"Action item {line}", data)

    def pin(self, seq: int, pinned: bool | None = None) -> Event:
        target = self.event(seq)
        if target is None:
            raise RoomError(f"no event {seq}")
        now_pinned = (seq not in self.state.pinned) if pinned is None else pinned
        verb = "Pinned" if now_pinned else "Unpinned"
        return self._append(
            Kind.PIN,
            f"{verb} #{seq}: {self.state.text_of(target)[:80]}",
            {"target": seq, "pinned": now_pinned},
        )

    def edit(self, seq: int, new_text: str) -> Event:
        """Edits never overwrite: a new event supersedes the earlier one's text."""
        target = self.event(seq)
        if target is None:
            raise RoomError(f"no event {seq}")
        if not new_text.strip():
            raise RoomError("an edit needs text")
        return self._append(Kind.EDIT, new_text.strip(), {"target": seq})

    def toggle_item(self, item_id: str) -> Event:
        item = self.state.checklist.get(item_id)
        if item is None:
            raise RoomError(f"no checklist item {item_id!r}")
        op = "undone" if item.done else "done"
        mark = "[x]" if op == "done" else "[ ]"
        return self._append(Kind.CHECKLIST, f"{mark} {item.text}", {"op": op, "item": item_id})

    def acknowledge(self) -> Event:
        if self.state.acked_at is not None:
            raise RoomError(f"already acknowledged by {self.state.acked_by}")
        late = ""
        if self.state.detected_at:
            waited = self.clock() - self.state.detected_at
            late = f" after {format_duration(waited)}"
        return self._append(Kind.ACK, f"Acknowledged by {self.actor}{late}")

    def escalate(self, to: str) -> Event:
        self._require_open()
        to = " ".join(to.split())
        if not to:
            raise RoomError("escalate to whom?")
        return self._append(Kind.ESCALATED, f"Escalated to {to}", {"to": to})

    def mark_detected(
        self, at: datetime, reason: str, rule: str | None = None, source: str | None = None
    ) -> Event:
        data: dict[str, Any] = {"at": format_ts(at)}
        if rule:
            data["rule"] = rule
        return self._append(Kind.DETECTED, f"Detected: {reason}", data, actor=source)

    def record(
        self,
        kind: Kind | str,
        text: str,
        data: dict[str, Any] | None = None,
        *,
        source: str | None = None,
    ) -> Event:
        """Record a fact. `source` names the system that saw it ("prometheus",
        "alertmanager", "kubernetes") so the timeline never credits a person with it."""
        return self._append(kind, text, data, actor=source)

    def record_once(
        self,
        kind: Kind | str,
        text: str,
        data: dict[str, Any] | None = None,
        *,
        key: str,
        source: str | None = None,
    ) -> Event | None:
        """Record a fact unless one with the same `key` is on the timeline already (another
        console saw the same alert, or crossed the same deadline): None then."""
        return self._write(kind, text, data, source, once=key)

    def record_action(
        self,
        text: str,
        *,
        verb: str,
        target: str,
        ok: bool,
        duration_s: float | None = None,
        revert: str | None = None,
        **extra: Any,
    ) -> Event:
        """A change a responder made to a system; the ledger of changes is these events."""
        data: dict[str, Any] = {"verb": verb, "target": target, "ok": ok, **extra}
        if duration_s is not None:
            data["duration_s"] = round(duration_s, 3)
        if revert:
            data["revert"] = revert
        return self._append(Kind.ACTION, text, data)

    def record_outcome(self, action: Event, outcome: str, text: str, waited_s: float) -> Event:
        """What an action did, seen afterwards: took_effect, no_effect or pending. Credited to
        whoever did the action."""
        words = {"took_effect": "took effect", "no_effect": "no effect", "pending": "pending"}
        what = action.data.get("target") or action.text
        data = {
            "action": action.seq,
            "outcome": outcome,
            "verb": action.data.get("verb"),
            "target": action.data.get("target"),
            "waited_s": waited_s,
        }
        line = f"{words.get(outcome, outcome).capitalize()}: {what} (#{action.seq}): {text}"
        return self._append(Kind.OUTCOME, line, data, actor=action.actor)

    def resolve(self, summary: str = "", *, false_positive: bool = False) -> Event:
        """Resolve; `false_positive`: declared, then found not to be an incident (stats count
        these apart)."""
        self._require_open()
        now = self.clock()
        took = format_duration(now - self.state.declared_at) if self.state.declared_at else "?"
        text = f"Resolved after {took}" + (" as not an incident" if false_positive else "")
        if summary.strip():
            text += f": {summary.strip()}"
        data: dict[str, Any] = {"summary": summary.strip()}
        if false_positive:
            data["false_positive"] = True
        return self._append(Kind.RESOLVED, text, data)

    def changes(self) -> list[Event]:
        """The change ledger: every action taken on a system, with its revert hint."""
        return [e for e in self._events if e.kind == Kind.ACTION]
