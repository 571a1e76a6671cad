"""AlertmanagerSource + AlertTracker against real Prometheus -> real Alertmanager."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.fixtures.prometheus_servers import (
    ALERT_NAME,
    AlertmanagerServer,
    Exporter,
    PrometheusServer,
    free_port,
)
from warroom.signals.alerts import AlertTracker, AlertTransition
from warroom.sources.alertmanager import AlertmanagerSource

pytestmark = pytest.mark.integration


async def until(
    src: AlertmanagerSource, tracker: AlertTracker, kind: str, timeout: float = 30.0
) -> AlertTransition:
    """Poll like the app does until the tracker reports `kind` for the test alert (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        snap = await src.fetch()
        assert snap.ok, snap.error
        for t in tracker.update(snap):
            if t.alert.name == ALERT_NAME and t.kind == kind:
                return t
        await asyncio.sleep(0.3)
    raise TimeoutError(f"no {kind} transition for {ALERT_NAME} within {timeout}s")


async def test_alert_fires_then_resolves(
    prom_exporter: Exporter,
    prometheus_server: PrometheusServer,
    alertmanager_server: AlertmanagerServer,
) -> None:
    prom_exporter.set("alert", 0)
    async with AlertmanagerSource(alertmanager_server.url, timeout=5) as src:
        tracker = AlertTracker()
        first = await src.fetch()
        assert first.ok and first.error is None
        tracker.update(first)

        prom_exporter.set("alert", 150)
        fired = await until(src, tracker, "fired")
        a = fired.alert
        assert (a.severity, a.state, a.summary) == ("critical", "active", "test gauge is 150")
        assert a.labels["case"] == "alert" and a.starts_at is not None and a.fingerprint
        assert not fired.initial
        assert ALERT_NAME in [x.name for x in tracker.active]

        prom_exporter.set("alert", 0)
        resolved = await until(src, tracker, "resolved")
        assert resolved.alert.fingerprint == a.fingerprint
        assert resolved.text.startswith(f"alert {ALERT_NAME} [critical] resolved")


async def test_unreachable_alertmanager_is_a_failed_snapshot() -> None:
    async with AlertmanagerSource(f"http://127.0.0.1:{free_port()}", timeout=2) as src:
        snap = await src.fetch()
    assert not snap.ok and snap.alerts == [] and snap.last_ok_at is None
    assert snap.error is not None and snap.error.startswith("Connection refused (http://127.0.0.1:")


async def test_not_alertmanager_is_a_failed_snapshot(prometheus_server: PrometheusServer) -> None:
    # Prometheus answers /api/v2/alerts with 404: wrong URL configured
    async with AlertmanagerSource(prometheus_server.url, bearer_token="t") as src:
        snap = await src.fetch()
    assert not snap.ok and snap.error == f"HTTP 404 from {prometheus_server.url}"
