"""`A` in the console: an action item with owner and due date, recorded through the room."""

from tests.support import UI_SIZE as SIZE
from tests.support import settle, store_kinds
from warroom.console.app import WarRoomApp
from warroom.model import Kind
from warroom.widgets.followup import ActionItemScreen

from .conftest import mid_incident


async def test_a_adds_an_action_item(repo, settings, clock) -> None:
    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("2", "A")  # from any pane
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ActionItemScreen)
        assert dialog.query_one("#due").value == "2026-11-29"  # a week from now by default
        await pilot.press(*"alert on pool exhaustion", "tab", *"@bob", "tab")
        await pilot.press("ctrl+a", "ctrl+k", *"2026-13-01", "enter")  # not a date: stays open
        await pilot.pause()
        assert app.screen is dialog and "Not a date" in str(dialog.query_one("#error").content)
        await pilot.press("ctrl+a", "ctrl+k", *"2026-12-08", "enter")
        await settle(app, pilot)
    _, events = store_kinds(repo, room.incident_id)
    last = events[-1]
    assert last.kind == Kind.ACTION_ITEM and last.actor == "ann"
    assert last.data == {
        "op": "add",
        "item": "A2",  # A1 is mid_incident's TODO note
        "text": "alert on pool exhaustion",
        "owner": "bob",
        "due": "2026-12-08",
    }


async def test_escape_adds_nothing(repo, settings, clock) -> None:
    room = mid_incident(repo, settings, clock)
    before = len(room.events)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("A", *"never mind", "escape")
        await settle(app, pilot)
    assert len(store_kinds(repo, room.incident_id)[1]) == before
