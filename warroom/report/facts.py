"""What the timeline already knows for the post-mortem, read from the events: affected systems,
how the incident was detected, signals that went unanswered, milestones, the actions with their
verified outcomes, the communications sent, and who took part. Each item is a plain dict with a
`text` line for people and the fields for tools."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from warroom.model import Event, Kind, format_duration, format_ts, parse_ts
from warroom.projection import IncidentState
from warroom.templates import DRILL_LINE

# Actors that are systems, not people: they never count as participants.
SYSTEM_ACTORS = frozenset(
    {"prometheus", "alertmanager", "kubernetes", "warroom", "warroom-rules", "drill"}
)
OUTCOME_WORDS = {"took_effect": "took effect", "no_effect": "no effect", "pending": "pending"}
_LEVEL = {"warn": 1, "crit": 2}


def hhmm(t: datetime) -> str:
    return t.strftime("%H:%M:%S")


def when(t: datetime | None) -> str | None:
    return format_ts(t) if t else None


def is_signal(ev: Event) -> bool:
    d = ev.data
    return (
        (ev.kind == Kind.CHECK and d.get("to") in _LEVEL)
        or (ev.kind == Kind.ALERT and d.get("transition") in ("fired", "attached"))
        or ev.kind == Kind.DETECTED
    )


def signal_time(ev: Event) -> datetime:
    """When a signal began: an alert's startsAt, a detection's `at`, else the event's time."""
    raw = ev.data.get("starts_at") if ev.kind == Kind.ALERT else ev.data.get("at")
    if ev.kind in (Kind.ALERT, Kind.DETECTED) and raw:
        try:
            return parse_ts(str(raw))
        except ValueError:
            pass
    return ev.time


def affected(state: IncidentState, events: Iterable[Event]) -> list[dict[str, Any]]:
    """Workloads (pods in trouble, actions, alert labels), checks that left ok, alerts fired."""
    out = [
        {"kind": "workload", "name": name, "text": f"workload {name}"} for name in state.services
    ]
    checks: dict[str, str] = {}
    alerts: dict[str, str] = {}
    for ev in events:
        d = ev.data
        if ev.kind == Kind.CHECK and d.get("to") in _LEVEL:
            name = str(d.get("check", ""))
            if _LEVEL[d["to"]] > _LEVEL.get(checks.get(name, ""), 0):
                checks[name] = d["to"]
        elif ev.kind == Kind.ALERT and d.get("transition") in ("fired", "attached"):
            alerts.setdefault(str(d.get("alertname", "")), str(d.get("severity") or ""))
    out += [
        {"kind": "check", "name": n, "worst": s, "text": f"check {n} (worst: {s})"}
        for n, s in checks.items()
    ]
    out += [
        {"kind": "alert", "name": n, "severity": s, "text": f"alert {n}" + (f" [{s}]" if s else "")}
        for n, s in alerts.items()
    ]
    return out


def detection(state: IncidentState, events: list[Event]) -> list[dict[str, Any]]:
    """How the incident was detected: the first signal at or after impact start, or the
    declaration by a person when it came first."""
    start, declared = state.started_at, state.declared_at
    first = next((e for e in events if is_signal(e) and (start is None or e.time >= start)), None)
    signals = sum(1 for e in events if is_signal(e))
    at = (
        None
        if first is None
        else (state.detected_at if first.kind == Kind.DETECTED else first.time)
    )
    seen = f"{hhmm(at)} UTC from {first.actor}: {state.text_of(first)}" if first and at else ""
    if first is None or at is None or (declared and at > declared == state.detected_at):
        text = f"Declared by {state.declared_by} before any check or alert saw it"
        text += f"; first signal {seen}" if seen else ""
        item = {"source": "declaration", "by": state.declared_by, "at": when(declared)}
    else:
        text = f"First signal {seen}" + (f" ({signals} signals in all)" if signals > 1 else "")
        item = {"source": first.actor, "kind": first.kind, "at": when(at), "signal": first.text}
    return [{**item, "signals": signals, "text": text}]


def missed_signals(state: IncidentState, events: list[Event]) -> list[dict[str, Any]]:
    """Signals that came before anyone declared the incident, and an acknowledgement slower
    than the severity's response time."""
    out: list[dict[str, Any]] = []
    declared = state.declared_at
    for ev in events:
        began = signal_time(ev)
        if declared and is_signal(ev) and began < declared:
            before = format_duration(declared - began)
            text = f"{state.text_of(ev)}: began {hhmm(began)} UTC, {before} before the declaration"
            early = (declared - began).total_seconds()
            out.append({"seq": ev.seq, "at": when(began), "before_s": early, "text": text})
    respond = state.sla.get("respond_within")
    if state.acked_at and state.detected_at and respond:
        waited = state.acked_at - state.detected_at
        if waited > respond:
            text = (
                f"acknowledged {format_duration(waited)} after detection; "
                f"{state.severity.value} asks for {format_duration(respond)}"
            )
            out.append({"ack_after_s": waited.total_seconds(), "text": text})
    return out


