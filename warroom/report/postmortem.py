"""The post-mortem as our procedures' template has it: every section, in order, each made of
parts that are either filled from the timeline (`auto`) or from what people wrote (notes with a
prefix, or answers given in `warroom review`). An empty part stays in, marked not recorded,
with the way to fill it. Markdown and JSON are two renderings of this one structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warroom.model import Event, Kind, format_duration, utcnow
from warroom.projection import IncidentState, note_section, project
from warroom.report import facts
from warroom.report.metrics import Metrics, metrics


@dataclass
class Part:
    key: str
    title: str
    items: list[dict[str, Any]] = field(default_factory=list)
    prefix: str | None = None  # the note prefix that fills it; None: filled by warroom
    hint: str = ""  # how to fill it when empty

    @property
    def recorded(self) -> bool:
        return bool(self.items)


@dataclass
class Section:
    key: str
    title: str
    parts: list[Part]


@dataclass
class PostMortem:
    state: IncidentState
    metrics: Metrics
    sections: list[Section]
    events: list[Event]

    def parts(self) -> list[Part]:
        return [p for s in self.sections for p in s.parts]

    def unfilled(self) -> list[tuple[Section, Part]]:
        """Parts only people can fill that nobody has yet: what `warroom review` asks."""
        return [(s, p) for s in self.sections for p in s.parts if p.prefix and not p.recorded]


# (section key, title, [(part key, part title, note prefix or None)]), in the template's order.
# Parts with a prefix come from notes; the others are built by `_auto`.
TEMPLATE: list[tuple[str, str, list[tuple[str, str, str | None]]]] = [
    ("overview", "Overview", [("overview", "Overview", None)]),
    ("summary", "Executive Summary", [("summary", "Summary", "Summary:")]),
    ("timeline", "Timeline", [("milestones", "Milestones", None)]),
    ("metrics", "Metrics", [("metrics", "Metrics", None)]),
    (
        "impact",
        "Impact",
        [
            ("affected", "Affected systems", None),
            ("impact", "User impact", "Impact:"),
            ("business_impact", "Business impact", "Business impact:"),
            ("data_impact", "Data impact", "Data impact:"),
            ("financial_impact", "Financial impact", "Financial impact:"),
            ("regulatory_impact", "Regulatory impact", "Regulatory impact:"),
            ("reputation_impact", "Reputational impact", "Reputation impact:"),
        ],
    ),
    ("detection", "Detection", [("detection", "How was it detected", None)]),
    (
        "root_cause",
        "Root Cause",
        [
            ("root_cause", "Primary cause", "Root cause:"),
            ("contributing", "Contributing factors", "Contributing:"),
            ("missed_auto", "Missed signals (from the timeline)", None),
            ("missed_signal", "Missed signals (noted)", "Missed signal:"),
        ],
    ),
    (
        "resolution",
        "Resolution",
        [
            ("resolution", "What resolved it", "Resolution:"),
            ("took_effect", "Changes that took effect", None),
            ("tried", "Tried without effect", None),
            ("unverified", "Not verified", None),
        ],
    ),
    ("prevention", "Prevention Measures", [("prevention", "Prevention", "Prevention:")]),
    (
        "communications",
        "Communications",
        [("communications", "Updates sent", None), ("pages", "Pages", None)],
    ),
    ("participants", "Participants", [("participants", "Who took part", None)]),
    (
        "lessons",
        "Lessons Learned",
        [
            ("went_well", "What went well", "Went well:"),
            ("improve", "What could improve", "Improve:"),
            ("lesson", "Lessons", "Lesson:"),
        ],
    ),
    (
        "recommendations",
        "Recommendations",
        [
            ("recommend_now", "Immediate", "Recommend now:"),
            ("recommend_soon", "Short-term", "Recommend soon:"),
            ("recommend_later", "Long-term", "Recommend later:"),
        ],
    ),
    (
        "action_items",
        "Action Items",
        [("items", "Action items", None), ("checklist_open", "Checklist items still open", None)],
    ),
    ("evidence", "Evidence", [("evidence", "Evidence bundles", None)]),
    ("review", "Post-incident Review", [("meeting", "Review meeting", None)]),
]

_AUTO_HINTS = {
    "milestones": "",
    "affected": "No workload, check or alert named a system.",
    "detection": "",
    "missed_auto": "No signal came before the declaration.",
    "took_effect": "No change was seen to take effect.",
    "tried": "Nothing was tried without effect.",
    "unverified": "Every action's outcome was verified.",
    "communications": "No status update was sent (`u` in the console, `warroom update`).",
    "pages": "Nobody was paged (`E` in the console escalates and pages a level).",
    "participants": "",
    "items": "None. Add with `A` in the console, `warroom action add`, or a note "
    "'TODO(@owner, due YYYY-MM-DD): ...'.",
    "checklist_open": "Every checklist item is done.",
    "evidence": "No evidence bundle was collected (`e` in the console).",
    "meeting": "Not scheduled. `warroom review ID` schedules it.",
}


def build(
    events: list[Event],
    *,
    deliveries: list[dict[str, Any]] | None = None,
    review_within: Any = None,
    now: datetime | None = None,
) -> PostMortem:
    """The post-mortem of `events`. `deliveries`: the outbox documents (where each update
    went and whether it arrived); `review_within`: the severity's review window, if known."""
    now = now or utcnow()
    state = project(events)
    m = metrics(state, now)
    notes = _notes(state, events)
    resolved_ev = next((e for e in reversed(events) if e.kind == Kind.RESOLVED), None)
    if resolved_ev is not None and resolved_ev.data.get("summary"):  # the resolver's words
        said = {"seq": resolved_ev.seq, "at": facts.when(resolved_ev.time), "by": resolved_ev.actor}
        notes.setdefault("resolution", []).insert(0, {**said, "text": resolved_ev.data["summary"]})
    auto = _auto(state, m, events, deliveries or [], review_within, now)
    sections = []
    for key, title, spec in TEMPLATE:
        parts = []
        for pkey, ptitle, prefix in spec:
            if prefix:
                hint = f"Add a note starting with '{prefix}', or run `warroom review`."
                parts.append(Part(pkey, ptitle, notes.get(pkey, []), prefix, hint))
            else:
                parts.append(
                    Part(pkey, ptitle, auto.get(pkey, []), None, _AUTO_HINTS.get(pkey, ""))
                )
        sections.append(Section(key, title, parts))
    return PostMortem(state, m, sections, events)


