"""The timeline tells the truth about alerts, against the real Debian Prometheus and
Alertmanager: a restarted Alertmanager forgets every alert until Prometheus sends it again,
and that is not a resolve; an Alertmanager outage is visible and told once each way."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fixtures.prometheus_servers import (
    ALERT_NAME,
    AlertmanagerServer,
    Exporter,
    PrometheusServer,
    _require,
)
from tests.support import UI_SIZE, pilot_until
from warroom.alerts import AlertSnapshot
from warroom.model import Kind
from warroom.report import to_markdown
from warroom.room import WarRoom
from warroom.settings import KubeSettings, Settings, load_settings
from warroom.signals import Signals, record
from warroom.sources.alertmanager import AlertmanagerSource
from warroom.store import open_repository

pytestmark = pytest.mark.integration
RESEND = "2s"  # Prometheus resends firing alerts this often (1m by default)


class FastResendPrometheus(PrometheusServer):
    def args(self) -> list[str]:
        return [*super().args(), f"--rules.alert.resend-delay={RESEND}"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = load_settings(env={"USER": "ann"}, data_dir=tmp_path / "data")
    return dataclasses.replace(s, kube=KubeSettings(enabled=False))


@pytest.fixture
def repo(settings: Settings):
    return open_repository(settings.data_dir)


@pytest.fixture
def declare(repo, settings):
    return lambda **kw: WarRoom.declare(repo, settings, **kw)


@pytest.fixture
def servers(tmp_path: Path, prom_exporter: Exporter):
    am = AlertmanagerServer(
        _require("prometheus-alertmanager", "WARROOM_ALERTMANAGER_BIN"), tmp_path / "am"
    )
    am.start()
    prom = FastResendPrometheus(
        _require("prometheus", "WARROOM_PROMETHEUS_BIN"),
        tmp_path / "prom",
        [f"127.0.0.1:{prom_exporter.port}"],
        am.port,
    )
    prom.start()
    yield prom, am
    prom.stop()
    am.stop()


async def poll_until(src: AlertmanagerSource, pred, seconds: float) -> list[AlertSnapshot]:
    """Poll like the console (every 0.3 s); every snapshot, until pred(snapshot) or the end."""
    snaps: list[AlertSnapshot] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while loop.time() < end:
        snaps.append(await src.fetch())
        if pred(snaps[-1]):
            break
        await asyncio.sleep(0.3)
    return snaps


def firing(snap: AlertSnapshot) -> bool:
    return snap.ok and any(a.name == ALERT_NAME for a in snap.alerts)


@pytest.mark.parametrize("ask_prometheus", [False, True])
async def test_alertmanager_restart_writes_no_false_resolve(
    servers, prom_exporter: Exporter, declare, ask_prometheus: bool
) -> None:
    prom, am = servers
    room: WarRoom = declare(title="Checkout errors", severity="P1")
    signals = Signals(alert_restart_grace=timedelta(seconds=30))
    prom_exporter.set("alert", 150)
    url = prom.url if ask_prometheus else None
    async with AlertmanagerSource(am.url, timeout=2, prometheus_url=url) as src:

        def observe(snaps: list[AlertSnapshot]) -> None:
            for s in snaps:
                record(room, signals.alert_facts(s))

        observe(await poll_until(src, firing, 60))
        assert signals.alerts.active, "the alert never fired"
        am.proc.kill()  # kill -9: Alertmanager keeps alerts in memory only
        am.proc.wait(5)
        am.start()
        gone = await poll_until(src, lambda s: s.ok and not s.alerts, 10)
        observe(gone)
        assert gone[-1].ok and not gone[-1].alerts, "Alertmanager remembered the alert"
        observe(await poll_until(src, firing, 30))  # Prometheus sends it again
        observe(await poll_until(src, lambda s: False, 3))
    alerts = [e for e in room.events if e.kind == Kind.ALERT]
    assert [e.data["transition"] for e in alerts] == ["fired"], [e.text for e in alerts]
    exported = [line for line in to_markdown(room.events).splitlines() if ALERT_NAME in line]
    assert exported and not [line for line in exported if "resolved" in line], exported


async def test_resolve_while_alertmanager_was_down_is_told_as_inferred(
    servers, prom_exporter: Exporter, declare
) -> None:
    prom, am = servers
    room: WarRoom = declare(title="Checkout errors", severity="P1")
    signals = Signals(alert_restart_grace=timedelta(seconds=4))
    prom_exporter.set("alert", 150)
    async with AlertmanagerSource(am.url, timeout=2) as src:
        for s in await poll_until(src, firing, 60):
            record(room, signals.alert_facts(s))
        am.stop()
        prom_exporter.set("alert", 0)  # it recovers while nobody listens
        prom.wait_for('warroom_test_gauge{case="alert"}', lambda v: v == 0)
        am.start()
        for s in await poll_until(src, lambda s: bool(signals.alerts.held) is False and s.ok, 20):
            record(room, signals.alert_facts(s))
        for s in await poll_until(src, lambda s: False, 6):
            record(room, signals.alert_facts(s))
    resolved = [e for e in room.events if e.data.get("transition") == "resolved"]
    assert len(resolved) == 1
    assert resolved[0].data["inferred"] is True
    assert "inferred: gone since Alertmanager restarted at" in resolved[0].text


async def test_alertmanager_outage_is_visible_and_told_once_each_way(
    servers, repo, settings
) -> None:
    from warroom.console.app import WarRoomApp

    _, am = servers
    s = dataclasses.replace(
        settings,
        alertmanager=dataclasses.replace(
            settings.alertmanager, url=am.url, refresh=timedelta(seconds=0.3), timeout=1.0
        ),
        lost_after=timedelta(seconds=1),
    )
    room = WarRoom.declare(repo, s, title="Outage", severity="P2")
    app = WarRoomApp(s, repo=repo, room=room, follow=False)
    async with app.run_test(size=UI_SIZE) as pilot:
        status = app.main.alerts_status
        await pilot_until(pilot, lambda: status.state.kind == "ok", 20)
        am.stop()
        await pilot_until(pilot, lambda: status.state.kind == "stale", 20)
        assert "Connection refused" in status.render().plain
        assert "stale since" in status.render().plain
        await pilot_until(pilot, lambda: _told(room, "lost"), 20)
        await pilot.pause(2)  # more failed polls: still one entry
        am.start()
        await pilot_until(pilot, lambda: status.state.kind == "ok", 20)
        await pilot_until(pilot, lambda: _told(room, "back"), 20)
        await pilot.pause(0.5)
    told = [e for e in room.store.events() if e.data.get("source") == "alertmanager"]
    assert [e.data["transition"] for e in told] == ["lost", "back"]
    assert (
        told[0].text.startswith("Alertmanager lost since ") and "Connection refused" in told[0].text
    )
    assert told[1].text.startswith("Alertmanager back after ")


def _told(room: WarRoom, transition: str) -> bool:
    return any(
        e.data.get("source") == "alertmanager" and e.data.get("transition") == transition
        for e in room.store.events()
    )
