"""The pods table fits the pane (issue #15): columns drop by priority before any is cut, NAME
is cut in the middle keeping the pod's hash suffix, STATUS never goes. Snapshots of the
console at three terminal sizes show the pods pane as a responder sees it."""

from dataclasses import replace
from datetime import timedelta

import pytest

from warroom.console.app import WarRoomApp
from warroom.widgets.columns import REQUIRED, Column, fit_columns, middle_ellipsis
from warroom.widgets.pods_pane import PodsTable, PodTableRow, name_tail
from warroom.widgets.source_status import SourceState

from .conftest import mid_incident

COLS = (
    Column("mark", " ", max_width=1),
    Column("name", "NAME", min_width=22, overflow="middle"),
    Column("ready", "READY", priority=4),
    Column("status", "STATUS"),
    Column("restarts", "RESTARTS", priority=3),
    Column("age", "AGE", priority=2),
    Column("node", "NODE", priority=1),
)
NATURAL = [1, 40, 5, 16, 11, 5, 20]  # sum 98, plus 6 gaps: 104


def shown(widths: list[int | None]) -> list[str]:
    return [c.key for c, w in zip(COLS, widths, strict=True) if w is not None]


def test_everything_fits_at_natural_width() -> None:
    assert fit_columns(COLS, NATURAL, 104) == NATURAL


def test_node_then_age_then_restarts_drop_before_name_is_cut() -> None:
    assert shown(fit_columns(COLS, NATURAL, 103)) == [
        "mark", "name", "ready", "status", "restarts", "age",
    ]  # fmt: skip
    w = fit_columns(COLS, NATURAL, 103)
    assert w[1] == 40  # NAME whole: NODE went first
    assert shown(fit_columns(COLS, NATURAL, 82)) == ["mark", "name", "ready", "status", "restarts"]
    assert shown(fit_columns(COLS, NATURAL, 76)) == ["mark", "name", "ready", "status"]
    assert shown(fit_columns(COLS, NATURAL, 64)) == ["mark", "name", "status"]
    w = fit_columns(COLS, NATURAL, 50)  # everything droppable is gone: now NAME is cut
    assert shown(w) == ["mark", "name", "status"] and w[1] == 50 - 1 - 16 - 2


def test_required_columns_are_never_dropped_and_name_stops_at_its_minimum() -> None:
    w = fit_columns(COLS, NATURAL, 20)
    assert shown(w) == ["mark", "name", "status"]
    assert w[1] == 22 and w[3] == 16  # not cut below min_width; STATUS never cut
    assert all(c.priority == REQUIRED for c, x in zip(COLS, w, strict=True) if x is not None)


@pytest.mark.parametrize(
    ("name", "width", "expected"),
    [
        ("checkout-api-59965679df-d8d2v", 22, "chec…-59965679df-d8d2v"),
        ("recommendation-engine-canary-v2-5c7d9b8f4d-qwxzt", 24, "recomm…-5c7d9b8f4d-qwxzt"),
        ("redis-cart-0", 22, "redis-cart-0"),
        ("node-exporter-daemon-set-abcde-x7k2p", 20, "node-expor…cde-x7k2p"),
    ],
)
def test_a_cut_name_keeps_its_controller_suffix(name: str, width: int, expected: str) -> None:
    cut = middle_ellipsis(name, width, name_tail(name))
    assert cut == expected and len(cut) <= width


NAMES = [
    ("checkout-api-59965679df-d8d2v", "CrashLoopBackOff", False, "7", "node-pool-a-3f2a9c1e-7xkq"),
    ("checkout-api-59965679df-k4m2p", "Running", True, "0", "node-pool-a-3f2a9c1e-2bzt"),
    ("recommendation-engine-canary-v2-5c7d9b8f4d-qwxzt", "Pending", False, "0", ""),
    ("inventory-7b9c8d6f5-x2k4q", "Running", True, "1", "node-pool-b-9e81d07a-m3kd"),
    ("redis-cart-0", "Terminating", False, "0", "node-pool-b-9e81d07a-m3kd"),
    ("frontend-66bd7c9f8-q2zrt", "Running", True, "0", "node-pool-a-3f2a9c1e-7xkq"),
]


