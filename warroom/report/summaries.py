"""Every incident's summary, the cheap way: the one the room keeps beside the incident when it
is still fresh, else rebuilt from the events (and kept for next time). An incident whose files
cannot be read is skipped and named, never a crash."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from warroom.sanitize import one_line
from warroom.store import IncidentRepository
from warroom.summary import VERSION, summarize_events


@dataclass
class Collected:
    summaries: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (incident id, why)
    rebuilt: int = 0  # summaries that had to be read from the events


def collect(repo: IncidentRepository) -> Collected:
    out = Collected()
    for incident_id in repo.ids():
        try:
            doc = repo.summary(incident_id)
            if doc is None or doc.get("v") != VERSION:
                doc = repo.rebuild_summary(incident_id, summarize_events)
                out.rebuilt += 1
        except Exception as exc:  # damaged, unreadable, or events the projection refuses
            out.skipped.append((incident_id, one_line(str(exc) or type(exc).__name__)[:200]))
            continue
        if not doc.get("declared_at"):
            out.skipped.append((incident_id, "no declaration event"))
            continue
        out.summaries.append(doc)
    return out
