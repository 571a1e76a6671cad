"""Pages through the outbox to loopback receivers that answer as PagerDuty, Opsgenie and a
real SMTP server do: each page, acknowledgement and failure on the timeline, bad keys and rate
limits as one line, the page kept in the outbox until it arrives."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.clock import FixedClock
from tests.fixtures.paging_receivers import (
    PD_KEY,
    PD_KEY2,
    OpsgenieReceiver,
    PagerDutyReceiver,
    SMTPServer,
)
from tests.paging_support import paging_settings
from warroom.actions.outbox import TABLE, Outbox
from warroom.actions.paging import Pager
from warroom.escalation import escalate_to_level
from warroom.model import Kind
from warroom.room import WarRoom
from warroom.settings import Settings
from warroom.store.tinydb import TinyDBRepository

pytestmark = pytest.mark.integration


def client() -> httpx.AsyncClient:
    return httpx.AsyncClient(trust_env=False)  # the receivers are on loopback


def open_incident(
    settings: Settings, clock: FixedClock, severity: str = "P1", **kw
) -> tuple[WarRoom, Outbox, Pager]:
    repo = TinyDBRepository(settings.data_dir)
    room = WarRoom.declare(
        repo, settings, title="Checkout down", severity=severity, clock=clock, **kw
    )
    room.assign_role("commander", "Cy Diaz")
    dests = [*settings.destinations, *settings.paging.destinations(settings.destinations)]
    outbox = Outbox(room, dests, client_factory=client, clock=clock)
    return room, outbox, Pager(room, outbox)


def incident(tmp_path: Path, drill: bool = False, **receivers: Any) -> tuple:
    """(clock, settings, room, outbox, pager) of a P1 with paging to `receivers`."""
    clock = FixedClock()
    s = paging_settings(tmp_path, tmp_path / "data", **receivers)
    return (clock, s, *open_incident(s, clock, drill=drill))


def escalate(room: WarRoom, pager: Pager, level: str) -> None:
    escalate_to_level(room, level)
    pager.sync()


def pages(room: WarRoom) -> list[str]:
    room.refresh()
    return [e.text for e in room.events if e.kind == Kind.PAGE]


async def test_pagerduty_trigger_acknowledge_resolve(
    tmp_path: Path, pagerduty: PagerDutyReceiver
) -> None:
    _clock, _s, room, outbox, pager = incident(tmp_path, pagerduty=pagerduty)
    ev = escalate_to_level(room, "L2")
    assert ev.data["targets"] == [{"id": "bo", "name": "Bo Chen", "via": ["pagerduty"]}]
    assert pager.sync() == 1 and pager.sync() == 0  # queued once
    [r] = await outbox.deliver_due()
    assert r.ok and r.status_code == 202
    [trigger] = pagerduty.events("trigger")
    assert trigger["routing_key"] == PD_KEY
    assert trigger["dedup_key"] == room.incident_id
    assert trigger["payload"]["severity"] == "error"  # P1
    assert trigger["payload"]["summary"].startswith(f"{room.incident_id}: Checkout down")
    assert "+1 555 0102" in trigger["payload"]["custom_details"]["text"]  # the commander
    assert pages(room) == ["Page to Bo Chen (L2) via PagerDuty: delivered"]

    room.acknowledge()
    pager.sync()
    await outbox.deliver_due()
    [ack] = pagerduty.events("acknowledge")
    assert (ack["dedup_key"], ack["routing_key"]) == (room.incident_id, PD_KEY)
    assert pagerduty.alerts[(PD_KEY, room.incident_id)]["status"] == "acknowledged"
    room.resolve("fixed")
    pager.sync()
    await outbox.deliver_due()
    assert pagerduty.alerts[(PD_KEY, room.incident_id)]["status"] == "resolved"
    assert pages(room)[1:] == [
        "Acknowledgement to Bo Chen via PagerDuty: delivered",
        "Resolve to Bo Chen via PagerDuty: delivered",
    ]
    assert PD_KEY not in str(room.store.docs(TABLE)) + str([e.to_dict() for e in room.events])


async def test_invalid_key_unreachable_and_rate_limit_each_one_line(
    tmp_path: Path, pagerduty: PagerDutyReceiver
) -> None:
    clock, _s, room, outbox, pager = incident(tmp_path, pagerduty=pagerduty)
    escalate(room, pager, "L3")

    pagerduty.keys = {"f" * 32}  # our keys are no longer valid: 400, as PagerDuty answers
    [r1] = await outbox.deliver_due()
    assert (r1.ok, r1.status_code) == (False, 400)
    assert "Invalid routing key" in (r1.error or "")
    assert pages(room) == [
        "Page to Cy Diaz (L3) via PagerDuty not delivered: HTTP 400: "
        '{"status": "invalid event", "message": "Event object is invalid", '
        '"errors": ["Invalid routing key"]}; retrying'
    ]
    assert outbox.undelivered_pages() == 1  # it stays in the outbox

    pagerduty.keys = {PD_KEY, PD_KEY2}
    pagerduty.down()
    clock.advance(minutes=5)
    [r2] = await outbox.deliver_due()
    assert r2.error == "connection refused" and outbox.undelivered_pages() == 1
    pagerduty.up()
    pagerduty.throttle, pagerduty.retry_after = 1, 120
    clock.advance(minutes=5)
    [r3] = await outbox.deliver_due()
    assert r3.status_code == 429
    assert r3.next_attempt_at is not None and r3.next_attempt_at >= clock.now + timedelta(
        seconds=120
    )  # Retry-After is honoured
    assert await outbox.deliver_due() == []  # not before
    clock.advance(minutes=3)
    [r4] = await outbox.deliver_due()
    assert r4.ok and r4.attempts == 4
    assert pages(room)[-1] == "Page to Cy Diaz (L3) via PagerDuty: delivered after 4 attempts"
    assert len(pagerduty.pages) == 1 and outbox.undelivered_pages() == 0


async def test_a_delivered_page_ticks_team_notified_a_failed_one_does_not(
    tmp_path: Path, pagerduty: PagerDutyReceiver
) -> None:
    """The standard playbook's "Team notified": a page that reached the pager notifies the
    team as an update would; a page PagerDuty refused notified nobody."""
    clock = FixedClock()
    s = paging_settings(tmp_path, tmp_path / "data", pagerduty=pagerduty)
    room, outbox, pager = open_incident(s, clock, severity="P3")
    item = room.state.checklist["first-update"]
    assert (item.text, item.done) == ("Team notified", False)
    escalate(room, pager, "L2")
    pagerduty.keys = {"f" * 32}
    [refused] = await outbox.deliver_due()
    assert not refused.ok
    room.refresh()
    assert not room.state.checklist["first-update"].done
    pagerduty.keys = {PD_KEY, PD_KEY2}
    clock.advance(minutes=5)
    [sent] = await outbox.deliver_due()
    assert sent.ok
    room.refresh()
    assert room.state.checklist["first-update"].done
    [delivered] = [e for e in room.events if e.kind == Kind.PAGE and "error" not in e.data]
    [tick] = [e for e in room.events if e.data.get("item") == "first-update"]
    assert tick.data == {"op": "done", "item": "first-update", "by_event": delivered.seq}


async def test_opsgenie_alert_per_person_acknowledged_by_alias(
    tmp_path: Path, opsgenie: OpsgenieReceiver
) -> None:
    _clock, _s, room, outbox, pager = incident(tmp_path, opsgenie=opsgenie)
    escalate(room, pager, "L2")
    [r] = await outbox.deliver_due()
    assert r.ok and r.status_code == 202
    create = opsgenie.requests[0].json
    assert create["alias"] == f"{room.incident_id}-bo"
    assert create["responders"] == [{"type": "user", "username": "bo@example.com"}]
    assert create["priority"] == "P2" and len(create["message"]) <= 130
    assert opsgenie.pages == [("bo@example.com", create["message"])]
    room.acknowledge()
    pager.sync()
    await outbox.deliver_due()
    assert opsgenie.requests[-1].path.endswith("/acknowledge?identifierType=alias")
    assert opsgenie.alerts[f"{room.incident_id}-bo"]["acknowledged"] is True

    opsgenie.key = "another-key"  # 401, as Opsgenie answers a key it does not know
    room.resolve()
    pager.sync()
    [r2] = await outbox.deliver_due()
    assert r2.status_code == 401 and "Key format is not valid!" in (r2.error or "")
    assert "Resolve to Bo Chen via Opsgenie not delivered: HTTP 401" in pages(room)[-1]


async def test_email_pages_through_a_real_smtp_server(
    tmp_path: Path, smtp_server: SMTPServer
) -> None:
    clock, s, room, outbox, pager = incident(tmp_path, drill=True, smtp=smtp_server)
    escalate(room, pager, "L3")
    [r] = await outbox.deliver_due()
    assert r.ok, r.error
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == "cy@example.com" and mail["From"] == "warroom@example.com"
    assert mail["Subject"].startswith("[DRILL] ")  # a drill's page says so
    assert "Escalated to L3 Management" in mail.get_payload()
    assert mail["Message-ID"].endswith("@warroom>")

    smtp_server.stop()  # the server goes away: one line, the page stays
    escalate(room, pager, "L2")
    [r2] = await outbox.deliver_due()
    assert r2.error == f"SMTP connection refused (127.0.0.1:{smtp_server.port})"
    assert pages(room)[-1].endswith("not delivered: " + r2.error + "; retrying")
    smtp_server.start()
    smtp_server.reject = "550 5.1.1 Mailbox unknown"
    clock.advance(minutes=5)
    [r3] = await outbox.deliver_due()
    assert r3.error == "SMTP: recipients refused [550]"
    smtp_server.reject = None
    smtp_server.password = "changed"
    clock.advance(minutes=5)
    [r4] = await outbox.deliver_due()
    assert r4.error == "SMTP 535: authentication failed"
    smtp_server.password = s.paging.channels.smtp_password.read()  # type: ignore[union-attr]
    clock.advance(minutes=5)
    [r5] = await outbox.deliver_due()
    assert r5.ok and len(smtp_server.wait_for(2)) == 2
    assert outbox.undelivered_pages() == 0


async def test_export_lists_pages_and_updates_with_audience_and_outcome(
    tmp_path: Path, pagerduty: PagerDutyReceiver, smtp_server: SMTPServer
) -> None:
    import json
    import logging

    from warroom.actions.updates import post
    from warroom.bootstrap import export_context, setup_logging
    from warroom.report import render

    clock, s, room, outbox, pager = incident(tmp_path, pagerduty=pagerduty, smtp=smtp_server)
    escalate_to_level(room, "L2")
    pagerduty.down()
    pager.sync()
    await outbox.deliver_due()  # PagerDuty unreachable: pending; the e-mail arrives
    post(room, "first words", "notification", clock.now, outbox)
    room.add_note(f"pasted by mistake: {PD_KEY}")
    ctx = export_context(s, room.store)
    md = render(room.store.events(), "md", clock.now, **ctx)
    pages_part = md.split("### Pages")[1].split("\n## ")[0]
    assert "page to Bo Chen (L2) via pagerduty: pending (connection refused)" in pages_part
    assert "page to Bo Chen (L2) via email: delivered" in pages_part
    # redacted before rendering (Markdown's escapes would hide key names), so escaped like text
    assert PD_KEY not in md and "pasted by mistake: \\[REDACTED\\]" in md
    doc = json.loads(
        render(room.store.events(), "json", clock.now, **export_context(s, room.store))
    )
    comms = next(x for x in doc["postmortem"] if x["key"] == "communications")
    pages_json = next(p for p in comms["parts"] if p["key"] == "pages")["items"]
    assert {(p["channel"], p["state"], p["audience"]) for p in pages_json} == {
        ("pagerduty", "pending", "page"),
        ("email", "delivered", "page"),
    }
    updates = next(p for p in comms["parts"] if p["key"] == "communications")["items"]
    assert [u["audience"] for u in updates] == ["responders"]

    log = logging.getLogger("warroom")
    before = list(log.handlers)
    setup_logging(s)  # our keys never reach the log either
    try:
        log.warning("request with routing_key=%s", PD_KEY)
    finally:
        for h in [h for h in log.handlers if h not in before]:
            h.close()
            log.removeHandler(h)
    text = (s.data_dir / "warroom.log").read_text()
    assert PD_KEY not in text and "routing_key=[REDACTED]" in text


def test_the_command_line_escalates_pages_and_acknowledges(
    tmp_path: Path, pagerduty: PagerDutyReceiver
) -> None:
    import os
    import subprocess
    import sys

    paging_settings(tmp_path, tmp_path / "data", pagerduty=pagerduty)
    env = {**os.environ, "USER": "ann", "NO_PROXY": "127.0.0.1"}
    env.pop("WARROOM_CONFIG", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "warroom", "--config", str(tmp_path / "paging.toml"), *args]
        cmd += ["--data-dir", str(tmp_path / "data")] if args[0] != "--data-dir" else []
        return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60)

    incident = run("declare", "--title", "Cart down", "--severity", "P1").stdout.strip()
    out = run("escalate")
    assert out.returncode == 0, out.stderr
    assert "Escalated to L2 (Team lead); paging Bo Chen" in out.stdout
    assert "page:bo:pagerduty: delivered" in out.stdout
    out = run("escalate", "L3")
    assert "page:cy:pagerduty: delivered" in out.stdout
    assert [k for k, _, _ in pagerduty.pages] == [PD_KEY, PD_KEY2]
    out = run("ack")
    assert out.returncode == 0 and len(pagerduty.events("acknowledge")) == 2
    out = run("escalate", "L9")
    assert out.returncode != 0 and "no escalation level 'L9'" in out.stderr
    assert out.stderr.count("\n") == 1  # one line, no traceback
    out = run("update", "--audience", "board", "--text", "hello")
    assert out.returncode != 0 and "no audience 'board'" in out.stderr
    assert incident.startswith("INC-")


async def test_a_contact_paged_through_a_generic_webhook(tmp_path: Path, webhook_receiver) -> None:
    clock = FixedClock()
    extra = (
        f'[[notify.destinations]]\nname = "oncall-hook"\ntype = "webhook"\n'
        f'url = "{webhook_receiver.url("/oncall/SECRET-PATH")}"\naudience = "executives"\n'
        '[contacts.dee]\nname = "Dee Eng"\nwebhook = "oncall-hook"\n'
        '[escalation.levels.L4]\ntargets = ["dee"]\n'
    )
    cfg = tmp_path / "hook.toml"
    from tests.paging_support import paging_toml
    from warroom.settings import load_settings

    cfg.write_text(paging_toml(tmp_path, extra=extra))
    s = load_settings(cfg, env={"USER": "ann"}, data_dir=tmp_path / "data")
    room, outbox, pager = open_incident(s, clock)
    escalate(room, pager, "L4")
    [r] = await outbox.deliver_due()
    assert r.ok and r.destination == "page:dee:webhook"
    [req] = webhook_receiver.requests
    body = req.json
    assert body["incident"] == room.incident_id and "Paged: Dee Eng" in body["text"]
    # The page carries the chain head that decided it (`warroom verify --anchor`).
    decided = next(e for e in reversed(room.events) if e.kind == Kind.ESCALATED)
    assert body["anchor"]["seq"] == decided.seq and body["anchor"]["hash"] == decided.hash
    assert body["text"].endswith(f"ref {decided.seq}:{decided.hash[:8]}")
    assert body["idempotency_key"] == req.headers["Idempotency-Key"]
    assert pages(room) == ["Page to Dee Eng (L4) via webhook: delivered"]
    room.acknowledge()
    assert pager.sync() == 0  # a webhook takes no acknowledgement


async def test_an_acknowledgement_cancels_pages_not_sent_yet(
    tmp_path: Path, pagerduty: PagerDutyReceiver, smtp_server: SMTPServer
) -> None:
    clock, _s, room, outbox, pager = incident(tmp_path, pagerduty=pagerduty, smtp=smtp_server)
    pagerduty.down()  # Bo's pager is unreachable; his e-mail goes out
    escalate(room, pager, "L2")
    await outbox.deliver_due()
    assert outbox.undelivered_pages() == 1
    room.acknowledge()
    pager.sync()
    assert outbox.undelivered_pages() == 0  # nothing left to wake anyone with
    pagerduty.up()
    clock.advance(minutes=10)
    assert await outbox.deliver_due() == []
    assert pagerduty.requests == []  # neither the page nor an acknowledgement of it
    assert pages(room)[-1] == (
        "Page to Bo Chen (L2) via PagerDuty cancelled: acknowledged before it went out"
    )
    states = {d["destination"]: d["state"] for d in room.store.docs(TABLE).values()}
    assert states == {"page:bo:pagerduty": "cancelled", "page:bo:email": "delivered"}
