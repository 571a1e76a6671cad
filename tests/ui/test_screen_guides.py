"""The screen guides the commander: zoom, the full text of a cut timeline row, the focused
pane's keys first in the footer, update rows that say what and to whom."""

import pytest
from textual.widgets._footer import FooterKey

from tests.support import UI_SIZE as SIZE
from tests.support import settle, settle_actions
from warroom.console.app import WarRoomApp
from warroom.widgets.timeline import Timeline, TimelineDetails

from .conftest import mid_incident


def footer_keys(app) -> list[str]:
    return [k.key for k in app.main.query(FooterKey)]


async def test_z_zooms_the_focused_pane_and_escape_restores(repo, settings, clock) -> None:
    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("4")  # the checklist
        await pilot.press("z")
        await pilot.pause()
        pane = app.main.query_one("#checklist-pane")
        assert app.main.maximized is pane
        assert pane.outer_size.width == SIZE[0]  # the whole width
        assert app.main.query_one("#header").display  # the header stays
        await pilot.press("z")
        await pilot.pause()
        assert app.main.maximized is None
        await pilot.press("3", "z")
        await pilot.pause()
        assert app.main.maximized is app.main.query_one("#timeline-pane")
        await pilot.press("escape")
        await pilot.pause()
        assert app.main.maximized is None


async def test_a_cut_timeline_row_shows_its_full_text_below(repo, settings, clock) -> None:
    room = mid_incident(repo, settings, clock)
    long = "Root cause: " + " ".join(f"word{i}" for i in range(60)) + " THE-END"
    room.add_note(long)
    room.add_note("short")
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        details = app.main.query_one(TimelineDetails)
        await pilot.press("3")  # the cursor is on "short": it fits
        await pilot.pause()
        assert not details.display
        await pilot.press("up", "up")
        await pilot.pause()
        timeline = app.main.query_one(Timeline)
        print(timeline.size, timeline.rows[timeline.cursor])
        assert details.display
        shown = str(details.render())
        assert "THE-END" in shown and "word59" in shown
        await pilot.press("2")  # focus elsewhere: the details go
        await pilot.pause()
        assert not details.display


async def test_the_footer_shows_the_focused_panes_keys_first(repo, settings, clock) -> None:
    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await pilot.pause()
        keys = footer_keys(app)
        assert set(keys[:3]) == {"enter", "p", "end"} and keys[3:5] == ["question_mark", "q"]
        await pilot.press("4")
        await pilot.pause()
        keys = footer_keys(app)
        assert keys[:3] == ["space", "question_mark", "q"], keys
        assert "n" in keys  # the incident keys follow


async def test_update_rows_say_what_and_to_whom_and_drop_the_drill_banner(
    repo, settings, clock
) -> None:
    from warroom.actions.updates import compose, post

    room = declare_drill_room(repo, settings, clock)
    kind, text = compose(room, clock())
    assert text.startswith("[DRILL] This is an exercise")
    post(room, text, kind, clock(), None)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        row = next(r for r in app.main.query_one(Timeline).rows if r.kind == "update")
        assert row.badge == "Notification (recorded only)"
        assert row.text.startswith("Severity: P2 (medium) · Status: investigating")
        assert "[DRILL]" not in row.text and "INCIDENT NOTIFICATION" not in row.text


def declare_drill_room(repo, settings, clock):
    from warroom.room import WarRoom

    return WarRoom.declare(repo, settings, title="Tabletop", severity="P2", clock=clock, drill=True)


async def test_the_drill_hint_stays_in_the_header_and_in_help(drill, settings, repo) -> None:
    """Two of the three scenarios want kubectl: the KUBECONFIG line must not vanish with a
    20-second toast."""
    from warroom.cli.drill import declare_drill, drill_settings

    s = drill_settings(settings, drill)
    room = declare_drill(repo, s, drill)
    app = WarRoomApp(s, repo=repo, room=room, world=drill, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle_actions(app, pilot)  # the drill's pod watch runs for the app's lifetime
        header = app.main.query_one("#header")
        assert header.data.drill_hint == f"KUBECONFIG={drill.kubeconfig_path}"
        assert f"KUBECONFIG={drill.kubeconfig_path}" in str(header.render())
        await pilot.press("question_mark")
        await pilot.pause()
        assert app.screen.intro[2] == f"  export KUBECONFIG={drill.kubeconfig_path}"
        assert app.screen.intro[3] == "  kubectl get pods -n shop"


async def test_the_header_keeps_status_and_elapsed_on_line_one_at_100_columns() -> None:
    """The title gives way; severity, status, elapsed time and the countdowns stay."""
    from datetime import UTC, datetime, timedelta

    from textual.app import App, ComposeResult

    from warroom.widgets.header import HeaderData, IncidentHeader

    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

    class One(App):
        def compose(self) -> ComposeResult:
            yield IncidentHeader(lambda: now, id="h")

    app = One()
    async with app.run_test(size=(100, 5)) as pilot:
        header = app.query_one(IncidentHeader)
        header.show(
            HeaderData(
                incident_id="DRILL-20261202-024038",
                title="Drill: Checkout crash-loops after a deploy and takes payments down with it",
                severity="P3",
                severity_name="low",
                status="investigating",
                declared_at=now - timedelta(seconds=20),
                next_update_at=now + timedelta(minutes=30),
                drill=True,
            )
        )
        await pilot.pause()
        lines = str(header.render()).split("\n")
        assert len(lines) == 3
        assert "INVESTIGATING  elapsed 20s" in lines[0] and "…" in lines[0]
        assert all(len(line) <= header.content_size.width for line in lines)
        assert lines[2].startswith("next update in 30m")


@pytest.mark.parametrize("size", [(100, 30), (160, 48), (220, 60)])
async def test_the_composer_shows_its_destinations_and_send_at_every_size(size) -> None:
    """At 100x30 the composer hid 'to:' and 'Send (ctrl+s)' below the screen's edge."""
    from textual.app import App
    from textual.widgets import Button, Label, TextArea

    from warroom.widgets.composer import ComposerScreen

    body = "\n".join(f"line {i}" for i in range(40))
    app = App()
    async with app.run_test(size=size) as pilot:
        app.push_screen(ComposerScreen("Status update", body, ["ops-webhook", "email: execs"]))
        await pilot.pause()
        screen = app.screen
        region = screen.region
        for widget in (screen.query_one("#to", Label), screen.query_one("#send", Button)):
            assert region.contains_region(widget.region), widget
        assert "ops-webhook" in str(screen.query_one("#to", Label).render())
        assert screen.query_one(TextArea).region.height >= 4


async def test_the_footer_shows_whole_keys_only_at_100_columns(repo, settings, clock) -> None:
    """'e Evidenc' at the right edge: entries that do not fit are left out whole (? lists them)."""
    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await pilot.pause()
        shown = app.main.query(FooterKey)
        assert shown and all(k.region.right <= 100 for k in shown)
        keys = [k.key for k in shown]
        assert {"enter", "p", "question_mark", "q"} <= set(keys)
        wide = len(keys)
        await pilot.resize_terminal(220, 40)
        await pilot.pause()
        await pilot.pause()
        assert len(footer_keys(app)) > wide  # room again: the rest come back
