"""The incident's current state, folded from its timeline. Pure: events in, state out.

Keeping the state derived (never stored) is what makes the timeline the single source of truth:
a second process that appends a note, or an export run a week later, sees the same incident.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from warroom.action_items import DONE, OPEN, ActionItem, parse_due
from warroom.destinations import TACTICAL
from warroom.model import Event, Kind, Role, Severity, Status, parse_ts
from warroom.pods import workload_of

# Note prefixes that file a note under a post-mortem section ("TODO: add alert" -> action item).
NOTE_SECTIONS = {
    "todo": "action_item",
    "action": "action_item",
    "summary": "summary",
    "executive summary": "summary",
    "root cause": "root_cause",
    "rc": "root_cause",
    "contributing": "contributing",
    "contributing factor": "contributing",
    "missed signal": "missed_signal",
    "impact": "impact",
    "user impact": "impact",
    "business impact": "business_impact",
    "data impact": "data_impact",
    "financial impact": "financial_impact",
    "regulatory impact": "regulatory_impact",
    "reputation impact": "reputation_impact",
    "reputational impact": "reputation_impact",
    "resolution": "resolution",
    "fix": "resolution",
    "next": "next",
    "next step": "next",
    "next steps": "next",
    "prevention": "prevention",
    "went well": "went_well",
    "improve": "improve",
    "could improve": "improve",
    "lesson": "lesson",
    "lessons": "lesson",
    "recommend now": "recommend_now",
    "recommend soon": "recommend_soon",
    "recommend later": "recommend_later",
}


def note_section(text: str) -> tuple[str | None, str]:
    """('root_cause', 'bad config') for 'Root cause: bad config'; (None, text) otherwise."""
    head, sep, rest = text.partition(":")
    if sep and head.strip().lower() in NOTE_SECTIONS and rest.strip():
        return NOTE_SECTIONS[head.strip().lower()], rest.strip()
    return None, text


@dataclass
class ChecklistItemState:
    id: str
    phase: str
    phase_title: str
    text: str
    due_at: datetime | None
    due_key: str | None = None  # SLA field the due time follows (see due_with)
    done_when: str | None = None  # event kind that ticks it (playbooks.DONE_WHEN)
    done: bool = False
    by: str | None = None
    at: datetime | None = None

    def overdue(self, now: datetime) -> bool:
        return not self.done and self.due_at is not None and now > self.due_at


@dataclass
class IncidentState:
    incident_id: str = ""
    title: str = ""
    category: str = ""
    drill: bool = False
    scenario: str | None = None
    declared_at: datetime | None = None
    declared_by: str = ""
    started_at: datetime | None = None  # when impact began, if known
    detected_at: datetime | None = None
    # When a machine first saw trouble: checks turning warn/crit, alerts firing, detections.
    signals: list[datetime] = field(default_factory=list)
    acked_at: datetime | None = None
    acked_by: str | None = None
    escalated_at: datetime | None = None
    level: str | None = None  # the escalation level reached ("L2"), None before any
    level_rank: int = 0
    resolved_at: datetime | None = None
    severity: Severity = Severity.P2
    status: Status = Status.INVESTIGATING
    severity_history: list[tuple[Severity, datetime]] = field(default_factory=list)
    status_history: list[tuple[Status, datetime]] = field(default_factory=list)
    roles: dict[Role, str] = field(default_factory=dict)
    checklist: dict[str, ChecklistItemState] = field(default_factory=dict)
    pinned: set[int] = field(default_factory=set)
    edits: dict[int, str] = field(default_factory=dict)  # seq -> newest text
    sections: dict[str, list[str]] = field(default_factory=dict)
    updates_sent: int = 0
    last_update_at: datetime | None = None
    last_seq: int = 0
    event_count: int = 0
    # Dedup keys of facts recorded once per incident (an alert episode, a missed deadline),
    # so a signal asks a set instead of scanning the timeline.
    once_keys: set[str] = field(default_factory=set)
    sla: dict[str, timedelta] = field(default_factory=dict)  # the current severity's, as recorded
    outcomes: dict[int, str] = field(default_factory=dict)  # action seq -> what it did
    action_items: dict[str, ActionItem] = field(default_factory=dict)  # "A1" -> item
    update_times: list[datetime] = field(default_factory=list)  # status updates written
    # Per audience (the responders' are also the fields above): last update, count, and the
    # audiences that were sent a resolution notice.
    audience_last: dict[str, datetime] = field(default_factory=dict)
    audience_count: dict[str, int] = field(default_factory=dict)
    resolution_sent: set[str] = field(default_factory=set)
    false_positive: bool = False  # resolved as "not an incident"
    reopened: int = 0  # times a resolved incident was opened again
    mitigated_at: datetime | None = None  # first action that took effect, or "monitoring"
    root_cause_at: datetime | None = None  # first root cause recorded
    # Workloads and services seen in trouble or acted on ("shop/cart"), in order of appearance.
    services: dict[str, None] = field(default_factory=dict)
    firing: set[str] = field(default_factory=set)  # alert fingerprints firing now
    alerts_fired: int = 0  # alert episodes seen firing during the incident
    unhealthy: set[str] = field(default_factory=set)  # checks in warn/crit/error now
    healthy_since: datetime | None = None  # when the last unhealthy check came back to ok
    # Checklist conditions (playbooks.DONE_WHEN) that hold now -> the event that made them hold.
    satisfied: dict[str, int] = field(default_factory=dict)
    worst_severity: Severity | None = None  # the highest severity the incident has had

    @property
    def resolved(self) -> bool:
        return self.status is Status.RESOLVED

    def text_of(self, event: Event) -> str:
        return self.edits.get(event.seq, event.text)

    def next_update_due(
        self, update_every: timedelta | None, audience: str = TACTICAL
    ) -> datetime | None:
        if self.resolved or self.declared_at is None or update_every is None:
            return None
        return (self.audience_last.get(audience) or self.declared_at) + update_every

    def apply_policy(self, policy: Any) -> None:
        """Re-time SLA-bound items for the current severity (a P2 raised to P0 owes its first
        notification within P0's response time, counted from declaration)."""
        if self.declared_at is None:
            return
        for item in self.checklist.values():
            if item.due_key:
                item.due_at = self.declared_at + getattr(policy, item.due_key)

    def phase_progress(self) -> list[tuple[str, str, int, int]]:
        """(phase id, title, done, total) in checklist order."""
        out: dict[str, list[Any]] = {}
        for item in self.checklist.values():
            row = out.setdefault(item.phase, [item.phase_title, 0, 0])
            row[1] += item.done
            row[2] += 1
        return [(pid, t, d, n) for pid, (t, d, n) in out.items()]

    def time_in_severity(self, until: datetime) -> dict[Severity, timedelta]:
        spans: dict[Severity, timedelta] = {}
        hist = self.severity_history
        for i, (sev, since) in enumerate(hist):
            end = hist[i + 1][1] if i + 1 < len(hist) else (self.resolved_at or until)
            spans[sev] = spans.get(sev, timedelta()) + max(end - since, timedelta())
        return spans


def _ts(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return parse_ts(str(value))
    except ValueError:
        return None


def apply(state: IncidentState, ev: Event) -> IncidentState:
    """Fold one event into the state (in place; returned for convenience)."""
    d = ev.data
    t = ev.time
    state.last_seq = ev.seq
    state.event_count += 1
    kind = ev.kind
    _note_signal(state, ev)
    if "key" in d and kind in (Kind.ALERT, Kind.DEADLINE, Kind.SYSTEM, Kind.CHANGE, Kind.ESCALATED):
        state.once_keys.add(str(d["key"]))
    if kind == Kind.DECLARED:
        state.incident_id = str(d.get("incident_id", state.incident_id))
        state.title = str(d.get("title", ""))
        state.category = str(d.get("category", ""))
        state.drill = bool(d.get("drill", False))
        state.scenario = d.get("scenario")
        state.declared_at = t
        state.declared_by = ev.actor
        state.started_at = _ts(d.get("started_at")) or t
        state.detected_at = _ts(d.get("detected_at")) or t
        state.severity = Severity(d.get("severity", "P2"))
        state.worst_severity = state.severity
        state.severity_history = [(state.severity, t)]
        _sla_known(state, d.get("policy"))
        state.status = Status.INVESTIGATING
        state.status_history = [(state.status, t)]
    elif kind == Kind.SEVERITY:
        state.severity = Severity(d["to"])
        if state.worst_severity is None or state.severity.rank < state.worst_severity.rank:
            state.worst_severity = state.severity
        state.severity_history.append((state.severity, t))
        _sla_known(state, d.get("policy"))
    elif kind == Kind.STATUS:
        if state.resolved and d["to"] != Status.RESOLVED.value:
            state.reopened += 1
            state.false_positive = False
        state.status = Status(d["to"])
        state.status_history.append((state.status, t))
        if state.status is not Status.RESOLVED:
            state.resolved_at = None
        if state.status is Status.MONITORING:
            state.mitigated_at = state.mitigated_at or t
    elif kind == Kind.RESOLVED:
        state.status = Status.RESOLVED
        state.status_history.append((state.status, t))
        state.resolved_at = t
        state.false_positive = bool(d.get("false_positive"))
    elif kind == Kind.ROLE:
        role = Role(d["role"])
        if d.get("name"):
            state.roles[role] = str(d["name"])
        else:
            state.roles.pop(role, None)
    elif kind == Kind.ACK:
        if state.acked_at is None:
            state.acked_at, state.acked_by = t, ev.actor
    elif kind == Kind.ESCALATED:
        state.escalated_at = state.escalated_at or t
        rank = int(d.get("rank") or 0)
        if d.get("level") and rank > state.level_rank:
            state.level, state.level_rank = str(d["level"]), rank
    elif kind == Kind.SYSTEM and d.get("impact_started"):
        _impact_known(state, _ts(d["impact_started"]) or t)
    elif kind == Kind.DETECTED:
        at = _ts(d.get("at")) or t
        # The earliest signal is the detection time.
        if state.detected_at is None or at < state.detected_at:
            state.detected_at = at
    elif kind == Kind.PIN:
        target = int(d["target"])
        if d.get("pinned", True):
            state.pinned.add(target)
        else:
            state.pinned.discard(target)
    elif kind == Kind.EDIT:
        state.edits[int(d["target"])] = ev.text
    elif kind == Kind.NOTE:
        section = d.get("section")
        if section == "action_item":  # a TODO note written before items were events
            _add_item(state, ev, {"text": note_section(ev.text)[1]})
        elif section:
            state.sections.setdefault(section, []).append(note_section(ev.text)[1])
            if section == "root_cause":
                state.root_cause_at = state.root_cause_at or t
    elif kind == Kind.UPDATE:
        audience = str(d.get("audience") or TACTICAL)
        state.audience_last[audience] = t
        state.audience_count[audience] = state.audience_count.get(audience, 0) + 1
        if d.get("template") == "resolution":
            state.resolution_sent.add(audience)
        if audience == TACTICAL:  # the cadence the SLA, the drill and the stats count
            state.updates_sent += 1
            state.last_update_at = t
            state.update_times.append(t)
    elif kind == Kind.CHECKLIST:
        _apply_checklist(state, ev)
    elif kind == Kind.OUTCOME and d.get("action"):
        state.outcomes[int(d["action"])] = str(d.get("outcome", ""))
        if d.get("outcome") == "took_effect":
            state.mitigated_at = state.mitigated_at or t
    elif kind == Kind.ACTION_ITEM:
        _apply_item(state, ev)
    _note_service(state, ev)
    _note_health(state, ev)
    _note_conditions(state, ev)
    return state


def next_item_id(state: IncidentState) -> str:
    return f"A{len(state.action_items) + 1}"


def _add_item(state: IncidentState, ev: Event, d: dict[str, Any]) -> None:
    item_id = str(d.get("item") or next_item_id(state))
    try:
        due = parse_due(str(d["due"])) if d.get("due") else None
    except ValueError:
        due = None
    state.action_items[item_id] = ActionItem(
        id=item_id,
        text=str(d.get("text", "")),
        owner=d.get("owner") or None,
        due=due,
        created_at=ev.time,
        created_by=ev.actor,
        seq=ev.seq,
    )


def _apply_item(state: IncidentState, ev: Event) -> None:
    d = ev.data
    op = d.get("op")
    if op == "add":
        _add_item(state, ev, d)
        return
    item = state.action_items.get(str(d.get("item", "")))
    if item is None:
        return
    if op in ("done", "reopen"):
        item.state = DONE if op == "done" else OPEN
        item.closed_at, item.closed_by = (ev.time, ev.actor) if op == "done" else (None, None)
    elif op == "ticket" and d.get("tracker") and d.get("url"):
        item.tickets[str(d["tracker"])] = str(d["url"])


def _note_service(state: IncidentState, ev: Event) -> None:
    """Workloads named by pods in trouble, by actions on them, and by alerts' labels."""
    d = ev.data
    name = None
    if ev.kind == Kind.POD and d.get("pod") and d.get("namespace"):
        name = f"{d['namespace']}/{workload_of(str(d['pod']))}"
    elif ev.kind == Kind.ACTION and str(d.get("target", "")).count("/") == 2:
        kind, ns, obj = str(d["target"]).split("/")
        name = f"{ns}/{workload_of(obj) if kind == 'pods' else obj}"
    elif ev.kind == Kind.ALERT and isinstance(d.get("labels"), dict):
        labels = d["labels"]
        service = labels.get("service") or labels.get("deployment") or labels.get("job")
        if service:
            ns = labels.get("namespace")
            name = f"{ns}/{service}" if ns else str(service)
    if name:
        state.services.setdefault(name, None)


def _note_health(state: IncidentState, ev: Event) -> None:
    """Alerts firing now and checks not ok now, as their transitions say."""
    d = ev.data
    if ev.kind == Kind.ALERT and d.get("fingerprint") and d.get("transition"):
        if d["transition"] == "fired":
            state.firing.add(str(d["fingerprint"]))
            state.alerts_fired += 1
        elif d["transition"] == "resolved":
            state.firing.discard(str(d["fingerprint"]))
    elif ev.kind == Kind.CHECK and d.get("check") and d.get("to"):
        was_unhealthy = bool(state.unhealthy)
        if d["to"] in ("warn", "crit", "error"):
            state.unhealthy.add(str(d["check"]))
            state.healthy_since = None
        else:  # ok, or nodata (nothing to judge by: not a problem by itself)
            state.unhealthy.discard(str(d["check"]))
            if was_unhealthy and not state.unhealthy:
                state.healthy_since = ev.time


def _note_conditions(state: IncidentState, ev: Event) -> None:
    """Which checklist conditions hold after this event, and which event made each hold: an
    item whose `done_when` names a condition is ticked by that event, credited to its actor."""
    d = ev.data
    now: set[str] = set()
    kind = ev.kind
    if kind == Kind.EVIDENCE and d.get("pods", 1) != 0:  # a bundle without pods preserves none
        now.add("evidence")
    elif kind == Kind.UPDATE:
        now.update(("update", "notified"))
        if d.get("template") == "resolution":
            now.add("resolution_notice")
    elif kind == Kind.OUTCOME and d.get("outcome") == "took_effect":
        now.add("action")  # sent is not done: the outcome says the mitigation took effect
        if d.get("verb") == "quarantine-isolate":  # a deny-all NetworkPolicy selects the pod
            now.add("isolated")
    elif kind == Kind.ACK:
        now.add("ack")
    elif kind == Kind.ESCALATED:
        now.add("escalated")
    elif kind == Kind.PAGE and d.get("action") == "trigger" and not d.get("error"):
        now.add("notified")  # a page reached the team's pager: they know (a failed one: no)
    elif kind == Kind.NOTE and d.get("section") in ("root_cause", "impact"):
        now.add(str(d["section"]))
    elif kind == Kind.SYSTEM and d.get("health") == "verified":
        now.add("health_ok")
    elif kind == Kind.ROLE:
        for cond, roles in (
            ("commander", (Role.COMMANDER,)),
            ("leads", (Role.TECH_LEAD, Role.COMMS_LEAD)),
            ("security_officer", (Role.SECURITY_OFFICER,)),
        ):
            if all(r in state.roles for r in roles):
                now.add(cond)
            else:
                state.satisfied.pop(cond, None)
    elif kind == Kind.ALERT and d.get("transition") == "fired":
        state.satisfied.pop("alerts_clear", None)
    elif kind == Kind.ALERT and d.get("transition") == "resolved" and not state.firing:
        now.add("alerts_clear")
    for cond in now:
        state.satisfied.setdefault(cond, ev.seq)


def _note_signal(state: IncidentState, ev: Event) -> None:
    d = ev.data
    if (
        (ev.kind == Kind.CHECK and d.get("to") in ("warn", "crit"))
        or (ev.kind == Kind.ALERT and d.get("transition") == "fired")
        or ev.kind == Kind.DETECTED
    ):
        state.signals.append((_ts(d.get("at")) or ev.time) if ev.kind == Kind.DETECTED else ev.time)


def _sla_known(state: IncidentState, policy: Any) -> None:
    """The severity's SLA as the event recorded it: items bound to an SLA field are re-timed
    (a P3 raised to P1 owes its first notification within P1's response time)."""
    if not isinstance(policy, dict):
        return  # an event written before SLAs were recorded: the room re-times from settings
    state.sla = {k: timedelta(seconds=float(v)) for k, v in policy.items()}
    _retime(state)


def _retime(state: IncidentState) -> None:
    if state.declared_at is None:
        return
    for item in state.checklist.values():
        if item.due_key and item.due_key in state.sla:
            item.due_at = state.declared_at + state.sla[item.due_key]


def _impact_known(state: IncidentState, impact: datetime) -> None:
    """Impact began at `impact`, learnt after the fact (a drill declares before its failure
    starts): detection is then the first signal from that moment on, not the declaration;
    none means it was never detected by the sources."""
    state.started_at = impact
    later = [s for s in state.signals if s >= impact]
    state.detected_at = min(later) if later else None


def _apply_checklist(state: IncidentState, ev: Event) -> None:
    d = ev.data
    op = d.get("op")
    if op == "add":
        base = state.declared_at or ev.time
        for it in d.get("items", []):
            old = state.checklist.get(it["id"])
            if old is not None and not it.get("revise"):
                continue
            due_s = it.get("due_after_s")
            item = ChecklistItemState(
                id=it["id"],
                phase=it["phase"],
                phase_title=it.get("phase_title", it["phase"]),
                text=it["text"],
                due_at=base + timedelta(seconds=due_s) if due_s is not None else None,
                due_key=it.get("due_key"),
                done_when=it.get("done_when"),
            )
            if old is not None:  # a higher severity's wording and due time; a tick stays
                item.done, item.by, item.at = old.done, old.by, old.at
            state.checklist[it["id"]] = item
        if d.get("order"):  # escalation: the new playbook's order leads, other items follow
            order = [i for i in d["order"] if i in state.checklist]
            rest = [i for i in state.checklist if i not in set(order)]
            state.checklist = {i: state.checklist[i] for i in order + rest}
        _retime(state)
    elif op in ("done", "undone"):
        item = state.checklist.get(d.get("item", ""))
        if item is not None:
            item.done = op == "done"
            item.by = ev.actor if item.done else None
            item.at = ev.time if item.done else None


def project(events: list[Event]) -> IncidentState:
    state = IncidentState()
    for ev in events:
        apply(state, ev)
    return state
