"""Alert transitions from successive Alertmanager snapshots: fired, resolved, suppressed.

Pure. A failed snapshot is ignored (an outage is not a resolution). An alert that is gone from
Alertmanager's list is not always resolved: Alertmanager forgets every alert when it restarts,
until Prometheus sends them again (up to its resend delay, a minute by default). So a gone
alert is held, not resolved, while
- Alertmanager restarted within `restart_grace` (its start time moved), or
- Prometheus, when it is asked, still fires it;
and it comes back without a word if it is re-sent meanwhile. Every resolve says how it was
decided, and one that could only be inferred says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from warroom.alerts import Alert, AlertSnapshot
from warroom.model import format_duration

TransitionKind = Literal["fired", "resolved", "suppressed"]
RESTART_GRACE = timedelta(minutes=2)  # Prometheus' default resend delay is 1m, plus a margin


@dataclass(frozen=True, slots=True)
class AlertTransition:
    kind: TransitionKind
    alert: Alert
    at: datetime
    initial: bool = False  # already firing when we first looked
    how: str = ""  # how a resolve was decided, in words
    inferred: bool = False  # the resolve could not be confirmed, only inferred

    @property
    def text(self) -> str:
        """Plain text for the timeline (raw alert strings: the UI sanitises)."""
        sev = f" [{self.alert.severity}]" if self.alert.severity else ""
        summary = f": {self.alert.summary}" if self.alert.summary else ""
        how = f" ({self.how})" if self.how else ""
        return f"alert {self.alert.name}{sev} {self.kind}{summary}{how}"


class AlertTracker:
    """Diffs successive snapshots by fingerprint. The first good snapshot reports what is
    already firing, initial=True."""

    def __init__(self, restart_grace: timedelta = RESTART_GRACE) -> None:
        self.restart_grace = restart_grace
        self._active: dict[str, Alert] | None = None
        self._held: dict[str, tuple[Alert, datetime]] = {}  # gone, not yet judged resolved
        self._started: datetime | None = None  # Alertmanager's start time, as last seen
        self._restarted_at: datetime | None = None

    @property
    def active(self) -> list[Alert]:
        return list((self._active or {}).values())

    @property
    def held(self) -> list[Alert]:
        """Alerts gone from Alertmanager but not (yet) judged resolved."""
        return [a for a, _ in self._held.values()]

    def update(self, snapshot: AlertSnapshot) -> list[AlertTransition]:
        if not snapshot.ok:
            return []
        at = snapshot.fetched_at
        self._note_start(snapshot.started_at, at)
        first = self._active is None
        before = self._active or {}
        now = {a.fingerprint: a for a in snapshot.alerts}
        suppressed = {a.fingerprint for a in snapshot.suppressed}
        out: list[AlertTransition] = []
        for fp, a in now.items():
            if self._held.pop(fp, None) is not None:
                continue  # re-sent after a restart: it never stopped firing
            if fp not in before:
                out.append(AlertTransition("fired", a, at, first))
        for fp, a in before.items():
            if fp in now:
                continue
            if fp in suppressed:
                out.append(AlertTransition("suppressed", a, at))
            else:
                self._held[fp] = (a, at)
        out += self._judge_held(snapshot, at)
        self._active = now
        return out

    def _note_start(self, started: datetime | None, at: datetime) -> None:
        if started is None:
            return
        if self._started is not None and started > self._started:
            self._restarted_at = started
        self._started = started

    def _in_restart_grace(self, at: datetime) -> bool:
        return self._restarted_at is not None and at - self._restarted_at < self.restart_grace

    def _judge_held(self, snap: AlertSnapshot, at: datetime) -> list[AlertTransition]:
        out = []
        for fp, (a, gone_at) in list(self._held.items()):
            in_prometheus = snap.firing_in_prometheus(a)
            if in_prometheus or (in_prometheus is None and self._in_restart_grace(at)):
                continue  # still firing, or Alertmanager may still hear of it again
            del self._held[fp]
            if in_prometheus is False:
                how, inferred = "gone from Alertmanager; Prometheus no longer fires it", False
            elif self._restarted_at is not None and gone_at >= self._restarted_at:
                waited = format_duration(self.restart_grace)
                restart = self._restarted_at.strftime("%H:%M:%S")
                how = (
                    f"inferred: gone since Alertmanager restarted at {restart} UTC and not "
                    f"sent again within {waited}"
                )
                inferred = True
            else:
                how, inferred = "gone from Alertmanager", True
            out.append(AlertTransition("resolved", a, at, how=how, inferred=inferred))
        return out
