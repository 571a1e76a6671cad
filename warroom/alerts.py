"""Alerts as Alertmanager's API v2 reports them: plain data, parsed from the JSON. Pure.

Alert text (labels, annotations) is untrusted: it is kept raw here and nothing interprets it;
whatever shows it makes it inert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warroom.model import parse_ts

ACTIVE_STATES = {"active", "unprocessed"}  # unprocessed: just received, not yet routed


@dataclass(frozen=True, slots=True)
class Alert:
    fingerprint: str
    name: str
    severity: str
    state: str  # active | unprocessed | suppressed
    starts_at: datetime | None
    summary: str
    labels: dict[str, str]
    annotations: dict[str, str]
    silenced_by: tuple[str, ...] = ()  # ids of the silences that suppress it


@dataclass(frozen=True, slots=True)
class AlertSnapshot:
    ok: bool
    fetched_at: datetime
    alerts: list[Alert] = field(default_factory=list)  # active: not silenced nor inhibited
    error: str | None = None
    suppressed: list[Alert] = field(default_factory=list)  # silenced or inhibited
    last_ok_at: datetime | None = None
    # When this Alertmanager process started (its /api/v2/status uptime): a later start means
    # it restarted and forgot every alert until Prometheus sends them again.
    started_at: datetime | None = None
    # Label sets of the alerts Prometheus itself has firing (/api/v1/alerts), when a Prometheus
    # is configured: an alert gone from Alertmanager but firing there has not resolved.
    prometheus_firing: tuple[frozenset[tuple[str, str]], ...] | None = None

    def firing_in_prometheus(self, alert: Alert) -> bool | None:
        """Whether Prometheus still fires this alert; None when it was not asked."""
        if self.prometheus_firing is None:
            return None
        labels = set(alert.labels.items())
        return any(fired <= labels for fired in self.prometheus_firing)


def _str_dict(v: Any) -> dict[str, str]:
    return {str(k): str(x) for k, x in v.items()} if isinstance(v, dict) else {}


def parse_alert(raw: Any) -> Alert | None:
    """One gettableAlert of API v2; None when it lacks a fingerprint (malformed)."""
    if not isinstance(raw, dict) or not raw.get("fingerprint"):
        return None
    labels = _str_dict(raw.get("labels"))
    annotations = _str_dict(raw.get("annotations"))
    status = raw.get("status") if isinstance(raw.get("status"), dict) else {}
    try:
        starts_at = parse_ts(str(raw["startsAt"])) if raw.get("startsAt") else None
    except ValueError:
        starts_at = None
    return Alert(
        fingerprint=str(raw["fingerprint"]),
        name=labels.get("alertname", ""),
        severity=labels.get("severity", ""),
        state=str(status.get("state", "active")),
        starts_at=starts_at,
        summary=annotations.get("summary") or annotations.get("description") or "",
        labels=labels,
        annotations=annotations,
        silenced_by=tuple(str(x) for x in status.get("silencedBy") or ()),
    )
