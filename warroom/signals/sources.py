"""Whether each source can be seen: the timeline says once when one is lost and once when it
is back, so the post-mortem shows every blind spell.

A single failed poll is a blip, not an outage: a source counts as lost once it has failed for
`after` (and at least two polls), and then its recovery is told too. Pure: times come in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.model import format_duration

LOST_AFTER = timedelta(seconds=10)


@dataclass(frozen=True)
class SourceChange:
    source: str  # "prometheus", "alertmanager", "kubernetes"
    lost: bool  # True: lost; False: back
    text: str
    since: datetime  # when it stopped answering
    at: datetime


class SourceWatch:
    def __init__(self, source: str, label: str, after: timedelta = LOST_AFTER) -> None:
        self.source, self.label, self.after = source, label, after
        self.failing_since: datetime | None = None
        self._failures = 0
        self._told_lost = False
        self._ever_ok = False

    def feed(self, ok: bool, at: datetime, error: str | None = None) -> SourceChange | None:
        if ok:
            change = None
            if self._told_lost and self.failing_since is not None:
                blind = format_duration(at - self.failing_since)
                since = self.failing_since.strftime("%H:%M:%S")
                text = f"{self.label} back after {blind} (no data from it since {since} UTC)"
                change = SourceChange(self.source, False, text, self.failing_since, at)
            self.failing_since, self._failures, self._told_lost = None, 0, False
            self._ever_ok = True
            return change
        if self.failing_since is None:
            self.failing_since = at
        self._failures += 1
        if self._told_lost or self._failures < 2 or at - self.failing_since < self.after:
            return None
        self._told_lost = True
        what = "lost" if self._ever_ok else "unreachable"
        since = self.failing_since.strftime("%H:%M:%S")
        reason = f": {error}" if error else ""
        text = f"{self.label} {what} since {since} UTC{reason}"
        return SourceChange(self.source, True, text, self.failing_since, at)
