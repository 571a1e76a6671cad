"""The incident's times, from the timeline. Definitions (stated in the report so nobody argues
about them in the review):

- MTTD, time to detect: impact start -> detection (first alert, rule or declaration).
- MTTA, time to acknowledge: detection -> first acknowledgement by a responder.
- Time to contain: detection -> mitigated (an action seen to take effect, or "monitoring").
- MTTR, time to resolve: detection -> resolved.
- Time to recover: mitigated -> resolved (service restored after containment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.model import Severity, utcnow
from warroom.projection import IncidentState


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
    mitigated_at: datetime | None = None
    contain: timedelta | None = None
    recover: timedelta | None = None


def span(a: datetime | None, b: datetime | None) -> timedelta | None:
    return max(b - a, timedelta()) if a and b else None


def metrics(state: IncidentState, now: datetime | None = None) -> Metrics:
    now = now or utcnow()
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
        mitigated_at=state.mitigated_at,
        contain=span(state.detected_at, state.mitigated_at),
        recover=span(state.mitigated_at, state.resolved_at),
    )
