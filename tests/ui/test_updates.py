"""Status updates through the console: prefill per state, edit, send to a real loopback
receiver through the outbox, countdown reset, deadline crossing."""

from pathlib import Path

from textual.widgets import TextArea

from tests.support import UI_SIZE as SIZE
from tests.support import settle
from warroom.console.app import WarRoomApp
from warroom.model import Kind
from warroom.room import WarRoom
from warroom.settings import load_settings
from warroom.widgets.header import IncidentHeader

from .conftest import mid_incident


def settings_with_hook(tmp_path: Path, url: str, data_dir: Path):
    cfg = tmp_path / "w.toml"
    cfg.write_text(
        "[kube]\nenabled = false\n"
        "[[notify.destinations]]\n"
        'name = "incident-channel"\ntype = "slack"\n'
        f'url = "{url}"\ntimeout = 2\n'
    )
    return load_settings(cfg, env={"USER": "ann"}, data_dir=data_dir)


async def test_first_update_is_a_notification_and_reaches_the_receiver(
    webhook_receiver, repo, settings, clock, tmp_path
) -> None:
    s = settings_with_hook(
        tmp_path, webhook_receiver.url("/slack/T000/SECRET123"), settings.data_dir
    )
    room = mid_incident(repo, s, clock)
    assert room.state.next_update_due(room.policy.update_every) == room.state.declared_at.replace(
        hour=11
    )
    app = WarRoomApp(s, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await pilot.pause()
        editor = app.screen.query_one(TextArea)
        prefill = editor.text
        assert "INCIDENT NOTIFICATION" in prefill.upper()
        assert "Checkout API 5xx after deploy 1.42" in prefill
        assert "P1" in prefill
        editor.insert("\nEdited by the commander.")
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        [req] = webhook_receiver.wait_for(1)
        assert "Edited by the commander." in req.json["text"]
        assert "Checkout API 5xx" in req.json["text"]
        # The cadence clock restarts from this update.
        header = app.main.query_one(IncidentHeader).data
        assert header.next_update_at == clock.now + room.policy.update_every
        assert header.undelivered == 0
    updates = [e for e in room.store.events() if e.kind == Kind.UPDATE]
    assert len(updates) == 1 and "Edited by the commander." in updates[0].text


async def test_second_update_and_resolution_templates(repo, settings, clock) -> None:
    from warroom.actions.updates import compose

    room = mid_incident(repo, settings, clock)
    kind, _ = compose(room, clock.now)
    assert kind == "notification"
    from warroom.actions.updates import post

    post(room, "first", kind, clock.now, None)
    room.change_status("monitoring", "rolled back")
    kind, text = compose(room, clock.now)
    assert kind == "update"
    assert "#2" in text and "rolled back" in text  # actions since the last update
    room.add_note("Root cause: bad config in 1.42")
    room.resolve("rolled back to 1.41")
    kind, text = compose(room, clock.now)
    assert kind == "resolution"
    assert "bad config in 1.42" in text


async def test_receiver_down_shows_undelivered_then_delivers(
    webhook_receiver, repo, settings, clock, tmp_path
) -> None:
    s = settings_with_hook(tmp_path, webhook_receiver.url("/hook"), settings.data_dir)
    room = mid_incident(repo, s, clock)
    webhook_receiver.down()
    app = WarRoomApp(s, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("u")
        await pilot.pause()
        await pilot.press("ctrl+s")
        await settle(app, pilot)
        assert app.main.query_one(IncidentHeader).data.undelivered == 1
        assert "1 update undelivered" in app.main.query_one(IncidentHeader).render().plain
        webhook_receiver.up()
        clock.advance(minutes=5)  # past the retry backoff
        app.updates.deliver()
        await settle(app, pilot)
        assert webhook_receiver.wait_for(1)
        assert app.main.query_one(IncidentHeader).data.undelivered == 0


async def test_overdue_update_writes_a_deadline_event_once(repo, settings, clock) -> None:
    room = mid_incident(repo, settings, clock)
    clock.advance(minutes=47)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.incident.check_deadlines()
        await settle(app, pilot)
    deadlines = [e for e in room.store.events() if e.kind == Kind.DEADLINE]
    assert len(deadlines) == 1
    assert deadlines[0].text == "Deadline missed: status update was due 11:00 (P1)"
    # A second console opening later does not record it again.
    room2 = WarRoom(repo.open(room.incident_id), settings, clock=clock)
    app2 = WarRoomApp(settings, repo=repo, room=room2, clock=clock, follow=False)
    async with app2.run_test(size=SIZE) as pilot:
        await settle(app2, pilot)
    assert len([e for e in room2.store.events() if e.kind == Kind.DEADLINE]) == 1
