"""Firing alerts from Alertmanager's API v2, with httpx.AsyncClient.

Async rather than a sync client in a thread: it is one small request per poll, so it can run
as an ordinary async worker on the app's loop (cancellable on exit, no thread held), as
DESIGN section 5 asks for outbound HTTP. Poll it the same way as Prometheus: await `fetch()`,
then re-arm the timer.

Alert text (labels, annotations) is untrusted: it is kept raw here and nothing interprets it;
the UI sanitises when it renders.

httpx is imported on first fetch: with rich installed, `import httpx` also imports its CLI and
with it rich (~0.1 s), which the headless core must not pull in at import time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from warroom.model import parse_ts, utcnow

if TYPE_CHECKING:
    import httpx

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


@dataclass(frozen=True, slots=True)
class AlertSnapshot:
    ok: bool
    fetched_at: datetime
    alerts: list[Alert] = field(default_factory=list)  # active: not silenced nor inhibited
    error: str | None = None
    suppressed: list[Alert] = field(default_factory=list)  # silenced or inhibited
    last_ok_at: datetime | None = None


class AlertmanagerSource:
    def __init__(self, url: str, timeout: float = 5.0, bearer_token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {bearer_token}"} if bearer_token else {}
        self._client: httpx.AsyncClient | None = None
        self._last_ok_at: datetime | None = None

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def __aenter__(self) -> AlertmanagerSource:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def fetch(self) -> AlertSnapshot:
        """Never raises for source trouble: ok=False with the reason instead."""
        import httpx

        if self._client is None:  # created on first use so it binds to the running loop
            self._client = httpx.AsyncClient(headers=self._headers, timeout=self.timeout)
        at = utcnow()
        try:
            # all states in one request, so a silenced alert is not mistaken for resolved
            resp = await self._client.get(f"{self.url}/api/v2/alerts")
            if resp.status_code != 200:
                return self._failed(at, f"HTTP {resp.status_code} from {self.url}")
            body = resp.json()
        except httpx.TimeoutException:
            return self._failed(at, f"timeout after {self.timeout:g}s")
        except httpx.HTTPError as e:
            return self._failed(at, f"cannot reach {self.url}: {type(e).__name__}: {e}"[:300])
        except ValueError:
            return self._failed(at, f"{self.url} did not answer like Alertmanager")
        if not isinstance(body, list):
            return self._failed(at, f"{self.url} did not answer like Alertmanager")
        alerts = [a for a in (parse_alert(raw) for raw in body) if a is not None]
        self._last_ok_at = at
        return AlertSnapshot(
            ok=True,
            fetched_at=at,
            alerts=[a for a in alerts if a.state in ACTIVE_STATES],
            suppressed=[a for a in alerts if a.state == "suppressed"],
            last_ok_at=at,
        )

    def _failed(self, at: datetime, error: str) -> AlertSnapshot:
        return AlertSnapshot(ok=False, fetched_at=at, error=error, last_ok_at=self._last_ok_at)


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
    )


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
