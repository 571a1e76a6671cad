"""An incident in a few hundred bytes: what `warroom stats` and `warroom action list
--all-incidents` read instead of replaying every timeline.

The room writes it beside the incident after every event (store.put_summary); the store stamps
it with the size and mtime of the incident's files, and a summary whose stamp no longer matches
(another writer, an older warroom, a crash between the two writes) is rebuilt from the events.
So it is a cache of the timeline, never a second truth.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warroom.model import Event, format_ts
from warroom.projection import IncidentState, project

VERSION = 1


def _ts(value: datetime | None) -> str | None:
    return format_ts(value) if value else None


def summarize(state: IncidentState) -> dict[str, Any]:
    peak = min((s for s, _ in state.severity_history), key=lambda s: s.rank, default=None)
    return {
        "v": VERSION,
        "id": state.incident_id,
        "title": state.title,
        "category": state.category,
        "drill": state.drill,
        "severity": state.severity.value,
        "peak": (peak or state.severity).value,
        "status": state.status.value,
        "declared_at": _ts(state.declared_at),
        "started_at": _ts(state.started_at),
        "detected_at": _ts(state.detected_at),
        "acked_at": _ts(state.acked_at),
        "mitigated_at": _ts(state.mitigated_at),
        "resolved_at": _ts(state.resolved_at),
        "escalated": state.escalated_at is not None,
        "reopened": state.reopened,
        "false_positive": state.false_positive,
        "services": list(state.services),
        "sla": {k: v.total_seconds() for k, v in state.sla.items()},
        "updates": [format_ts(t) for t in state.update_times],
        "items": [i.to_dict() for i in state.action_items.values()],
        "events": state.event_count,
        "last_seq": state.last_seq,
    }


def summarize_events(events: list[Event]) -> dict[str, Any]:
    return summarize(project(events))
