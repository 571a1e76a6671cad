"""Scores a drill from its timeline alone: events + scenario objectives + the severity policy.

Nothing here looks at the drill world, so a drill is scored the same way live, at its end, or
from its file a month later (`warroom drill --report ID`).

Clocks. Event timestamps are wall-clock UTC. The severity policy's limits (respond within 15m,
update every 30m, ...) are wall-clock limits, and the console's header and "Deadline missed"
events count them on the wall clock, so the score does too: "acknowledged after 1m12s" is wall
time since the drill was declared. `--speed N` runs the scenario N times faster than the wall
clock; to relate a responder's move to what the scenario did, each measurement also says the
scenario time (wall seconds since drill start * N, "scenario t+6m00s"), the clock the scenario
file's `at:` and the script's `at:` are written in. The drill start event records N and t0.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from warroom.drill.objectives import DEFAULT_PHASES_EXCLUDED, ActionRule, Objectives
from warroom.model import Event, Kind, Severity, SeverityPolicy, format_duration, parse_ts
from warroom.projection import IncidentState, project

DRILL_START = "start"  # data["drill"] of the SYSTEM event the drill writes when it begins
DRILL_END = "end"
_RESOURCE_KINDS = {
    "deployments": "deployment",
    "statefulsets": "statefulset",
    "daemonsets": "daemonset",
}
_VERB_KINDS = {
    "rollout-restart": "restart",
    "delete-pod": "delete",
    "scale": "scale",
    "set-image": "image",
    "rollout-undo": "image",  # the console's rollback sets the template back: its image counts
    # A quarantine's three steps (console) or its NetworkPolicy (kubectl, seen by the drill).
    "quarantine-label": "quarantine",
    "quarantine-isolate": "quarantine",
    "quarantine-detach": "quarantine",
}

PolicyFor = Callable[[Severity], SeverityPolicy]


@dataclass(frozen=True, slots=True)
class DrillClock:
    """Wall t0 of scenario second 0 and the speed: scenario t = (wall - t0) * speed."""

    t0: datetime
    speed: float = 1.0

    def scenario_t(self, at: datetime) -> float:
        return max((at - self.t0).total_seconds(), 0.0) * self.speed

    def label(self, at: datetime) -> str:
        return f"scenario t+{format_duration(self.scenario_t(at))}"


@dataclass(frozen=True, slots=True)
class ResponderAction:
    """An ACTION event read as what the scenario judges."""

    seq: int
    at: datetime
    kind: str  # restart | delete | scale | image | patch | other
    workload: str  # "deployment/x", "" if unknown
    text: str
    replicas: int | None = None
    image: str | None = None
    force: bool = False  # a delete with grace period 0

    def matches(self, rule: ActionRule) -> bool:
        if rule.kind != self.kind or rule.workload != self.workload:
            return False
        if rule.kind == "scale" and rule.min_replicas is not None:
            return self.replicas is not None and self.replicas >= rule.min_replicas
        if rule.kind == "image" and rule.image:
            return self.image == rule.image
        if rule.kind == "delete" and rule.force:
            return self.force
        return True


@dataclass(frozen=True, slots=True)
class ObjectiveScore:
    id: str
    title: str
    passed: bool
    points: int  # earned
    max_points: int
    measured: str  # what happened, with times
    limit: str = ""  # what was expected
    missed: str = ""  # what to do differently; empty when passed


@dataclass(frozen=True)
class DrillScore:
    incident_id: str
    scenario: str
    clock: DrillClock
    objectives: list[ObjectiveScore]
    points: int
    max_points: int
    pass_mark: int
    required: tuple[str, ...]
    wrong_moves: list[str]

    @property
    def percent(self) -> int:
        return round(100 * self.points / self.max_points) if self.max_points else 0

    @property
    def won(self) -> bool:
        needed = all(o.passed for o in self.objectives if o.id in self.required)
        return needed and self.percent >= self.pass_mark

    def by_id(self, objective_id: str) -> ObjectiveScore:
        return next(o for o in self.objectives if o.id == objective_id)


def drill_clock(events: list[Event], state: IncidentState) -> DrillClock:
    for e in events:
        if e.kind == Kind.SYSTEM and e.data.get("drill") == DRILL_START:
            try:
                return DrillClock(parse_ts(str(e.data["t0"])), float(e.data.get("speed", 1.0)))
            except (KeyError, ValueError):
                break
    fallback = state.declared_at or (events[0].time if events else datetime.min.replace(tzinfo=UTC))
    return DrillClock(fallback, 1.0)


def responder_actions(events: list[Event], workloads: list[str]) -> list[ResponderAction]:
    """Successful ACTION events (console or kubectl), oldest first, with the workload they hit."""
    out = []
    for e in events:
        if e.kind != Kind.ACTION or not e.data.get("ok", True):
            continue
        verb = str(e.data.get("verb", ""))
        workload = str(e.data.get("workload") or "") or workload_of(
            str(e.data.get("target", "")), workloads
        )
        replicas = e.data.get("replicas")
        out.append(
            ResponderAction(
                seq=e.seq,
                at=e.time,
                kind=_VERB_KINDS.get(verb, verb or "other"),
                workload=workload,
                text=e.text,
                replicas=int(replicas) if isinstance(replicas, int | float) else None,
                image=str(e.data["image"]) if e.data.get("image") else None,
                force=e.data.get("grace") == 0,
            )
        )
    return out


def workload_of(target: str, workloads: list[str]) -> str:
    """deployment/x from "deployments/ns/x", or from a pod "pods/ns/x-5d8f9c7b6-abcde"."""
    resource, _, rest = target.partition("/")
    name = rest.rpartition("/")[2]
    if resource in _RESOURCE_KINDS:
        return f"{_RESOURCE_KINDS[resource]}/{name}"
    if resource == "pods":
        for ref in workloads:
            kind, _, wname = ref.partition("/")
            suffix = {
                "deployment": r"-[a-z0-9]{1,10}-[a-z0-9]{5}",
                "statefulset": r"-\d+",
                "daemonset": r"-[a-z0-9]{5}",
            }.get(kind)
            if suffix and re.fullmatch(re.escape(wname) + suffix, name):
                return ref
    return ""


def score(
    events: list[Event],
    objectives: Objectives,
    policy_for: PolicyFor,
    *,
    scenario: str = "",
    workloads: list[str] | None = None,
) -> DrillScore:
    state = project(events)
    clock = drill_clock(events, state)
    declared = state.declared_at or clock.t0
    expected = objectives.expected_severity or state.severity
    policy = policy_for(expected)
    actions = responder_actions(events, workloads or [])
    s = _Scorer(events, state, objectives, policy, clock, declared, actions)
    results = [
        s.ack(),
        s.severity(),
        s.first_update(),
        s.mitigation(),
        s.evidence(),
        s.phases(),
        s.resolved(),
    ]
    return DrillScore(
        incident_id=state.incident_id,
        scenario=scenario or (state.scenario or ""),
        clock=clock,
        objectives=results,
        points=sum(r.points for r in results),
        max_points=sum(r.max_points for r in results),
        pass_mark=objectives.pass_mark,
        required=objectives.required,
        wrong_moves=s.wrong_moves(),
    )


class _Scorer:
    def __init__(
        self,
        events: list[Event],
        state: IncidentState,
        obj: Objectives,
        policy: SeverityPolicy,
        clock: DrillClock,
        declared: datetime,
        actions: list[ResponderAction],
    ) -> None:
        self.events, self.state, self.obj, self.policy = events, state, obj, policy
        self.clock, self.declared, self.actions = clock, declared, actions
        self.first_right = self._first_right()

    # ----- helpers ---------------------------------------------------------------------
    def _result(
        self, oid: str, title: str, passed: bool, measured: str, limit: str = "", missed: str = ""
    ) -> ObjectiveScore:
        pts = self.obj.points.get(oid, 0)
        return ObjectiveScore(
            oid, title, passed, pts if passed else 0, pts, measured, limit, "" if passed else missed
        )

    def _since(self, at: datetime) -> str:
        """'1m12s (scenario t+6m00s)': wall time since declaration, and the scenario time."""
        return f"{format_duration(max(at - self.declared, timedelta()))} ({self.clock.label(at)})"

    def _limit(self, value: timedelta | None, field: str) -> tuple[timedelta, str]:
        if value is not None:
            return value, f"{format_duration(value)} (scenario objective)"
        d = getattr(self.policy, field)
        return d, f"{format_duration(d)} ({self.policy.severity.value} {field})"

    def _first(self, kind: str) -> Event | None:
        return next((e for e in self.events if e.kind == kind), None)

    def _first_right(self) -> ResponderAction | None:
        if not self.obj.right:  # no rules: any change counts as the mitigation
            return self.actions[0] if self.actions else None
        return next((a for a in self.actions if any(a.matches(r) for r in self.obj.right)), None)

    def _wrong(self, a: ResponderAction) -> ActionRule | None:
        return next((r for r in self.obj.wrong if a.matches(r)), None)

    def wrong_moves(self) -> list[str]:
        out = []
        for a in self.actions:
            rule = self._wrong(a)
            if rule is not None:
                why = f": {rule.why}" if rule.why else ""
                out.append(f"{rule.describe()} at {self._since(a.at)}{why}")
        return out

    # ----- the objectives --------------------------------------------------------------
    def ack(self) -> ObjectiveScore:
        title = "Acknowledged within the response time"
        limit, limit_text = self._limit(self.obj.ack_within, "respond_within")
        ev = self._first(Kind.ACK)
        if ev is None:
            return self._result(
                "ack",
                title,
                False,
                "never acknowledged",
                limit_text,
                "Acknowledge the page (k) as soon as you take the incident.",
            )
        took = ev.time - self.declared
        ok = took <= limit
        return self._result(
            "ack",
            title,
            ok,
            f"acknowledged after {self._since(ev.time)}",
            limit_text,
            f"Acknowledged {format_duration(took - limit)} past the limit.",
        )

    def severity(self) -> ObjectiveScore:
        title = "Severity set correctly"
        accepted = self.obj.severity
        final = self.state.severity
        if not accepted:
            return self._result(
                "severity", title, True, f"ended at {final.value} (the scenario names no severity)"
            )
        names = "/".join(s.value for s in accepted)
        why = f" ({self.obj.severity_why})" if self.obj.severity_why else ""
        limit = f"{names}{why}"
        set_at = next(
            (
                e
                for e in self.events
                if e.kind == Kind.SEVERITY and e.data.get("to") in {s.value for s in accepted}
            ),
            None,
        )
        if final in accepted:
            how = (
                f"set to {final.value} after {self._since(set_at.time)}"
                if set_at
                else f"declared at {final.value}"
            )
            return self._result("severity", title, True, how, limit)
        return self._result(
            "severity",
            title,
            False,
            f"ended at {final.value}",
            limit,
            f"Set the severity to {accepted[0].value} (s) once the impact is clear{why}.",
        )

    def first_update(self) -> ObjectiveScore:
        title = "First status update within the cadence"
        limit, limit_text = self._limit(self.obj.first_update_within, "update_every")
        ev = self._first(Kind.UPDATE)
        if ev is None:
            return self._result(
                "first_update",
                title,
                False,
                "no status update sent",
                limit_text,
                "Send a first update (u) to stakeholders: what is known, what is being done, "
                "when the next update comes.",
            )
        took = ev.time - self.declared
        return self._result(
            "first_update",
            title,
            took <= limit,
            f"first update after {self._since(ev.time)}",
            limit_text,
            f"The first update came {format_duration(took - limit)} past the limit.",
        )

    def mitigation(self) -> ObjectiveScore:
        title = "Mitigation action correct"
        right = "; ".join(r.describe() for r in self.obj.right) or "any change that fixes it"
        fix = self.first_right
        wrong_first = [
            a for a in self.actions if self._wrong(a) and (fix is None or a.seq < fix.seq)
        ]
        if fix is None:
            tried = f"; tried: {', '.join(a.text for a in self.actions)}" if self.actions else ""
            moves = self.wrong_moves()
            wrong = f"Wrong move: {moves[0]}. " if moves else ""
            return self._result(
                "mitigation",
                title,
                False,
                "no mitigating action" + tried,
                right,
                f"{wrong}A fix would have been: {right}.",
            )
        measured = f"{fix.text} after {self._since(fix.at)}"
        if wrong_first:
            rules = [self._wrong(a) for a in wrong_first]
            moves = "; ".join(
                f"{r.describe()}" + (f" ({r.why})" if r.why else "") for r in rules if r
            )
            return self._result(
                "mitigation",
                title,
                False,
                measured + ", after a wrong move first",
                right,
                f"Wrong move before the fix: {moves}.",
            )
        return self._result("mitigation", title, True, measured, right)

    def evidence(self) -> ObjectiveScore:
        title = "Evidence collected before the first change"
        evidence = [e for e in self.events if e.kind == Kind.EVIDENCE and _has_pod_data(e)]
        empty = [e for e in self.events if e.kind == Kind.EVIDENCE and not _has_pod_data(e)]
        ref = self.first_right or (self.actions[0] if self.actions else None)
        first = evidence[0] if evidence else None
        if not self.obj.evidence_before_mitigation:
            ok = first is not None
            measured = (
                f"evidence at {self._since(first.time)}" if first else "no evidence collected"
            )
            return self._result(
                "evidence", title, ok, measured, "an evidence bundle", "Collect evidence (e)."
            )
        if first is None:
            return self._result(
                "evidence",
                title,
                False,
                "a bundle without pod data" if empty else "no evidence collected",
                "an evidence bundle before the first change",
                "Collect evidence (e) before you restart or change anything: a change replaces "
                "the pods, their logs and the state you would want to look at later.",
            )
        if ref is None:
            return self._result(
                "evidence",
                title,
                True,
                f"evidence at {self._since(first.time)}; no change was made",
                "before the first change",
            )
        before = [e for e in evidence if e.seq < ref.seq]
        measured = f"evidence at {self._since(first.time)}, first change at {self._since(ref.at)}"
        return self._result(
            "evidence",
            title,
            bool(before),
            measured,
            "before the first change",
            "Evidence came only after the change: collect it (e) first, the change destroys it.",
        )

    def phases(self) -> ObjectiveScore:
        title = "Checklist phases completed"
        progress = self.state.phase_progress()
        wanted = self.obj.phases
        if wanted is None:
            wanted = tuple(p for p, *_ in progress if p not in DEFAULT_PHASES_EXCLUDED)
        rows = {p: (t, d, n) for p, t, d, n in progress}
        parts, open_items = [], []
        for p in wanted:
            t, d, n = rows.get(p, (p, 0, 0))
            parts.append(f"{t} {d}/{n}")
        for item in self.state.checklist.values():
            if item.phase in wanted and not item.done:
                open_items.append(item.text)
        ok = not open_items and all(p in rows for p in wanted)
        missed = (
            "Still open: " + "; ".join(open_items) + "."
            if open_items
            else "Phases missing from the checklist."
        )
        return self._result(
            "phases",
            title,
            ok,
            ", ".join(parts) or "no checklist",
            "every item of: " + ", ".join(wanted),
            missed,
        )

    def resolved(self) -> ObjectiveScore:
        title = "Resolved"
        limit, limit_text = self._limit(self.obj.resolve_within, "resolve_within")
        ev = next((e for e in reversed(self.events) if e.kind == Kind.RESOLVED), None)
        if ev is None or not self.state.resolved:
            return self._result(
                "resolved",
                title,
                False,
                "not resolved",
                limit_text,
                "Resolve (t, resolved) once health checks and alerts are back to normal.",
            )
        measured = f"resolved after {self._since(ev.time)}"
        if self.first_right is None or self.first_right.seq > ev.seq:
            return self._result(
                "resolved",
                title,
                False,
                measured + " with no fix in place",
                limit_text,
                "Resolved before anything fixed the fault: verify recovery on the health checks "
                "first.",
            )
        took = ev.time - self.declared
        return self._result(
            "resolved",
            title,
            took <= limit,
            measured,
            limit_text,
            f"Resolved {format_duration(took - limit)} past the target.",
        )


def _has_pod_data(ev: Event) -> bool:
    """A bundle that holds no pod (incident-wide, with nothing unhealthy and nothing the checks
    or alerts pointed at) preserves no pod state: it is no evidence for the objective."""
    return ev.data.get("pods", 1) != 0
