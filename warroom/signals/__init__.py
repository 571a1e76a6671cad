"""What the outside world writes to an incident's timeline, decided here, not in the console.

`Signals` holds the trackers of one console (checks, detection rules, alerts, pods) and turns
each snapshot into Facts: plain timeline entries to be. `record` writes them through the room,
off the UI thread; a fact with a `once` key (an alert episode, a missed deadline) is written at
most once per incident, however many consoles see it (the key is checked in the projected
state, under the store's lock). Pure apart from `record*`, `attach_alert` and
`declare_from_alert`, which are the use cases.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from warroom.alerts import Alert, AlertSnapshot
from warroom.checks import CheckSpec, DetectionRule
from warroom.health import CheckTransition, Detection, HealthSnapshot, HealthTracker, RuleEvaluator
from warroom.model import (
    Event,
    Kind,
    Severity,
    SeverityPolicy,
    format_duration,
    format_ts,
    parse_ts,
)
from warroom.paging import Directory, escalation
from warroom.pods import PodsSnapshot, WatchSnapshot
from warroom.projection import IncidentState
from warroom.room import WarRoom
from warroom.settings import Settings
from warroom.signals.alerts import RESTART_GRACE, AlertTracker, AlertTransition
from warroom.signals.changes import NodeCordonTracker, SeenChange, WorkloadChangeTracker
from warroom.signals.pods import PodTransition, PodTransitionTracker
from warroom.signals.sources import LOST_AFTER, SourceChange, SourceWatch
from warroom.store import IncidentRepository

# Alert severities -> the incident severity a declaration from that alert starts at.
ALERT_SEVERITY = {"critical": "P0", "page": "P1", "high": "P1", "error": "P1", "warning": "P2"}


@dataclass(frozen=True)
class Fact:
    """One timeline entry to be written, by a system (`source`), not by a person."""

    kind: Kind
    text: str
    data: dict[str, Any]
    source: str
    once: str | None = None  # dedup key: written at most once per incident


@dataclass(frozen=True)
class HealthNews:
    transitions: list[CheckTransition] = field(default_factory=list)
    detections: list[Detection] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.transitions or self.detections)


SOURCES = {"prometheus": "Prometheus", "alertmanager": "Alertmanager", "kubernetes": "Kubernetes"}


class Signals:
    def __init__(
        self,
        checks: Sequence[CheckSpec] = (),
        rules: Sequence[DetectionRule] = (),
        *,
        alert_restart_grace: timedelta = RESTART_GRACE,
        source_lost_after: timedelta = LOST_AFTER,
    ) -> None:
        self.checks = HealthTracker(checks)
        self.rules = RuleEvaluator(rules, checks)
        self.alerts = AlertTracker(alert_restart_grace)
        self.pods = PodTransitionTracker()
        self.changes = WorkloadChangeTracker()
        self.cordons = NodeCordonTracker()
        self.sources = {
            name: SourceWatch(name, label, source_lost_after) for name, label in SOURCES.items()
        }
        self._pods_full = True  # the next pods snapshot is fed whole (a delta went unseen)

    def source_facts(
        self, source: str, ok: bool, at: datetime, error: str | None = None
    ) -> list[Fact]:
        """A source lost (after a grace) or back: one fact each time."""
        change = self.sources[source].feed(ok, at, error)
        return [_source_fact(change)] if change is not None else []

    # ----- snapshots -> facts ------------------------------------------------------------------
    def health(self, snap: HealthSnapshot) -> HealthNews:
        return HealthNews(self.checks.feed(snap), self.rules.feed(snap))

    def alert_facts(self, snap: AlertSnapshot) -> list[Fact]:
        return [_alert_fact(t) for t in self.alerts.update(snap)]

    def pod_facts(self, snap: PodsSnapshot) -> list[Fact]:
        """Transitions of a good snapshot (deltas applied when the previous was seen)."""
        if not snap.ok:
            self._pods_full = True  # a failed snapshot carries no delta the tracker can trust
            return []
        rows = snap.rows_by_uid
        if self._pods_full or snap.full:
            found = self.pods.feed(rows, snap.fetched_at)
            self._pods_full = False
        else:
            found = self.pods.feed(
                rows, snap.fetched_at, changed=snap.changed, removed=snap.removed
            )
        return [_pod_fact(t) for t in found]

    def pods_unseen(self) -> None:
        """A snapshot went by without pod_facts (no incident open yet)."""
        self._pods_full = True

    def change_facts(self, snap: WatchSnapshot[Any] | None, at: datetime) -> list[Fact]:
        """Changes to workloads seen on their watch and not made here (signals/changes.py);
        `snap` None: only the ones whose hold ran out."""
        if snap is None:
            found = self.changes.due(at)
        elif not snap.ok:
            return []
        else:
            found = self.changes.feed(
                snap.rows_by_uid, at, changed=snap.changed, removed=snap.removed
            )
        return [_change_fact(c) for c in found]

    def cordon_facts(
        self, nodes: Mapping[str, Any] | None, at: datetime, shown: Collection[str]
    ) -> list[Fact]:
        """Cordons and uncordons seen on the nodes watch (`nodes`: every node, None: only the
        ones whose hold ran out), told for the nodes the incident's pods run on (`shown`)."""
        found = self.cordons.due(at) if nodes is None else self.cordons.feed(nodes, at)
        return [_change_fact(c) for c in found if c.uid in shown]