def milestones(state: IncidentState) -> list[dict[str, Any]]:
    rows = [
        ("impact_started", "Impact started", state.started_at),
        ("detected", "Detected", state.detected_at),
        ("declared", "Declared (response initiated)", state.declared_at),
        ("acknowledged", "Acknowledged", state.acked_at),
        ("escalated", "Escalated", state.escalated_at),
        ("mitigated", "Mitigated (contained)", state.mitigated_at),
        ("root_cause", "Root cause identified", state.root_cause_at),
        ("resolved", "Resolved (service restored)", state.resolved_at),
    ]
    return [
        {
            "key": key,
            "label": label,
            "at": when(t),
            "text": f"{label}: {t:%Y-%m-%d %H:%M:%S} UTC" if t else f"{label}: not recorded",
        }
        for key, label, t in rows
    ]


def actions(state: IncidentState, events: list[Event]) -> list[dict[str, Any]]:
    """Every change made to a system with its verified outcome (None: never verified)."""
    out = []
    for ev in events:
        if ev.kind != Kind.ACTION:
            continue
        d = ev.data
        outcome = state.outcomes.get(ev.seq)
        ok = bool(d.get("ok", True))
        said = "failed" if not ok else OUTCOME_WORDS.get(outcome or "", "not verified")
        text = f"{hhmm(ev.time)} {ev.actor}: {state.text_of(ev)} ({said})"
        if d.get("revert"):
            text += f" (revert: {d['revert']})"
        out.append(
            {
                "seq": ev.seq,
                "at": when(ev.time),
                "by": ev.actor,
                "verb": d.get("verb"),
                "target": d.get("target"),
                "ok": ok,
                "outcome": outcome if ok else "failed",
                "revert": d.get("revert"),
                "text": text,
            }
        )
    return out


def communications(
    events: list[Event], deliveries: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Status updates written, each with where it went and whether it arrived."""
    by_update: dict[int, list[dict[str, Any]]] = {}
    for doc in deliveries:
        by_update.setdefault(int(doc.get("update_seq", 0)), []).append(
            {
                "destination": doc.get("destination"),
                "audience": doc.get("audience") or doc.get("destination"),
                "state": doc.get("state"),
                "attempts": doc.get("attempts", 0),
                "delivered_at": doc.get("delivered_at"),
                "error": doc.get("last_error"),
            }
        )
    out = []
    for ev in events:
        if ev.kind != Kind.UPDATE:
            continue
        sent = sorted(by_update.get(ev.seq, []), key=lambda x: str(x["destination"]))
        label = str(ev.data.get("template") or "update")
        if ev.data.get("update_number") is not None and label == "update":
            label += f" #{ev.data['update_number']}"
        audience = str(ev.data.get("audience") or "responders")
        where = "; ".join(
            f"{x['audience']}: {x['state']}" + (f" ({x['error']})" if x.get("error") else "")
            for x in sent
        )
        lines = [x for x in ev.text.strip().splitlines() if x.strip() != DRILL_LINE]
        first_line = lines[0] if lines else ""  # a drill's marker line says nothing here
        text = f"{hhmm(ev.time)} {ev.actor}: {label}: {first_line[:120]}"
        text += f" -> {where}" if where else " (recorded only: no destination)"
        item = {"seq": ev.seq, "at": when(ev.time), "by": ev.actor, "kind": label}
        item["audience"] = audience
        out.append({**item, "deliveries": sent, "text": text})
    return out


def pages(events: list[Event], deliveries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every page, acknowledgement and resolve sent to a pager, with its channel and whether
    it arrived (the outbox's page documents, in the order they were decided)."""
    by_seq = {e.seq: e for e in events}
    docs = [d for d in deliveries if d.get("kind") == "page"]
    out = []
    for doc in sorted(docs, key=lambda d: (int(d.get("update_seq", 0)), str(d["destination"]))):
        msg = doc.get("message") or {}
        ev = by_seq.get(int(doc.get("update_seq", 0)))
        action = str(msg.get("action") or "trigger")
        what = {"acknowledge": "acknowledgement", "resolve": "resolve"}.get(action, "page")
        channel = str(doc["destination"]).rsplit(":", 1)[-1]
        level = f" ({msg['level']})" if msg.get("level") else ""
        err = doc.get("last_error")
        text = f"{hhmm(ev.time) if ev else '?'} {what} to {msg.get('to', '?')}{level}"
        text += f" via {channel}: {doc.get('state')}" + (f" ({err})" if err else "")
        out.append(
            {
                "seq": doc.get("update_seq"),
                "at": when(ev.time) if ev else None,
                "to": msg.get("to"),
                "level": msg.get("level") or None,
                "action": action,
                "channel": channel,
                "audience": "page",
                "state": doc.get("state"),
                "attempts": doc.get("attempts", 0),
                "delivered_at": doc.get("delivered_at"),
                "error": err,
                "text": text,
            }
        )
    return out


def participants(state: IncidentState, events: list[Event]) -> list[dict[str, Any]]:
    """Everyone who acted (a system source is not a person), with roles held and counts."""
    acted: dict[str, dict[str, int]] = {}
    for ev in events:
        if ev.actor in SYSTEM_ACTORS or ev.kind in (Kind.PIN, Kind.EDIT):
            continue
        kinds = acted.setdefault(ev.actor, {})
        kinds[ev.kind] = kinds.get(ev.kind, 0) + 1
    roles: dict[str, list[str]] = {}
    for role, name in state.roles.items():
        roles.setdefault(name, []).append(role.label)
        acted.setdefault(name, {})
    out = []
    for name, kinds in acted.items():
        held = roles.get(name, [])
        did = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
        text = name + (f" ({', '.join(held)})" if held else "") + (f": {did}" if did else "")
        out.append({"name": name, "roles": held, "events": sum(kinds.values()), "text": text})
    return out
