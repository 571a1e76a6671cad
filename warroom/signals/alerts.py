"""Alert transitions from successive Alertmanager snapshots: fired, resolved, suppressed.

Pure. A failed snapshot is ignored (an outage is not a resolution).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from warroom.alerts import Alert, AlertSnapshot

TransitionKind = Literal["fired", "resolved", "suppressed"]


@dataclass(frozen=True, slots=True)
class AlertTransition:
    kind: TransitionKind
    alert: Alert
    at: datetime
    initial: bool = False  # already firing when we first looked

    @property
    def text(self) -> str:
        """Plain text for the timeline (raw alert strings: the UI sanitises)."""
        sev = f" [{self.alert.severity}]" if self.alert.severity else ""
        summary = f": {self.alert.summary}" if self.alert.summary else ""
        return f"alert {self.alert.name}{sev} {self.kind}{summary}"


class AlertTracker:
    """Diffs successive snapshots by fingerprint. Failed snapshots are ignored (an outage is
    not a resolution). The first good snapshot reports what is already firing, initial=True."""

    def __init__(self) -> None:
        self._active: dict[str, Alert] | None = None

    @property
    def active(self) -> list[Alert]:
        return list((self._active or {}).values())

    def update(self, snapshot: AlertSnapshot) -> list[AlertTransition]:
        if not snapshot.ok:
            return []
        at = snapshot.fetched_at
        first = self._active is None
        before = self._active or {}
        now = {a.fingerprint: a for a in snapshot.alerts}
        suppressed = {a.fingerprint for a in snapshot.suppressed}
        out = [AlertTransition("fired", a, at, first) for fp, a in now.items() if fp not in before]
        out += _gone(before, now, suppressed, at)
        self._active = now
        return out


def _gone(
    before: dict[str, Alert], now: dict[str, Alert], suppressed: Iterable[str], at: datetime
) -> list[AlertTransition]:
    muted = set(suppressed)
    return [
        AlertTransition("suppressed" if fp in muted else "resolved", a, at)
        for fp, a in before.items()
        if fp not in now
    ]
