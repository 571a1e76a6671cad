"""Silence a firing alert and expire the silence (Alertmanager API v2) against a real
Alertmanager started by the test on loopback, then against the drill's: the silence matches
the alert's labels, Alertmanager reports the alert suppressed by it, expiring ends it; a
refusal is one line; an Alertmanager that is down is one line."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.fixtures.prometheus_servers import AlertmanagerServer, _require, free_port
from tests.support import until
from warroom.actions import silences
from warroom.alerts import Alert
from warroom.sources.alertmanager import AlertmanagerSource

pytestmark = pytest.mark.integration
LABELS = {"alertname": "CartHighErrorRate", "namespace": "shop", "severity": "critical"}


@pytest.fixture
def am(tmp_path: Path) -> Iterator[AlertmanagerServer]:
    """A fresh Alertmanager: a silence must not hide other tests' alerts."""
    binary = _require("prometheus-alertmanager", "WARROOM_ALERTMANAGER_BIN")
    server = AlertmanagerServer(binary, tmp_path / "am")
    server.start()
    yield server
    server.stop()


async def firing(url: str, labels: dict[str, str] = LABELS) -> Alert:
    """Post the alert as Prometheus would, and read it back as the console does."""
    now = datetime.now(UTC)
    body = [
        {
            "labels": labels,
            "annotations": {"summary": "cart is failing"},
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
        }
    ]
    async with httpx.AsyncClient() as http:
        assert (await http.post(f"{url}/api/v2/alerts", json=body)).status_code == 200
    async with AlertmanagerSource(url) as src:

        async def found() -> Alert | None:
            snap = await src.fetch()
            return next((a for a in snap.alerts if a.name == labels["alertname"]), None)

        return await until(found, "the alert in Alertmanager")


async def state_of(url: str, fingerprint: str) -> dict:
    async with httpx.AsyncClient() as http:
        alerts = (await http.get(f"{url}/api/v2/alerts")).json()
    return next(a for a in alerts if a["fingerprint"] == fingerprint)["status"]


async def silence_then_expire(url: str) -> None:
    alert = await firing(url)
    res = await silences.silence(url, alert, timedelta(hours=2), "known: fix rolling out", "ann")
    assert res.ok, res.text
    sid = res.seen["silence_id"]
    assert res.text.startswith("silenced alert CartHighErrorRate in Alertmanager for 2h00m (until ")
    assert res.text.endswith(f", silence {sid}): known: fix rolling out")
    assert res.revert_hint == f"amtool silence expire {sid} --alertmanager.url={url}"
    assert res.record["matchers"] == LABELS and res.namespace == "shop"
    outcome = await silences.verify_silence(url, alert.name, res.seen, wait=20, poll=0.3)
    assert outcome.kind == "took_effect", outcome.text
    assert outcome.text == "alert CartHighErrorRate is silenced (suppressed)"
    st = await state_of(url, alert.fingerprint)
    assert st["state"] == "suppressed" and st["silencedBy"] == [sid]
    async with httpx.AsyncClient() as http:
        got = (await http.get(f"{url}/api/v2/silence/{sid}")).json()
    assert got["createdBy"] == "ann" and got["comment"] == "known: fix rolling out"
    assert sorted((m["name"], m["value"], m["isEqual"], m["isRegex"]) for m in got["matchers"]) == [
        (k, v, True, False) for k, v in sorted(LABELS.items())
    ]
    # The console sees it silenced, and `m` on it expires that silence.
    async with AlertmanagerSource(url) as src:
        snap = await src.fetch()
    [silenced] = [a for a in snap.suppressed if a.fingerprint == alert.fingerprint]
    assert silenced.silenced_by == (sid,)
    res = await silences.expire(url, silenced, sid)
    assert (
        res.ok and res.text == f"expired silence {sid} of alert CartHighErrorRate in Alertmanager"
    )
    outcome = await silences.verify_silence(url, alert.name, res.seen, wait=20, poll=0.3)
    assert outcome.kind == "took_effect" and "expired" in outcome.text
    assert (await state_of(url, alert.fingerprint))["state"] == "active"


async def test_silence_and_expire_on_a_real_alertmanager(am: AlertmanagerServer) -> None:
    await silence_then_expire(am.url)


async def test_silence_and_expire_on_the_drills_alertmanager(drill_factory, quiet_scenario) -> None:
    h = drill_factory(scenario=quiet_scenario, speed=1.0)
    await silence_then_expire(h.alertmanager_url)


async def test_refusals_are_one_line(am: AlertmanagerServer) -> None:
    alert = await firing(am.url)
    # An end before the start: Alertmanager's own 400, in one line.
    res = await silences.silence(am.url, alert, timedelta(minutes=-5), "oops", "ann")
    assert not res.ok and not res.forbidden
    assert res.text.startswith("failed: create silences: HTTP 400: ") and "\n" not in res.text
    down = f"http://127.0.0.1:{free_port()}"
    res = await silences.silence(down, alert, timedelta(hours=1), "x", "ann")
    assert not res.ok and res.text == f"failed: create silences: Connection refused ({down})"
    res = await silences.expire(am.url, alert, "7f1e4f6a-0000-4000-8000-000000000000")
    assert not res.ok and res.text.startswith("failed: delete silences: HTTP ")


async def test_the_amtool_command_quotes_what_it_must() -> None:
    alert = Alert("fp", "Disk Full", "warning", "active", None, "", {"alertname": "Disk Full"}, {})
    cmd = silences.add_command("http://am:9093", alert, timedelta(minutes=30), "it's known")
    assert cmd == (
        "amtool silence add 'alertname=Disk Full' --duration=30m "
        "--comment='it'\"'\"'s known' --alertmanager.url=http://am:9093"
    )


async def test_the_stated_amtool_commands_do_the_same(am: AlertmanagerServer) -> None:
    """What the confirmation states, run as typed in a shell: amtool silences the alert the
    same way, and the revert hint expires it."""
    import shlex
    import shutil
    import subprocess

    amtool = shutil.which("amtool")
    if amtool is None:
        if os.environ.get("CI"):
            pytest.fail("amtool is not installed (required under CI)")
        pytest.skip("amtool is not installed")
    alert = await firing(am.url)
    cmd = silences.add_command(am.url, alert, timedelta(minutes=90), "seen by amtool")
    out = subprocess.run(shlex.split(cmd), capture_output=True, text=True, check=True, timeout=30)
    sid = out.stdout.strip()
    st = await state_of(am.url, alert.fingerprint)
    assert st["state"] == "suppressed" and st["silencedBy"] == [sid]
    revert = silences.expire_command(am.url, sid)
    subprocess.run(shlex.split(revert), capture_output=True, check=True, timeout=30)
    assert (await state_of(am.url, alert.fingerprint))["state"] == "active"
