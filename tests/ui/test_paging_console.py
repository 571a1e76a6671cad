"""The drill from the issue, through the console: with a PagerDuty-shaped receiver and a
real SMTP server on loopback, missing the ack deadline pages L2 by itself, and one key (E,
then Enter on the level it offers) pages L3; the acknowledgement follows; the header shows
the level and the commander's phone; `o` offers the contacts."""

from __future__ import annotations

from pathlib import Path

from tests.clock import FixedClock
from tests.fixtures.paging_receivers import PD_KEY, PD_KEY2, PagerDutyReceiver, SMTPServer
from tests.paging_support import paging_settings
from tests.support import UI_SIZE, pilot_until, settle
from warroom.console.app import WarRoomApp
from warroom.model import Kind
from warroom.room import WarRoom
from warroom.store.tinydb import TinyDBRepository
from warroom.widgets.dialogs import ChoiceScreen
from warroom.widgets.escalation import EscalateScreen
from warroom.widgets.header import IncidentHeader


async def test_drill_missed_ack_pages_l2_and_one_key_pages_l3(
    tmp_path: Path, pagerduty: PagerDutyReceiver, smtp_server: SMTPServer
) -> None:
    clock = FixedClock()
    s = paging_settings(tmp_path, tmp_path / "data", pagerduty=pagerduty, smtp=smtp_server)
    repo = TinyDBRepository(s.data_dir)
    room = WarRoom.declare(repo, s, title="Checkout down", severity="P1", drill=True, clock=clock)
    room.assign_role("commander", "Cy Diaz")
    app = WarRoomApp(s, repo=repo, room=room, clock=clock, follow=False, poll_sources=False)
    async with app.run_test(size=UI_SIZE) as pilot:
        await settle(app, pilot)
        header = app.main.query_one(IncidentHeader)
        assert "☎ commander +1 555 0102" in header.render().plain
        clock.advance(minutes=61)  # P1: acknowledge within 1h; nobody did
        app._tick()
        await pilot_until(pilot, lambda: len(pagerduty.pages) == 1 and smtp_server.messages)
        key, dedup, summary = pagerduty.pages[0]
        assert (key, dedup) == (PD_KEY, room.incident_id)  # Bo's service
        assert summary.startswith("[DRILL] ")
        assert smtp_server.messages[0]["To"] == "bo@example.com"
        await settle(app, pilot)
        assert "escalated: L2" in header.render().plain

        await pilot.press("E")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, EscalateScreen) and dialog.suggested == "L3"
        # Gone straight to L2: L1 was passed (nobody there was paged), not "reached".
        assert [(lv.id, lv.state) for lv in dialog.levels] == [
            ("L1", "passed"), ("L2", "now"), ("L3", ""), ("L4", ""),
        ]  # fmt: skip
        shown = dialog.query_one("#levels").get_option_at_index(1).prompt.plain
        assert shown.startswith("L2  ") and "(now)" in shown
        await pilot.press("enter")  # the level offered: L3
        await pilot_until(
            pilot, lambda: len(pagerduty.pages) == 2 and len(smtp_server.messages) == 2
        )
        assert pagerduty.pages[1][0] == PD_KEY2  # Cy's service
        assert smtp_server.messages[1]["To"] == "cy@example.com"

        await pilot.press("k")  # acknowledged: both pagers hear it
        await settle(app, pilot)
        app.updates.deliver()
        await pilot_until(pilot, lambda: len(pagerduty.events("acknowledge")) == 2)
        await settle(app, pilot)
        assert "escalated: L3" in header.render().plain
    room.refresh()
    escalations = [e for e in room.events if e.kind == Kind.ESCALATED]
    assert [(e.data["level"], e.data.get("auto"), e.actor) for e in escalations] == [
        ("L2", "ack_missed", "warroom"),
        ("L3", None, "ann"),
    ]
    shown = [e.text for e in room.events if e.kind == Kind.PAGE]  # channels go out concurrently
    assert sorted(shown) == sorted(
        [
            "Page to Bo Chen (L2) via PagerDuty: delivered",
            "Page to Bo Chen (L2) via e-mail: delivered",
            "Page to Cy Diaz (L3) via PagerDuty: delivered",
            "Page to Cy Diaz (L3) via e-mail: delivered",
            "Acknowledgement to Bo Chen via PagerDuty: delivered",
            "Acknowledgement to Cy Diaz via PagerDuty: delivered",
        ]
    )


