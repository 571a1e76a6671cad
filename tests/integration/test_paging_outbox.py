"""The outbox across crashes and audiences: a console killed (kill -9) between a send and its
record never pages twice (PagerDuty's dedup_key) nor opens a second status-page incident (a
look before creating); each audience's update reaches only its own destinations; the status
page follows the incident (create, update, resolve with its components)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.clock import FixedClock
from tests.fixtures.paging_receivers import SMTPServer, StatuspageReceiver
from tests.paging_support import paging_settings, paging_toml
from tests.support import wait_for
from warroom.actions.outbox import TABLE, Outbox
from warroom.actions.paging import Pager
from warroom.actions.updates import compose, post
from warroom.escalation import escalate_to_level
from warroom.model import Kind, utcnow
from warroom.room import WarRoom
from warroom.settings import load_settings
from warroom.store.tinydb import TinyDBRepository

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]

# One console's delivery pass, as a process of its own (the test kills it mid-send).
CONSOLE = textwrap.dedent(
    """
    import asyncio, sys
    from warroom.actions.outbox import Outbox
    from warroom.actions.paging import Pager
    from warroom.room import WarRoom
    from warroom.settings import load_settings
    from warroom.store.tinydb import TinyDBRepository

    cfg, data, incident = sys.argv[1:4]
    s = load_settings(cfg, env={"USER": "ann"}, data_dir=data)
    room = WarRoom(TinyDBRepository(s.data_dir).open(incident), s)
    outbox = Outbox(room, [*s.destinations, *s.paging.destinations(s.destinations)])
    Pager(room, outbox).sync()
    print("sending", flush=True)
    asyncio.run(outbox.deliver_due())
    print("recorded", flush=True)  # never reached: killed while the answer is held
    """
)


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(trust_env=False)


def run_console_and_kill(cfg: Path, data: Path, incident: str, arrived) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_PROXY": "127.0.0.1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", CONSOLE, str(cfg), str(data), incident],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(arrived, timeout=30, what="the send to arrive")
        os.kill(proc.pid, signal.SIGKILL)  # between the send and its record
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    out = proc.stdout.read() if proc.stdout else ""
    assert "sending" in out and "recorded" not in out, out + (proc.stderr.read() or "")


def declared(tmp_path: Path, **receivers: object) -> tuple:
    """(data dir, settings, repository, room) of a P1 with paging to `receivers`."""
    data = tmp_path / "data"
    s = paging_settings(tmp_path, data, **receivers)
    repo = TinyDBRepository(data)
    return data, s, repo, WarRoom.declare(repo, s, title="Checkout down", severity="P1")


def later() -> object:
    return utcnow() + timedelta(minutes=10)  # past the dead console's lease


@pytest.mark.slow
async def test_kill_9_between_send_and_record_pages_once(tmp_path: Path, pagerduty) -> None:
    data, s, repo, room = declared(tmp_path, pagerduty=pagerduty)
    escalate_to_level(room, "L2")
    room.store.close()
    pagerduty.hold = 60  # PagerDuty has the page; the console never hears back

    run_console_and_kill(tmp_path / "paging.toml", data, room.incident_id,
                         lambda: len(pagerduty.pages) == 1)  # fmt: skip
    pagerduty.hold = 0
    store = repo.open(room.incident_id)
    try:
        room = WarRoom(store, s)
        outbox = Outbox(room, s.paging.destinations(()), client_factory=client)
        Pager(room, outbox).sync()  # already queued by the dead console: nothing new
        assert await outbox.deliver_due() == []  # its lease still holds: not sent again yet
        [r] = await outbox.deliver_due(now=later())
        assert r.ok
        assert len(pagerduty.events("trigger")) == 2  # resent, with the same dedup_key...
        assert len(pagerduty.pages) == 1  # ...so PagerDuty paged Bo once
        [doc] = store.docs(TABLE).values()
        assert (doc["state"], doc["attempts"], doc["in_doubt"]) == ("delivered", 1, False)
        room.refresh()
        assert [e.text for e in room.events if e.kind == Kind.PAGE] == [
            "Page to Bo Chen (L2) via PagerDuty: delivered"
        ]
    finally:
        store.close()


@pytest.mark.slow
async def test_kill_9_after_a_status_page_create_opens_one_incident(
    tmp_path: Path, statuspage: StatuspageReceiver
) -> None:
    data, s, repo, room = declared(tmp_path, statuspage=statuspage)
    kind, text = compose(room, utcnow(), audience="customers")
    post(room, text, kind, utcnow(), Outbox(room, s.destinations), "customers")  # queued only
    room.store.close()
    statuspage.lose_answers = 60

    run_console_and_kill(tmp_path / "paging.toml", data, room.incident_id,
                         lambda: len(statuspage.incidents) == 1)  # fmt: skip
    statuspage.lose_answers = 0
    store = repo.open(room.incident_id)
    try:
        room = WarRoom(store, s)
        outbox = Outbox(room, s.destinations, client_factory=client)
        [r] = await outbox.deliver_due(now=later())
        assert r.ok
        assert len(statuspage.creates()) == 1 and len(statuspage.incidents) == 1
        assert [q.method for q in statuspage.requests] == ["POST", "GET", "PATCH"]
    finally:
        store.close()


async def test_status_page_follows_the_incident(tmp_path: Path, statuspage) -> None:
    clock = FixedClock()
    s = paging_settings(tmp_path, tmp_path / "data", statuspage=statuspage)
    room = WarRoom.declare(TinyDBRepository(s.data_dir), s, title="Checkout down",
                           severity="P1", clock=clock)  # fmt: skip
    outbox = Outbox(room, s.destinations, client_factory=client, clock=clock)
    post(room, "tactical words", "notification", clock.now, outbox)  # the responders'
    assert outbox.pending() == []  # the status page is the customers' only
    kind, text = compose(room, clock.now, audience="customers")
    assert text.startswith("We are investigating a problem with Checkout down")
    post(room, text, kind, clock.now, outbox, "customers")
    [r] = await outbox.deliver_due()
    assert r.ok and r.status_code == 201
    [inc] = statuspage.incidents
    assert inc["name"] == "We are investigating a problem with Checkout down"
    assert inc["impact"] == "major" and statuspage.components["ftgks51sfs2d"] == "partial_outage"
    assert inc["metadata"] == {"warroom": {"incident": room.incident_id}}
    assert statuspage.requests[0].headers["Authorization"].startswith("OAuth ")

    room.change_status("identified", "bad deploy")
    statuspage.throttle, statuspage.retry_after = 1, 5  # 1 request a second, per token
    kind, text = compose(room, clock.now, audience="customers")
    post(room, text, kind, clock.now, outbox, "customers")
    [r2] = await outbox.deliver_due()
    assert r2.status_code == 429 and r2.next_attempt_at >= clock.now + timedelta(seconds=5)
    clock.advance(minutes=2)
    [r3] = await outbox.deliver_due()
    assert r3.ok and inc["status"] == "identified"
    room.resolve("rolled back")
    kind, text = compose(room, clock.now, audience="customers")
    assert kind == "resolution"
    post(room, text, kind, clock.now, outbox, "customers")
    await outbox.deliver_due()
    assert inc["status"] == "resolved" and statuspage.components["ftgks51sfs2d"] == "operational"
    assert len(statuspage.incidents) == 1
    assert room.state.resolution_sent == {"customers"}


async def test_each_audience_hears_only_its_updates_on_its_own_cadence(
    tmp_path: Path, smtp_server: SMTPServer, webhook_receiver
) -> None:
    clock = FixedClock()
    extra = (
        f'[[notify.destinations]]\nname = "execs"\ntype = "email"\nto = ["execs@example.com"]\n'
        f'audience = "executives"\n[[notify.destinations]]\nname = "ops"\ntype = "webhook"\n'
        f'url = "{webhook_receiver.url("/ops")}"\n'
    )
    cfg = tmp_path / "aud.toml"
    cfg.write_text(paging_toml(tmp_path, smtp=smtp_server, extra=extra))
    s = load_settings(cfg, env={"USER": "ann"}, data_dir=tmp_path / "data")
    room = WarRoom.declare(TinyDBRepository(s.data_dir), s, title="Checkout down",
                           severity="P1", clock=clock)  # fmt: skip
    outbox = Outbox(room, s.destinations, client_factory=client, clock=clock)
    clock.advance(minutes=20)
    kind, text = compose(room, clock.now, audience="executives")
    assert text.startswith("EXECUTIVE BRIEFING: ")
    execs = post(room, text, kind, clock.now, outbox, "executives")
    assert execs.data["to"] == ["execs"]  # the timeline row names who heard it
    await outbox.deliver_due()
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "execs@example.com" and webhook_receiver.requests == []
    st = room.state
    # The executives' clock restarted; the responders' did not.
    assert st.next_update_due(timedelta(hours=1), "executives") == clock.now + timedelta(hours=1)
    assert st.next_update_due(timedelta(hours=1)) == st.declared_at + timedelta(hours=1)
    tactical = post(room, "responders' update", "notification", clock.now, outbox)
    assert tactical.data["to"] == ["ops"]
    await outbox.deliver_due()
    assert len(webhook_receiver.wait_for(1)) == 1 and len(smtp_server.messages) == 1
    assert st.audience_count == {"executives": 1, "responders": 1}
    assert asyncio.iscoroutinefunction(outbox.deliver_due)