# ----- deadlines ---------------------------------------------------------------------------------
def deadline_facts(state: IncidentState, policy: SeverityPolicy, now: datetime) -> list[Fact]:
    """SLA deadlines crossed and not yet on the timeline: the next status update, and while
    nobody has acknowledged, the response and escalation deadlines."""
    if state.resolved or state.declared_at is None:
        return []
    due: list[tuple[str, datetime]] = []
    nxt = state.next_update_due(policy.update_every)
    if nxt:
        due.append(("status update", nxt))
    if state.acked_at is None:
        due.append(("acknowledgement", state.declared_at + policy.respond_within))
        if state.escalated_at is None:
            due.append(("escalation", state.declared_at + policy.escalate_after))
    out = []
    for name, at in due:
        key = f"{name}@{at.isoformat()}"
        if now < at or key in state.once_keys:
            continue
        text = f"Deadline missed: {name} was due {at.strftime('%H:%M')} ({state.severity.value})"
        out.append(Fact(Kind.DEADLINE, text, {"deadline": name}, "warroom", once=key))
    return out


def escalation_facts(
    state: IncidentState, policy: SeverityPolicy, directory: Directory, now: datetime
) -> list[Fact]:
    """Automatic escalation, per [escalation]: the acknowledgement deadline passing with
    nobody acknowledging escalates one level; raising the severity to a level's `severity` (or
    worse) escalates to that level. Each once per incident; its pages follow from the event."""
    if state.resolved or state.declared_at is None or directory.empty:
        return []
    out = []
    due = state.declared_at + policy.respond_within
    nxt = directory.next_level(state.level)
    key = f"escalate:ack@{due.isoformat()}"
    missed = directory.on_missed_ack and state.acked_at is None and now >= due
    if missed and nxt and key not in state.once_keys:
        why = f"not acknowledged by {due:%H:%M} ({state.severity.value})"
        text, data = escalation(directory, nxt, reason=why, auto="ack_missed")
        out.append(Fact(Kind.ESCALATED, text, data, "warroom", once=key))
    hist = state.severity_history
    raised = len(hist) > 1 and hist[-1][0].rank < hist[-2][0].rank
    if directory.on_severity and raised:
        sev, since = hist[-1]
        hits = [
            lv
            for lv in directory.levels
            if lv.severity and sev.rank <= lv.severity.rank and lv.rank > state.level_rank
        ]
        key = f"escalate:severity:{sev.value}@{since.isoformat()}"
        if hits and key not in state.once_keys:
            lv = max(hits, key=lambda x: x.rank)
            why = f"severity raised to {sev.value}"
            text, data = escalation(directory, lv, reason=why, auto="severity")
            out.append(Fact(Kind.ESCALATED, text, data, "warroom", once=key))
    return out


def health_facts(state: IncidentState, verify_after: timedelta, now: datetime) -> list[Fact]:
    """Every check back to ok and still ok `verify_after` after a mitigation took effect: the
    mitigation is verified on the health checks (once per healthy stretch)."""
    if state.mitigated_at is None or state.healthy_since is None or state.unhealthy:
        return []
    since = max(state.healthy_since, state.mitigated_at)
    key = f"health-verified:{format_ts(since)}"
    if now < since + verify_after or key in state.once_keys:
        return []
    text = (
        f"Health verified: every check ok for {format_duration(verify_after)} since "
        f"{since.strftime('%H:%M:%S')}, after the mitigation"
    )
    data = {"health": "verified", "since": format_ts(since)}
    return [Fact(Kind.SYSTEM, text, data, "warroom", once=key)]


# ----- writing -----------------------------------------------------------------------------------
CHANGE_WINDOW = timedelta(seconds=30)  # an ACTION this close before a seen change explains it


def record_changes(room: WarRoom, facts: Sequence[Fact]) -> list[Event]:
    """Seen changes, each unless an ACTION on the same object explains it: one of this
    console's or another's (same generation, or within CHANGE_WINDOW), or the drill's record
    of a kubectl change."""
    fresh = []
    for f in facts:
        since = parse_ts(f.data["seen_at"]) - CHANGE_WINDOW
        explained, latest = False, True
        for e in reversed(room.events):
            if e.time < since:
                break
            if e.data.get("target") != f.data["target"]:
                continue
            if e.kind == Kind.ACTION:
                explained = True
                break
            if e.kind == Kind.CHANGE and latest:
                # Another console told this very change (a node's carries no generation
                # to key it by): the latest change of the object says the same.
                latest = False
                if e.data.get("changes") == f.data.get("changes"):
                    explained = True
                    break
        if not explained:
            fresh.append(f)
    return record(room, fresh)