def pods_console(repo, settings, clock) -> WarRoomApp:
    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False, poll_sources=False)
    now = clock()
    rows = {}
    for i, (name, status, healthy, restarts, node) in enumerate(NAMES):
        rows[f"u{i}"] = PodTableRow(
            uid=f"u{i}",
            namespace="shop",
            name=name,
            ready="1/1" if healthy else "0/1",
            status=status,
            restarts=restarts,
            age="-",
            node=node,
            healthy=healthy,
            created_at=now - timedelta(hours=3, minutes=i),
            last_restart_at=now - timedelta(seconds=42) if restarts != "0" else None,
        )

    app.test_rows = rows  # type: ignore[attr-defined]
    return app


async def _fed(pilot) -> None:
    app = pilot.app
    await pilot.pause()
    table = app.main.query_one(PodsTable)
    table.display = True
    table.set_rows(app.test_rows)
    app.main.pods_status.show(SourceState("live", since=app.session.clock(), summary="3/6"))
    await pilot.press("2")
    await pilot.pause()


@pytest.mark.parametrize("size", [(100, 30), (160, 48), (220, 60)])
def test_pods_pane_fits_the_terminal(snap_compare, repo, settings, clock, size) -> None:
    app = pods_console(repo, settings, clock)
    assert snap_compare(app, terminal_size=size, run_before=_fed)


async def test_the_pane_drops_node_age_restarts_first_and_keeps_the_suffix(
    repo, settings, clock
) -> None:
    app = pods_console(repo, settings, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await _fed(pilot)
        table = app.main.query_one(PodsTable)
        lines = ["".join(s.text for s in table.render_line(y)) for y in range(4)]
        assert "NODE" not in lines[0] and "AGE" not in lines[0] and "RESTARTS" not in lines[0]
        assert "STATUS" in lines[0] and "NAME" in lines[0]
        assert "CrashLoopBackOff" in lines[1] and "-59965679df-d8d2v" in lines[1]
        assert any("…-5c7d9b8f4d-qwxzt" in line for line in lines)
    app = pods_console(repo, settings, clock)
    async with app.run_test(size=(180, 40)) as pilot:
        await _fed(pilot)
        table = app.main.query_one(PodsTable)
        header = "".join(s.text for s in table.render_line(0))
        # The pane is ~88 wide: NODE, then AGE went; RESTARTS stays, NAME is whole.
        assert all(label in header for label in ("NAME", "READY", "STATUS", "RESTARTS"))
        assert "NODE" not in header and "AGE" not in header
        row = "".join(s.text for s in table.render_line(1))
        assert "checkout-api-59965679df-d8d2v" in row and "7 (42s ago)" in row
    app = pods_console(repo, settings, clock)
    async with app.run_test(size=(220, 60)) as pilot:
        await _fed(pilot)
        table = app.main.query_one(PodsTable)
        header = "".join(s.text for s in table.render_line(0))
        # The pane is ~118 wide: every column fits, nothing is cut.
        labels = ("NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE")
        assert all(label in header for label in labels)
        row = "".join(s.text for s in table.render_line(1))
        assert "checkout-api-59965679df-d8d2v" in row and "node-pool-a-3f2a9c1e-7xkq" in row


async def test_columns_fit_beside_the_scrollbar(repo, settings, clock) -> None:
    """More pods than lines: the scrollbar takes two cells of the pane, and the columns fit
    what is left (seen in a drill at 100x30: STATUS read "CrashLoopBackOf")."""
    app = pods_console(repo, settings, clock)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        table = app.main.query_one(PodsTable)
        table.display = True
        rows = dict(app.test_rows)
        for i in range(20):  # more rows than the pane has lines
            rows[f"x{i}"] = replace(rows["u1"], uid=f"x{i}", name=f"web-7d9f8c6b5-{i:05d}")
        table.set_rows(rows)
        await pilot.press("2")
        await pilot.pause()
        inside = table.scrollable_content_region.width
        assert inside == table.size.width - 2  # the scrollbar is there
        lines = ["".join(s.text for s in table.render_line(y)) for y in range(3)]
        assert all(len(line) == inside for line in lines)
        assert "CrashLoopBackOff" in lines[1] and lines[1].rstrip().endswith("CrashLoopBackOff")
