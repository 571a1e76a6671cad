"""Post-mortem export: Markdown for people, JSON for tools. MTTD/MTTA/MTTR from the timeline.

Definitions (stated in the report so nobody argues about them in the review):
- MTTD, time to detect: impact start -> detection (first alert, rule or declaration).
- MTTA, time to acknowledge: detection -> first acknowledgement by a responder.
- MTTR, time to resolve: detection -> resolved.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from warroom.model import Event, Kind, Severity, format_duration, format_ts, utcnow
from warroom.projection import IncidentState, project
from warroom.sanitize import strip_control

KIND_LABELS = {
    Kind.DECLARED: "declared",
    Kind.SEVERITY: "severity",
    Kind.STATUS: "status",
    Kind.ROLE: "role",
    Kind.NOTE: "note",
    Kind.PIN: "pin",
    Kind.CHECKLIST: "checklist",
    Kind.ACTION: "action",
    Kind.OUTCOME: "outcome",
    Kind.ACK: "ack",
    Kind.ESCALATED: "escalated",
    Kind.DETECTED: "detected",
    Kind.ALERT: "alert",
    Kind.CHECK: "check",
    Kind.POD: "pod",
    Kind.EVIDENCE: "evidence",
    Kind.UPDATE: "update",
    Kind.DEADLINE: "deadline",
    Kind.SUGGESTION: "suggestion",
    Kind.EDIT: "edit",
    Kind.RESOLVED: "resolved",
    Kind.SYSTEM: "system",
}


def md_inline(text: str) -> str:
    """Text that cannot break a Markdown table row or start a heading/list/HTML tag."""
    text = strip_control(text).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"([`*_\[\]#])", r"\\\1", text)
    return text.strip()


@dataclass(frozen=True)
class Metrics:
    started_at: datetime | None
    detected_at: datetime | None
    acked_at: datetime | None
    resolved_at: datetime | None
    mttd: timedelta | None
    mtta: timedelta | None
    mttr: timedelta | None
    duration: timedelta | None
    time_in_severity: dict[Severity, timedelta]


def metrics(state: IncidentState, now: datetime | None = None) -> Metrics:
    now = now or utcnow()

    def span(a: datetime | None, b: datetime | None) -> timedelta | None:
        return max(b - a, timedelta()) if a and b else None

    return Metrics(
        started_at=state.started_at,
        detected_at=state.detected_at,
        acked_at=state.acked_at,
        resolved_at=state.resolved_at,
        mttd=span(state.started_at, state.detected_at),
        mtta=span(state.detected_at, state.acked_at),
        mttr=span(state.detected_at, state.resolved_at),
        duration=span(state.declared_at, state.resolved_at or now),
        time_in_severity=state.time_in_severity(now),
    )


def _t(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


def _hhmm(value: datetime) -> str:
    return value.strftime("%H:%M:%S")


def to_markdown(events: list[Event], now: datetime | None = None) -> str:
    state = project(events)
    m = metrics(state, now)
    drill = state.drill
    out: list[str] = []
    title = md_inline(state.title)
    out.append(f"# {'[DRILL] ' if drill else ''}Incident report: {state.incident_id}: {title}")
    out.append("")
    if drill:
        out.append("> **DRILL**: this was a simulated incident (a `warroom drill` exercise).")
        out.append("")

    out += ["## Overview", ""]
    out.append(f"- Incident ID: {state.incident_id}")
    out.append(f"- Title: {title}")
    out.append(f"- Date: {_t(state.declared_at)}")
    out.append(f"- Duration: {format_duration(m.duration)}")
    peak = min((s for s, _ in state.severity_history), key=lambda s: s.rank, default=None)
    sev_line = state.severity.value
    if peak and peak != state.severity:
        sev_line += f" (peak {peak.value})"
    out.append(f"- Severity: {sev_line}")
    out.append(f"- Status: {state.status.value}")
    out.append(f"- Category: {md_inline(state.category) or '-'}")
    for role, name in state.roles.items():
        out.append(f"- {role.label.capitalize()}: {md_inline(name)}")
    out.append("")

    out += ["## Metrics", ""]
    out.append("| Metric | Value | From -> to |")
    out.append("|---|---|---|")
    out.append(f"| MTTD (time to detect) | {format_duration(m.mttd)} | impact start -> detection |")
    out.append(
        f"| MTTA (time to acknowledge) | {format_duration(m.mtta)} | detection -> acknowledged |"
    )
    out.append(f"| MTTR (time to resolve) | {format_duration(m.mttr)} | detection -> resolved |")
    out.append("")
    out.append(f"- Impact started: {_t(m.started_at)}")
    out.append(f"- Detected: {_t(m.detected_at)}")
    out.append(f"- Acknowledged: {_t(m.acked_at)}")
    out.append(f"- Resolved: {_t(m.resolved_at)}")
    out.append("")
    if m.time_in_severity:
        out.append("| Severity | Time spent |")
        out.append("|---|---|")
        for sev in sorted(m.time_in_severity, key=lambda s: s.rank):
            out.append(f"| {sev.value} | {format_duration(m.time_in_severity[sev])} |")
        out.append("")

    out += ["## Timeline", ""]
    out.append("| Time (UTC) | Who | Kind | What |")
    out.append("|---|---|---|---|")
    for ev in events:
        if ev.kind in (Kind.PIN, Kind.EDIT):
            continue  # reflected in the rows they refer to
        mark = " **(pinned)**" if ev.seq in state.pinned else ""
        edited = " _(edited)_" if ev.seq in state.edits else ""
        text = md_inline(state.text_of(ev))
        out.append(
            f"| {_hhmm(ev.time)} | {md_inline(ev.actor)} | {ev.kind} | {text}{edited}{mark} |"
        )
    out.append("")

    def section(heading: str, key: str, empty: str) -> None:
        out.extend([f"## {heading}", ""])
        items = state.sections.get(key, [])
        if items:
            out.extend(f"- {md_inline(t)}" for t in items)
        else:
            out.append(f"_{empty}_")
        out.append("")

    section("Impact", "impact", "Not recorded. Add notes starting with 'Impact:'.")
    section("Root Cause", "root_cause", "Not recorded. Add notes starting with 'Root cause:'.")
    resolution = list(state.sections.get("resolution", []))
    actions = [e for e in events if e.kind == Kind.ACTION]
    out += ["## Resolution", ""]
    for r in resolution:
        out.append(f"- {md_inline(r)}")
    for e in actions:
        revert = e.data.get("revert")
        tail = f" (revert: `{md_inline(str(revert))}`)" if revert else ""
        ok = "" if e.data.get("ok", True) else " **(failed)**"
        out.append(f"- {_hhmm(e.time)} {md_inline(e.actor)}: {md_inline(e.text)}{ok}{tail}")
    resolved_ev = next((e for e in reversed(events) if e.kind == Kind.RESOLVED), None)
    if resolved_ev and resolved_ev.data.get("summary"):
        out.append(f"- Resolved: {md_inline(str(resolved_ev.data['summary']))}")
    if not (resolution or actions or (resolved_ev and resolved_ev.data.get("summary"))):
        out.append("_Not recorded. Add notes starting with 'Resolution:'._")
    out.append("")
    section("Prevention Measures", "prevention", "Not recorded. Add notes 'Prevention:'.")
    section("Lessons Learned", "lesson", "Not recorded. Add notes starting with 'Lesson:'.")

    evidence = [e for e in events if e.kind == Kind.EVIDENCE]
    if evidence:
        out += ["## Evidence", ""]
        out.append("| Time (UTC) | Who | Bundle | sha256 |")
        out.append("|---|---|---|---|")
        for e in evidence:
            bundle = md_inline(str(e.data.get("bundle", "")))
            out.append(
                f"| {_hhmm(e.time)} | {md_inline(e.actor)} | {bundle} | "
                f"`{md_inline(str(e.data.get('sha256', '')))}` |"
            )
        out.append("")

    out += ["## Action Items", ""]
    todos = state.sections.get("action_item", [])
    out.extend(f"- [ ] {md_inline(t)}" for t in todos)
    open_items = [i for i in state.checklist.values() if not i.done]
    if open_items:
        out.append("")
        out.append("Checklist items still open at export:")
        out.append("")
        out.extend(f"- [ ] {md_inline(i.text)} ({i.phase_title})" for i in open_items)
    if not todos and not open_items:
        out.append("_None recorded. Notes starting with 'TODO:' become action items._")
    out.append("")
    last = events[-1] if events else None
    if last:
        out.append(
            f"_Timeline: {len(events)} events, hash chain head `{last.hash[:16]}`. "
            f"Verify with `warroom verify {state.incident_id}`._"
        )
    return "\n".join(out) + "\n"


def to_json(events: list[Event], now: datetime | None = None) -> str:
    state = project(events)
    m = metrics(state, now)

    def td(v: timedelta | None) -> float | None:
        return v.total_seconds() if v is not None else None

    def ts(v: datetime | None) -> str | None:
        return format_ts(v) if v else None

    doc: dict[str, Any] = {
        "format": "warroom.incident/v1",
        "incident": {
            "id": state.incident_id,
            "title": state.title,
            "category": state.category,
            "drill": state.drill,
            "scenario": state.scenario,
            "severity": state.severity.value,
            "status": state.status.value,
            "declared_at": ts(state.declared_at),
            "declared_by": state.declared_by,
            "roles": {r.value: n for r, n in state.roles.items()},
            "checklist": [
                {
                    "id": i.id,
                    "phase": i.phase,
                    "text": i.text,
                    "done": i.done,
                    "by": i.by,
                    "at": ts(i.at),
                    "due_at": ts(i.due_at),
                }
                for i in state.checklist.values()
            ],
            "sections": state.sections,
            "pinned": sorted(state.pinned),
        },
        "metrics": {
            "started_at": ts(m.started_at),
            "detected_at": ts(m.detected_at),
            "acknowledged_at": ts(m.acked_at),
            "resolved_at": ts(m.resolved_at),
            "mttd_s": td(m.mttd),
            "mtta_s": td(m.mtta),
            "mttr_s": td(m.mttr),
            "duration_s": td(m.duration),
            "time_in_severity_s": {s.value: td(v) for s, v in m.time_in_severity.items()},
        },
        "events": [e.to_dict() for e in events],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render(events: list[Event], fmt: str = "md", now: datetime | None = None) -> str:
    """The post-mortem as `fmt` ("md" or "json")."""
    return to_markdown(events, now) if fmt == "md" else to_json(events, now)


def export_path(data_dir: Path, incident_id: str, fmt: str = "md") -> Path:
    """Where the console writes an incident's post-mortem: <data dir>/exports/<id>.<fmt>."""
    return data_dir / "exports" / f"{incident_id}.{fmt}"


def write_export(
    events: list[Event], path: Path, fmt: str = "md", now: datetime | None = None
) -> Path:
    """Write the post-mortem to `path` (its folder created), replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(render(events, fmt, now), encoding="utf-8")
    tmp.replace(path)
    return path