def record(room: WarRoom, facts: Sequence[Fact]) -> list[Event]:
    """Write the facts; a fact whose `once` key is already on the timeline is skipped."""
    out = []
    for f in facts:
        if f.once is not None:
            ev = room.record_once(f.kind, f.text, f.data, key=f.once, source=f.source)
        else:
            ev = room.record(f.kind, f.text, f.data, source=f.source)
        if ev is not None:
            out.append(ev)
    return out


def record_health(room: WarRoom, news: HealthNews) -> Detection | None:
    """Check transitions and detections. A detection marks the detection time (if earlier than
    the one known) and, when it suggests a higher severity, records the suggestion; the last
    such suggestion is returned for the console to offer."""
    record(room, [_check_fact(t) for t in news.transitions])
    suggestion = None
    for d in news.detections:
        already = room.state.detected_at
        if already is None or d.since < already:
            room.mark_detected(d.since, d.reason_text, rule=d.rule.name, source="warroom-rules")
        if d.suggested_severity.rank < room.state.severity.rank:
            room.record(
                Kind.SUGGESTION,
                f"{d.reason_text} (press S to accept)",
                {"rule": d.rule.name, "severity": d.suggested_severity.value},
                source="warroom-rules",
            )
            suggestion = d
    return suggestion


def attach_alert(room: WarRoom, alert: Alert) -> Event:
    """A responder ties a firing alert to the incident; its start marks the detection time."""
    ev = room.record(
        Kind.ALERT,
        f"Alert {alert.name} attached: {alert.summary}",
        _attached(alert),
    )
    if alert.starts_at:
        room.mark_detected(alert.starts_at, f"alert {alert.name} firing")
    return ev


def alert_severity(alert: Alert) -> Severity:
    return Severity(ALERT_SEVERITY.get(alert.severity.lower(), "P2"))


def declare_from_alert(
    repo: IncidentRepository,
    settings: Settings,
    alert: Alert,
    severity: Severity,
    clock: Callable[[], datetime],
) -> WarRoom:
    """A new incident from a firing alert, detected when the alert started."""
    title = f"{alert.name}: {alert.summary}" if alert.summary else alert.name
    room = WarRoom.declare(
        repo,
        settings,
        title=title,
        severity=severity,
        category="application",
        detected_at=alert.starts_at,
        clock=clock,
    )
    room.record(Kind.ALERT, f"Declared from alert {alert.name}", _attached(alert))
    return room


# ----- one fact per transition -------------------------------------------------------------------
def _check_fact(t: CheckTransition) -> Fact:
    data: dict[str, Any] = {
        "check": t.check,
        "from": str(t.previous) if t.previous else None,
        "to": str(t.state),
        "value": t.value,
    }
    if t.error:
        data["error"] = t.error
    return Fact(Kind.CHECK, t.text, data, "prometheus")


def _alert_fact(t: AlertTransition) -> Fact:
    a = t.alert
    started = format_ts(a.starts_at) if a.starts_at else None
    text = t.text + (" (already firing when the console opened)" if t.initial else "")
    data: dict[str, Any] = {
        "fingerprint": a.fingerprint,
        "alertname": a.name,
        "transition": t.kind,
        "severity": a.severity,
        "starts_at": started,
    }
    # The labels that name what is affected (the post-mortem's affected systems).
    named = {k: a.labels[k] for k in ("service", "namespace", "deployment", "job") if k in a.labels}
    if named:
        data["labels"] = named
    if t.kind == "resolved":
        data.update(inferred=t.inferred, how=t.how)
    # One episode of one alert: another console may have recorded it already.
    return Fact(
        Kind.ALERT, text, data, "alertmanager", once=f"{a.fingerprint}:{t.kind}:{started or ''}"
    )


def _source_fact(c: SourceChange) -> Fact:
    data = {
        "source": c.source,
        "transition": "lost" if c.lost else "back",
        "since": format_ts(c.since),
    }
    # Two consoles seeing the same outage write it once: keyed by when it began (to the minute).
    key = f"source:{c.source}:{data['transition']}:{c.since.strftime('%Y%m%dT%H%M')}"
    return Fact(Kind.SYSTEM, c.text, data, c.source, once=key)


def _change_fact(c: SeenChange) -> Fact:
    data: dict[str, Any] = {
        "target": c.target,
        ("workload" if c.namespace else "node"): c.ref,
        "verb": c.verb,
        "changes": {k: {"before": a, "after": b} for k, (a, b) in c.fields.items()},
        "generation": c.generation,
        "seen_at": format_ts(c.at),
    }
    # Two consoles watching the same object write it once (a node has no generation: the
    # time seen keys it, and record_changes drops another console's copy).
    key = f"change:{c.uid}:{c.generation or format_ts(c.at)}"
    return Fact(Kind.CHANGE, c.text, data, "kubernetes", once=key)


def _pod_fact(t: PodTransition) -> Fact:
    data = {"uid": t.uid, "namespace": t.namespace, "pod": t.name, "transition": t.kind}
    return Fact(Kind.POD, t.text, data, "kubernetes")


def _attached(alert: Alert) -> dict[str, Any]:
    return {
        "fingerprint": alert.fingerprint,
        "alertname": alert.name,
        "transition": "attached",
        "labels": alert.labels,
    }
