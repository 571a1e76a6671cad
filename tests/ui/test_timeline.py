"""The timeline widget on its own: growing without re-laying out the screen."""

from textual.app import App, ComposeResult

from warroom.model import Kind
from warroom.widgets.timeline import Timeline, TimelineRow


def rows(start: int, n: int) -> list[TimelineRow]:
    return [
        TimelineRow(
            seq=i, time="10:00:00", kind=Kind.POD, actor="kubernetes", text=f"pod-{i} entered Error"
        )
        for i in range(start, start + n)
    ]


class TimelineApp(App):
    def compose(self) -> ComposeResult:
        yield Timeline(id="timeline")


async def test_new_rows_scroll_and_follow_without_a_screen_layout() -> None:
    """Pod transitions arrive a few times a second during a restart storm; each batch used to
    re-lay out the whole screen (virtual_size is a layout reactive). Only the scrollbar and
    the view should change, and the timeline keeps following the end."""
    app = TimelineApp()
    async with app.run_test(size=(80, 12)) as pilot:
        timeline = app.query_one(Timeline)
        timeline.add_rows(rows(1, 30))  # more than fit: the scrollbar appears (a layout)
        await pilot.pause()
        layouts = []
        screen = app.screen
        refresh_layout = screen._refresh_layout

        def counted(*args, **kwargs):
            layouts.append(args)
            return refresh_layout(*args, **kwargs)

        screen._refresh_layout = counted
        timeline.add_rows(rows(31, 20))
        await pilot.pause()
        assert layouts == []
        assert timeline.virtual_size.height == 50
        assert timeline.vertical_scrollbar.window_virtual_size == 50
        assert timeline.scroll_offset.y == 50 - timeline.size.height  # following the end
        last = "".join(seg.text for seg in timeline.render_line(timeline.size.height - 1))
        assert "pod-50 entered Error" in last


def line(timeline: Timeline, y: int) -> str:
    return "".join(seg.text for seg in timeline.render_line(y))


async def test_reading_above_says_how_many_new_events_arrived_and_g_follows_again() -> None:
    app = TimelineApp()
    async with app.run_test(size=(80, 12)) as pilot:
        timeline = app.query_one(Timeline)
        timeline.focus()
        timeline.add_rows(rows(1, 30))
        await pilot.pause()
        await pilot.press("up", "up", "up")
        timeline.add_rows(rows(31, 4))
        await pilot.pause()
        bottom = line(timeline, timeline.size.height - 1)
        assert "↓ 4 new events below · end or G to follow" in bottom
        assert timeline.cursor == 26  # the reader's place is kept
        timeline.add_rows(rows(35, 1))
        assert "↓ 5 new events below" in line(timeline, timeline.size.height - 1)
        await pilot.press("G")
        await pilot.pause()
        assert timeline.cursor == 34 and timeline.unseen == 0
        assert "pod-35 entered Error" in line(timeline, timeline.size.height - 1)
        timeline.add_rows(rows(36, 1))  # following again: the newest is on screen
        await pilot.pause()
        assert "pod-36 entered Error" in line(timeline, timeline.size.height - 1)
        await pilot.press("up")
        timeline.add_rows(rows(37, 1))
        await pilot.press("end")
        assert timeline.unseen == 0 and "new event" not in line(timeline, timeline.size.height - 1)


async def test_update_rows_lead_with_kind_and_audience() -> None:
    app = TimelineApp()
    async with app.run_test(size=(120, 6)) as pilot:
        timeline = app.query_one(Timeline)
        timeline.add_rows(
            [
                TimelineRow(
                    1, "10:00:00", Kind.UPDATE, "ann", "Severity: P1", badge="Notification → ops"
                )
            ]
        )
        await pilot.pause()
        assert " Notification → ops  Severity: P1" in line(timeline, 0)


async def test_a_cut_row_ends_in_an_ellipsis() -> None:
    """A row wider than the pane says it is cut (its full text is in the details line)."""
    app = TimelineApp()
    async with app.run_test(size=(60, 6)) as pilot:
        timeline = app.query_one(Timeline)
        long = "alert CheckoutHighErrorRate [critical] fired: checkout-api is failing"
        timeline.add_rows([TimelineRow(1, "10:00:00", Kind.ALERT, "alertmanager", long)])
        timeline.add_rows(rows(2, 1))
        await pilot.pause()
        cut, whole = line(timeline, 0), line(timeline, 1)
        width = timeline.size.width
        assert len(cut) == width and cut.endswith("… ") and "CheckoutHighErr" in cut
        assert "pod-2 entered Error" in whole and "…" not in whole


async def test_the_ellipsis_is_beside_the_scrollbar_not_under_it() -> None:
    app = TimelineApp()
    async with app.run_test(size=(60, 6)) as pilot:
        timeline = app.query_one(Timeline)
        long = [TimelineRow(i, "10:00:00", Kind.NOTE, "ann", "x" * 80) for i in range(1, 21)]
        timeline.add_rows(long)
        await pilot.pause()
        assert timeline.show_vertical_scrollbar and not timeline.show_horizontal_scrollbar
        shown = line(timeline, 0)
        assert len(shown) == timeline.size.width - 2  # the scrollbar's two cells are apart
        assert shown.endswith("… ")
