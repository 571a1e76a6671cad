"""Post-mortem export: Markdown for people, JSON for tools; and the trends across incidents.

`postmortem.py` assembles the template's sections from the timeline (`facts.py`) and from what
people wrote; `markdown.py` renders them; `metrics.py` defines MTTD, MTTA, MTTR and the other
times. Across incidents: `summaries.py` (read the kept summaries), `stats.py` (aggregate),
`stats_out.py` (table, Markdown, JSON, CSV) and `charts.py` (SVG).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from warroom.model import Event, format_ts
from warroom.report.markdown import md_inline
from warroom.report.markdown import render as _markdown
from warroom.report.metrics import Metrics, metrics
from warroom.report.postmortem import PostMortem, build
from warroom.sanitize import json_safe
from warroom.store.private import write_private

__all__ = [
    "Metrics",
    "PostMortem",
    "build",
    "export_path",
    "md_inline",
    "metrics",
    "render",
    "to_json",
    "to_markdown",
    "write_export",
]


def to_markdown(events: list[Event], now: datetime | None = None, **context: Any) -> str:
    return _markdown(build(events, now=now, **context))


def to_json(events: list[Event], now: datetime | None = None, **context: Any) -> str:
    pm = build(events, now=now, **context)
    state, m = pm.state, pm.metrics

    def td(v: timedelta | None) -> float | None:
        return v.total_seconds() if v is not None else None

    def ts(v: datetime | None) -> str | None:
        return format_ts(v) if v else None

    doc: dict[str, Any] = {
        "format": "warroom.incident/v2",
        "incident": {
            "id": state.incident_id,
            "title": state.title,
            "category": state.category,
            "drill": state.drill,
            "scenario": state.scenario,
            "severity": state.severity.value,
            "status": state.status.value,
            "false_positive": state.false_positive,
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
            "action_items": [i.to_dict() for i in state.action_items.values()],
            "sections": state.sections,
            "pinned": sorted(state.pinned),
        },
        "metrics": {
            "started_at": ts(m.started_at),
            "detected_at": ts(m.detected_at),
            "acknowledged_at": ts(m.acked_at),
            "mitigated_at": ts(m.mitigated_at),
            "resolved_at": ts(m.resolved_at),
            "mttd_s": td(m.mttd),
            "mtta_s": td(m.mtta),
            "contain_s": td(m.contain),
            "mttr_s": td(m.mttr),
            "recover_s": td(m.recover),
            "duration_s": td(m.duration),
            "time_in_severity_s": {s.value: td(v) for s, v in m.time_in_severity.items()},
        },
        # The template's sections in order; a part with no items was not recorded.
        "postmortem": [
            {
                "key": s.key,
                "title": s.title,
                "parts": [
                    {
                        "key": p.key,
                        "title": p.title,
                        "source": "notes" if p.prefix else "timeline",
                        "prefix": p.prefix,
                        "recorded": p.recorded,
                        "items": p.items,
                    }
                    for p in s.parts
                ],
            }
            for s in pm.sections
        ],
        "events": [e.to_dict() for e in events],
    }
    return json_safe(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"


def render(
    events: list[Event], fmt: str = "md", now: datetime | None = None, **context: Any
) -> str:
    """The post-mortem as `fmt` ("md" or "json"). `context`: deliveries (the outbox documents)
    and review_within (the severity's review window), when the caller has them; `scrub`, the
    redactor, over the events before rendering and over the text after."""
    scrub = context.pop("scrub", None)
    if scrub:  # before rendering too: Markdown's escapes (aws\_secret) would hide a key's name
        events, context = _scrubbed(events, context, scrub)
    text = (to_markdown if fmt == "md" else to_json)(events, now, **context)
    return scrub(text) if scrub else text


def scrub_leaves(obj: Any, scrub: Callable[[str], str]) -> Any:
    """`obj` (dicts, lists, strings) with `scrub` applied to every string in it."""
    if isinstance(obj, str):
        return scrub(obj)
    if isinstance(obj, dict):
        return {k: scrub_leaves(v, scrub) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [scrub_leaves(v, scrub) for v in obj]
    return obj


def _scrubbed(
    events: list[Event], context: dict[str, Any], scrub: Callable[[str], str]
) -> tuple[list[Event], dict[str, Any]]:
    """Events (text and every string in data) and deliveries with `scrub` applied."""
    out = [
        dataclasses.replace(e, text=scrub(e.text), data=scrub_leaves(e.data, scrub)) for e in events
    ]
    if context.get("deliveries"):
        context = {**context, "deliveries": scrub_leaves(context["deliveries"], scrub)}
    return out, context


def export_path(data_dir: Path, incident_id: str, fmt: str = "md") -> Path:
    """Where the console writes an incident's post-mortem: <data dir>/exports/<id>.<fmt>."""
    return data_dir / "exports" / f"{incident_id}.{fmt}"


def write_export(
    events: list[Event],
    path: Path,
    fmt: str = "md",
    now: datetime | None = None,
    **context: Any,
) -> Path:
    """Write the post-mortem to `path` (missing folders 0700), replacing it atomically, 0600."""
    return write_private(path, render(events, fmt, now, **context))
