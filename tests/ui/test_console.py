"""The console driven by keys (Pilot), asserting on the store, not only on the screen."""

from tests.support import UI_SIZE as SIZE
from tests.support import settle, store_kinds
from warroom.console.app import WarRoomApp
from warroom.model import Kind
from warroom.room import WarRoom
from warroom.widgets.checklist import Checklist
from warroom.widgets.header import IncidentHeader
from warroom.widgets.timeline import Timeline

from .conftest import mid_incident


async def test_declare_dialog_declares(repo, settings, clock) -> None:
    app = WarRoomApp(settings, repo=repo, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press(*"Payments down", "enter")
        await settle(app, pilot)
        assert app.room is not None
        [incident_id] = repo.ids()
        kinds, events = store_kinds(repo, incident_id)
        assert kinds[:2] == [Kind.DECLARED, Kind.CHECKLIST]
        assert events[0].data["title"] == "Payments down"
        assert events[0].data["severity"] == "P1"  # the dialog's default
        assert app.main.query_one(IncidentHeader).data.title == "Payments down"
        assert len(app.main.query_one(Timeline).rows) == 2


async def test_declare_dialog_requires_a_title_and_escape_quits(repo, settings, clock) -> None:
    app = WarRoomApp(settings, repo=repo, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        assert repo.ids() == []
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_value == 0
    assert repo.ids() == []


async def test_severity_status_role_note_keys(repo, settings, clock) -> None:
    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        # s: severity picker opens on the current one (P1); up moves to P0; it asks why.
        await pilot.press("s", "up", "enter", *"payments down too", "enter")
        await settle(app, pilot)
        # t: status; identified -> monitoring is one down.
        await pilot.press("t", "down", "enter")
        await settle(app, pilot)
        # o: role; scribe is the last role; type a name.
        await pilot.press("o", "end", "enter", *"Cy Diaz", "enter")
        await settle(app, pilot)
        # n: note from anywhere.
        await pilot.press("2", "n", *"rolled back to 1.41", "enter")
        await settle(app, pilot)
    _, events = store_kinds(repo, room.incident_id)
    # P0 and P1 share the critical playbook: no checklist items are added.
    tail = events[-4:]
    assert [e.kind for e in tail] == [Kind.SEVERITY, Kind.STATUS, Kind.ROLE, Kind.NOTE]
    assert {k: tail[0].data[k] for k in ("from", "to")} == {"from": "P1", "to": "P0"}
    assert tail[0].data["policy"]["respond_within"] == 15 * 60  # P0: the SLA it brings
    assert tail[0].data["reason"] == "payments down too"
    assert tail[0].text == "Severity raised P1 -> P0: payments down too"
    assert tail[1].data == {"from": "identified", "to": "monitoring"}
    assert tail[2].data["role"] == "scribe" and tail[2].data["name"] == "Cy Diaz"
    assert tail[3].text == "rolled back to 1.41" and tail[3].actor == "ann"


async def test_pin_toggle_and_event_details(repo, settings, clock) -> None:
    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        timeline = app.main.query_one(Timeline)
        await pilot.press("3", "up")
        pinned_seq = timeline.selected_seq()
        assert pinned_seq == timeline.rows[-2].seq
        await pilot.press("p")
        await settle(app, pilot)
        assert room.state.pinned >= {pinned_seq}
        assert timeline.rows[[r.seq for r in timeline.rows].index(pinned_seq)].pinned
        await pilot.press("end", "enter")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "EventScreen"
        await pilot.press("escape")
        await pilot.pause()
        # Checklist: the first item after the phase header is highlighted; space toggles it.
        await pilot.press("4")
        checklist = app.main.query_one(Checklist)
        item_id = checklist.highlighted_option_id().removeprefix("item:")
        before = room.state.checklist[item_id].done
        await pilot.press("space")
        await settle(app, pilot)
    _, events = store_kinds(repo, room.incident_id)
    pin_events = [e for e in events if e.kind == Kind.PIN]
    assert pin_events[-1].data == {"target": pinned_seq, "pinned": True}
    toggles = [e for e in events if e.kind == Kind.CHECKLIST and e.data.get("item") == item_id]
    assert toggles[-1].data["op"] == ("undone" if before else "done")


async def test_help_lists_every_key_of_the_table(repo, settings, clock) -> None:
    """Help is generated from the key table, as bound now: every key (pane keys included)
    with its text, and a keymap rebind shows the new key."""
    import dataclasses

    from warroom.widgets.keys import KEYS

    s = dataclasses.replace(settings, keymap={"note": "N", "pods.filter": "F"})
    room = mid_incident(repo, s, clock)
    app = WarRoomApp(s, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "HelpScreen"
        shown = {e.group: (e.keys, e.description) for e in app.screen.entries}
        for k in KEYS:
            assert shown[k.binding_id][1] == k.help, k.id
        assert shown["warroom.note"][0] == "N"
        assert shown["pods.filter"][0] == "F"
        assert shown["pods.sort"][0] == "."
        assert shown["warroom.promql"][0] == ":"


async def test_palette_runs_the_action(repo, settings, clock) -> None:
    room = WarRoom.declare(repo, settings, title="Palette", severity="P2", clock=clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Acknowledge")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
    kinds, events = store_kinds(repo, room.incident_id)
    assert kinds.count(Kind.ACK) == 1
    assert events[-1].kind == Kind.ACK and events[-1].actor == "ann"


async def test_palette_adds_a_note(repo, settings, clock) -> None:
    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Add a note")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press(*"via palette", "enter")
        await settle(app, pilot)
    _, events = store_kinds(repo, room.incident_id)
    assert events[-1].kind == Kind.NOTE and events[-1].text == "via palette"


async def test_keymap_from_settings_rebinds(repo, settings, clock, tmp_path) -> None:
    from warroom.settings import load_settings

    cfg = tmp_path / "k.toml"
    cfg.write_text('[kube]\nenabled = false\n[keymap]\nnote = "N"\n')
    s2 = load_settings(cfg, env={"USER": "ann"}, data_dir=settings.data_dir)
    room = mid_incident(repo, s2, clock)
    app = WarRoomApp(s2, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("n")  # no longer bound
        await pilot.pause()
        assert app.screen is app.main
        await pilot.press("N", *"rebound", "enter")
        await settle(app, pilot)
    _, events = store_kinds(repo, room.incident_id)
    assert events[-1].text == "rebound"


async def test_two_consoles_on_one_incident(repo, settings, clock) -> None:
    room_a = mid_incident(repo, settings, clock)
    room_b = WarRoom(repo.open(room_a.incident_id), settings, actor="scribe-bo", clock=clock)
    app_a = WarRoomApp(settings, repo=repo, room=room_a, clock=clock)
    app_b = WarRoomApp(settings, repo=repo, room=room_b, clock=clock)
    async with app_a.run_test(size=SIZE) as pa, app_b.run_test(size=SIZE) as pb:
        await settle(app_a, pa)
        await pa.press("n", *"seen by both", "enter")
        await settle(app_a, pa)
        # B follows the file (every 0.25 s); give it up to ~2 s of polls.
        for _ in range(20):
            await pb.pause(0.1)
            if any(r.text == "seen by both" for r in app_b.main.query_one(Timeline).rows):
                break
        rows_b = app_b.main.query_one(Timeline).rows
        assert rows_b[-1].text == "seen by both" and rows_b[-1].actor == "ann"
        await pb.press("n", *"reply from b", "enter")
        await settle(app_b, pb)
        for _ in range(20):
            await pa.pause(0.1)
            if app_a.main.query_one(Timeline).rows[-1].text == "reply from b":
                break
        assert app_a.main.query_one(Timeline).rows[-1].actor == "scribe-bo"
    with repo.open(room_a.incident_id, read_only=True) as s:
        assert s.verify().ok


async def test_escape_sequences_render_inert(repo, settings, clock) -> None:
    room = WarRoom.declare(
        repo,
        settings,
        title="evil \x1b]0;pwned\x07\x1b[31mred\x1b[0m title",
        severity="P0",
        clock=clock,
    )
    room.add_note("note \x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\ \x1b[2J end")
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        header = app.main.query_one(IncidentHeader).render().plain
        assert "evil red title" in header
        assert "\x1b" not in header and "\x07" not in header
        timeline = app.main.query_one(Timeline)
        strip = timeline.render_line(len(timeline.rows) - 1)  # all rows fit: no scroll
        text = "".join(seg.text for seg in strip)
        assert "note link  end" in text
        assert "\x1b" not in text and "\x07" not in text
        svg = app.export_screenshot()
        assert "pwned" not in svg


async def test_k_acknowledges_even_with_the_timeline_focused(repo, settings, clock) -> None:
    room = WarRoom.declare(repo, settings, title="ack me", severity="P0", clock=clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        assert app.focused is app.main.query_one(Timeline)
        await pilot.press("k")
        await settle(app, pilot)
    kinds, _ = store_kinds(repo, room.incident_id)
    assert kinds.count(Kind.ACK) == 1


async def test_notifications_are_inert_plain_text(repo, settings, clock) -> None:
    """A refusal quoting outside text (here a hostile checklist id from a widget intent) is
    shown as plain text: no markup styling, no escape sequences reaching the terminal."""
    from warroom.widgets.messages import ToggleRequested

    room = WarRoom.declare(repo, settings, title="toasts", severity="P1", clock=clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        app.post_message(ToggleRequested("[bold red]boom[/]\x1b]0;pwned\x07\x1b[2J"))
        await settle(app, pilot)
        [toast] = list(app._notifications)
        assert toast.markup is False and toast.title == "Not done"
        assert "[bold red]boom[/]" in toast.message  # shown as typed, not as markup
        assert "\x1b" not in toast.message and "\x07" not in toast.message
        await pilot.pause()
        assert "pwned" not in app.export_screenshot()


async def test_severity_picker_shows_criteria_starts_on_current_and_does_not_wrap(
    repo, settings, clock
) -> None:
    room = WarRoom.declare(repo, settings, title="Slow pages", severity="P3", clock=clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("s")
        await pilot.pause()
        screen = app.screen
        assert type(screen).__name__ == "SeverityScreen"
        levels = screen.query_one("#levels")
        assert levels.highlighted == 3  # P3, the current one
        await pilot.press("down", "down")  # at the bottom: stays on P3, never wraps to P0
        assert levels.highlighted == 3
        p0 = levels.get_option_at_index(0).prompt.plain
        assert "payments have stopped" in p0 and "respond 15m" in p0  # what P0 means
        await pilot.press("up", "up", "enter")  # P1
        await pilot.pause()
        await pilot.press("enter")  # no reason yet: nothing recorded, it still asks
        await pilot.pause()
        assert type(app.screen).__name__ == "SeverityScreen"
        await pilot.press(*"checkout errors 30%", "enter")
        await settle(app, pilot)
    [change] = [e for e in room.store.events() if e.kind == Kind.SEVERITY]
    assert change.data["to"] == "P1" and change.data["reason"] == "checkout errors 30%"


async def test_the_palette_offers_every_key_and_runs_a_pane_key_on_its_row(
    repo, settings, clock
) -> None:
    """Pane keys (pin an event, tick an item, a pod's logs) are in the palette too, named by
    their pane; run from there they act on the row under that pane's cursor."""
    from warroom.widgets.keys import KEYS

    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        titles = [c.title for c in app.get_system_commands(app.main)]
        for k in KEYS:
            if k.id != "help":
                assert any(k.help in t for t in titles), k.id
        assert "Timeline: Pin or unpin the event" in titles
        timeline = app.main.timeline
        last = timeline.rows[-1].seq
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Pin or unpin")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(app, pilot)
    _, events = store_kinds(repo, room.incident_id)
    assert events[-1].kind == Kind.PIN and events[-1].data.get("target") == last
