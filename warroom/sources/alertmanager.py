"""Firing alerts from Alertmanager's API v2, with httpx.AsyncClient.

Async rather than a sync client in a thread: a few small requests per poll, so it runs as an
ordinary async worker on the app's loop (cancellable on exit, no thread held), as DESIGN
section 5 asks for outbound HTTP. Poll it like Prometheus: await `fetch()`, then re-arm.

Besides the alerts, each poll asks Alertmanager when it started (/api/v2/status: a restart
forgets every alert until Prometheus sends them again) and, when a Prometheus is configured,
which alerts Prometheus itself fires (/api/v1/alerts): the alert tracker uses both to tell a
resolved alert from one Alertmanager lost.

httpx is imported on first fetch: with rich installed, `import httpx` also imports its CLI and
with it rich (~0.1 s), which the headless core must not pull in at import time.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

from warroom.alerts import ACTIVE_STATES, AlertSnapshot, parse_alert
from warroom.model import parse_ts, utcnow
from warroom.sources.http_errors import transport_error

if TYPE_CHECKING:
    import httpx


class AlertmanagerSource:
    def __init__(
        self,
        url: str,
        timeout: float = 5.0,
        bearer_token: str | None = None,
        *,
        prometheus_url: str | None = None,
        prometheus_auth: dict[str, Any] | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._headers = {"Authorization": f"Bearer {bearer_token}"} if bearer_token else {}
        self.prometheus_url = prometheus_url.rstrip("/") if prometheus_url else None
        self._prom_auth = prometheus_auth or {}  # httpx kwargs: headers, auth, verify
        self._client: httpx.AsyncClient | None = None
        self._prom: httpx.AsyncClient | None = None
        self._last_ok_at: datetime | None = None

    async def aclose(self) -> None:
        for client in (self._client, self._prom):
            if client is not None:
                await client.aclose()
        self._client = self._prom = None

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
            # All states in one request, so a silenced alert is not mistaken for resolved.
            alerts_resp, status_resp, firing = await asyncio.gather(
                self._client.get(f"{self.url}/api/v2/alerts"),
                self._client.get(f"{self.url}/api/v2/status"),
                self._prometheus_firing(),
            )
            if alerts_resp.status_code != 200:
                return self._failed(at, f"HTTP {alerts_resp.status_code} from {self.url}")
            body = alerts_resp.json()
        except httpx.HTTPError as e:
            return self._failed(at, transport_error(e, self.url, self.timeout))
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
            started_at=_started_at(status_resp),
            prometheus_firing=firing,
        )

    async def _prometheus_firing(self) -> tuple[frozenset[tuple[str, str]], ...] | None:
        """Label sets Prometheus fires now; None when not configured or not answering (then
        Prometheus simply is not asked: its own pane shows its outage)."""
        if self.prometheus_url is None:
            return None
        import httpx

        if self._prom is None:
            self._prom = httpx.AsyncClient(timeout=self.timeout, **self._prom_auth)
        try:
            resp = await self._prom.get(f"{self.prometheus_url}/api/v1/alerts")
            rows = resp.json()["data"]["alerts"] if resp.status_code == 200 else None
        except (httpx.HTTPError, ValueError, KeyError, TypeError):
            return None
        if not isinstance(rows, list):
            return None
        return tuple(
            frozenset((str(k), str(v)) for k, v in (r.get("labels") or {}).items())
            for r in rows
            if isinstance(r, dict) and r.get("state") == "firing"
        )

    def _failed(self, at: datetime, error: str) -> AlertSnapshot:
        return AlertSnapshot(ok=False, fetched_at=at, error=error, last_ok_at=self._last_ok_at)


def _started_at(resp: Any) -> datetime | None:
    try:
        return parse_ts(str(resp.json()["uptime"])) if resp.status_code == 200 else None
    except (ValueError, KeyError, TypeError):
        return None