def _notes(state: IncidentState, events: list[Event]) -> dict[str, list[dict[str, Any]]]:
    """Notes filed under a section, as they read now (an edit wins), with who and when."""
    out: dict[str, list[dict[str, Any]]] = {}
    for ev in events:
        section = ev.data.get("section") if ev.kind == Kind.NOTE else None
        if not section:
            continue
        text = note_section(state.text_of(ev))[1]
        item = {"seq": ev.seq, "at": facts.when(ev.time), "by": ev.actor, "text": text}
        out.setdefault(str(section), []).append(item)
    return out


def _auto(
    state: IncidentState,
    m: Metrics,
    events: list[Event],
    deliveries: list[dict[str, Any]],
    review_within: Any,
    now: datetime,
) -> dict[str, list[dict[str, Any]]]:
    acts = facts.actions(state, events)
    return {
        "overview": _overview(state, m),
        "milestones": facts.milestones(state),
        "metrics": _metrics(state, m),
        "affected": facts.affected(state, events),
        "detection": facts.detection(state, events),
        "missed_auto": facts.missed_signals(state, events),
        "took_effect": [a for a in acts if a["outcome"] == "took_effect"],
        "tried": [a for a in acts if a["outcome"] in ("no_effect", "failed")],
        "unverified": [a for a in acts if a["outcome"] in (None, "pending")],
        "communications": facts.communications(events, deliveries),
        "pages": facts.pages(events, deliveries),
        "participants": facts.participants(state, events),
        "items": _items(state, now),
        "checklist_open": [
            {"id": i.id, "phase": i.phase_title, "text": f"{i.text} ({i.phase_title})"}
            for i in state.checklist.values()
            if not i.done
        ],
        "evidence": [
            {
                "seq": e.seq,
                "at": facts.when(e.time),
                "by": e.actor,
                "bundle": str(e.data.get("bundle", "")),
                "sha256": str(e.data.get("sha256", "")),
                "text": f"{facts.hhmm(e.time)} {e.actor}: {e.data.get('bundle', '')}",
            }
            for e in events
            if e.kind == Kind.EVIDENCE
        ],
        "meeting": _meeting(state, review_within),
    }


def _overview(state: IncidentState, m: Metrics) -> list[dict[str, Any]]:
    peak = min((s for s, _ in state.severity_history), key=lambda s: s.rank, default=None)
    sev = state.severity.value + (
        f" (peak {peak.value})" if peak and peak != state.severity else ""
    )
    rows: list[tuple[str, Any]] = [
        ("Incident ID", state.incident_id),
        ("Title", state.title),
        ("Date", f"{state.declared_at:%Y-%m-%d %H:%M:%S} UTC" if state.declared_at else "-"),
        ("Duration", format_duration(m.duration)),
        ("Severity", sev),
        ("Status", state.status.value + (" (not an incident)" if state.false_positive else "")),
        ("Category", state.category or "-"),
    ]
    if state.drill:
        rows.append(("Drill", f"yes (scenario {state.scenario or '-'})"))
    rows += [(role.label.capitalize(), name) for role, name in state.roles.items()]
    return [{"field": k, "value": v, "text": f"{k}: {v}"} for k, v in rows]


def _metrics(state: IncidentState, m: Metrics) -> list[dict[str, Any]]:
    rows = [
        ("mttd", "MTTD (time to detect)", m.mttd, "impact start -> detection"),
        ("mtta", "MTTA (time to acknowledge)", m.mtta, "detection -> acknowledged"),
        ("contain", "Time to contain", m.contain, "detection -> mitigated"),
        ("mttr", "MTTR (time to resolve)", m.mttr, "detection -> resolved"),
        ("recover", "Time to recover", m.recover, "mitigated -> resolved"),
    ]
    return [
        {
            "key": key,
            "label": label,
            "seconds": v.total_seconds() if v is not None else None,
            "span": span,
            "text": f"{label}: {format_duration(v)} ({span})",
        }
        for key, label, v, span in rows
    ]


def _items(state: IncidentState, now: datetime) -> list[dict[str, Any]]:
    out = []
    for it in state.action_items.values():
        tail = [it.state]
        if it.overdue(now):
            tail.append("OVERDUE")
        tail += [f"{tracker}: {url}" for tracker, url in it.tickets.items()]
        d = it.to_dict()
        out.append({**d, "overdue": it.overdue(now), "text": f"{it.line()}: {', '.join(tail)}"})
    return out


def _meeting(state: IncidentState, review_within: Any) -> list[dict[str, Any]]:
    it = state.checklist.get("review-meeting")
    if it is None or it.due_at is None:
        return []
    item: dict[str, Any] = {"at": facts.when(it.due_at), "done": it.done, "text": it.text}
    if review_within is not None and state.resolved_at is not None:
        deadline = state.resolved_at + review_within
        item.update(deadline=facts.when(deadline), on_time=it.due_at <= deadline)
    return [item]
