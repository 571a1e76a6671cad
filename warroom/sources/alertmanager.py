"""Firing alerts from Alertmanager's API v2, with httpx.AsyncClient.

Async rather than a sync client in a thread: it is one small request per poll, so it can run
as an ordinary async worker on the app's loop (cancellable on exit, no thread held), as
DESIGN section 5 asks for outbound HTTP. Poll it the same way as Prometheus: await `fetch()`,
then re-arm the timer.

httpx is imported on first fetch: with rich installed, `import httpx` also imports its CLI and
with it rich (~0.1 s), which the headless core must not pull in at import time.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from warroom.alerts import ACTIVE_STATES, Alert, AlertSnapshot, parse_alert
from warroom.model import utcnow

if TYPE_CHECKING:
    import httpx


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


__all__ = ["Alert", "AlertSnapshot", "AlertmanagerSource"]
