"""Snapshots of each screen with a fixed clock and fixed data (pytest-textual-snapshot).

Regenerate after an intended change with `pytest tests/ui --snapshot-update`, then look at the
SVGs (rsvg-convert turns them into PNGs) before committing them.
"""

from warroom.console.app import WarRoomApp

from .conftest import mid_incident

SIZE = (140, 44)


def test_declare_dialog(snap_compare, repo, settings, clock) -> None:
    app = WarRoomApp(settings, repo=repo, clock=clock, follow=False, poll_sources=False)
    assert snap_compare(app, terminal_size=SIZE, press=[*"Checkout down"])


def test_main_screen_mid_incident(snap_compare, repo, settings, clock) -> None:
    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False, poll_sources=False)
    assert snap_compare(app, terminal_size=SIZE)


def test_help_screen(snap_compare, repo, settings, clock) -> None:
    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False, poll_sources=False)
    assert snap_compare(app, terminal_size=SIZE, press=["question_mark"])


async def _settled(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_overdue_update(snap_compare, repo, settings, clock) -> None:
    room = mid_incident(repo, settings, clock)
    clock.advance(minutes=47)  # P1 updates hourly: the first one is now 12 minutes late
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False, poll_sources=False)
    # The crossed deadline is written to the timeline and raised as a notification.
    assert snap_compare(app, terminal_size=SIZE, run_before=_settled)


def test_evidence_in_progress(snap_compare, repo, settings, clock) -> None:
    """The docked progress line while a bundle is collected; the panes stay usable above it.
    A hostile pod name in the step text renders inert."""
    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False, poll_sources=False)

    async def collecting(pilot) -> None:
        from warroom.widgets.evidence_progress import EvidenceProgress

        await pilot.pause()  # the main screen is composed
        bar = pilot.app.main.query_one(EvidenceProgress)
        bar.start("shop (incident-wide)")
        bar.progress(0.42, "logs of checkout-api-7d9f\x1b[2J\x1b]0;owned\x07 (previous run)")
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=collecting)