async def test_roles_dialog_offers_the_contacts(tmp_path: Path) -> None:
    clock = FixedClock()
    s = paging_settings(tmp_path, tmp_path / "data")
    repo = TinyDBRepository(s.data_dir)
    room = WarRoom.declare(repo, s, title="Checkout down", severity="P1", clock=clock)
    app = WarRoomApp(s, repo=repo, room=room, clock=clock, follow=False, poll_sources=False)
    async with app.run_test(size=UI_SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("o")
        await pilot.pause()
        await pilot.press("enter")  # commander
        await pilot.pause()
        people = app.screen
        assert isinstance(people, ChoiceScreen)
        assert people.choices[0] == ("Cy Diaz", "Cy Diaz  +1 555 0102")  # can take the role
        assert people.choices[1] == ("Bo Chen", "Bo Chen  +1 555 0101  *")
        await pilot.press("enter")
        await settle(app, pilot)
        assert "☎ commander +1 555 0102" in app.main.query_one(IncidentHeader).render().plain
    assert room.state.roles[next(iter(room.state.roles))] == "Cy Diaz"


async def test_the_regulators_clock_in_the_header_until_ticked(tmp_path: Path) -> None:
    clock = FixedClock()
    s = paging_settings(tmp_path, tmp_path / "data")
    repo = TinyDBRepository(s.data_dir)
    room = WarRoom.declare(repo, s, title="Card data exposed", severity="P1", category="security",
                           clock=clock)  # fmt: skip
    app = WarRoomApp(s, repo=repo, room=room, clock=clock, follow=False, poll_sources=False)
    async with app.run_test(size=UI_SIZE) as pilot:
        await settle(app, pilot)
        header = app.main.query_one(IncidentHeader)
        assert "regulator in 3d00h" in header.render().plain
        clock.advance(hours=73)
        app._tick()
        assert "regulator OVERDUE 1h00m" in header.render().plain
        room.toggle_item("regulator-notified")
        app.sync()
        assert "regulator" not in header.render().plain


async def test_drill_scripts_pick_contacts_and_levels(tmp_path: Path) -> None:
    """`role commander Cy Diaz` picks the contact; `escalate L3` the level; `escalate NAME`
    types a name (someone outside the directory)."""
    from warroom.console.drill_script import play_script
    from warroom.drill.script import Script, Step

    clock = FixedClock()
    s = paging_settings(tmp_path, tmp_path / "data")
    repo = TinyDBRepository(s.data_dir)
    room = WarRoom.declare(repo, s, title="Checkout down", severity="P1", clock=clock)
    app = WarRoomApp(s, repo=repo, room=room, clock=clock, follow=False, poll_sources=False)
    steps = (
        Step(0, "role", "commander Cy Diaz"),
        Step(0, "role", "scribe Zed Outsider"),
        Step(0, "escalate", "L3"),
        Step(0, "escalate", "the DBA team"),
    )
    async with app.run_test(size=UI_SIZE) as pilot:
        run = await play_script(app, pilot, Script(steps), lambda: 10.0)
    assert run.failed is None, run.lines
    room.refresh()
    assert sorted(room.state.roles.values()) == ["Cy Diaz", "Zed Outsider"]
    escalations = [e.data.get("level") or e.data["to"] for e in room.events
                   if e.kind == Kind.ESCALATED]  # fmt: skip
    assert escalations == ["L3", "the DBA team"]


async def test_a_page_that_fails_is_one_line_in_the_console_and_resolve_offers_notices(
    tmp_path: Path, pagerduty: PagerDutyReceiver, statuspage
) -> None:
    clock = FixedClock()
    s = paging_settings(tmp_path, tmp_path / "data", pagerduty=pagerduty, statuspage=statuspage)
    repo = TinyDBRepository(s.data_dir)
    room = WarRoom.declare(repo, s, title="Checkout down", severity="P1", clock=clock)
    pagerduty.down()
    app = WarRoomApp(s, repo=repo, room=room, clock=clock, follow=False, poll_sources=False)
    async with app.run_test(size=UI_SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("E", "enter")  # L2: Bo, whose pager is unreachable
        await pilot_until(pilot, lambda: app.updates.pages_undelivered == 1)
        toasts = [n.message for n in app._notifications]
        assert "page:bo:pagerduty: connection refused" in toasts
        assert "1 page undelivered" in app.main.query_one(IncidentHeader).render().plain
        room.resolve("fixed")
        app.updates.offer_resolution()
        await pilot.pause()
        offer = app.screen
        assert isinstance(offer, ChoiceScreen) and offer.title_text == "Resolved: tell them"
        assert [v for v, _ in offer.choices] == ["responders", "customers", "__later__"]


def test_our_own_secrets_include_every_key_and_password(
    tmp_path: Path, pagerduty, statuspage
) -> None:
    from tests.fixtures.paging_receivers import OG_KEY, SMTP_PASSWORD, SP_KEY
    from warroom.bootstrap import own_secrets

    s = paging_settings(tmp_path, tmp_path / "data", pagerduty=pagerduty, opsgenie=pagerduty,
                        smtp=pagerduty, statuspage=statuspage)  # fmt: skip
    found = set(own_secrets(s))
    assert {PD_KEY, PD_KEY2, OG_KEY, SMTP_PASSWORD, SP_KEY} <= found
