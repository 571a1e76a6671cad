"""KeyedTable (the deployments and nodes views) sets its row order the way DataTable.sort() does,
through DataTable internals; these tests pin what that must keep doing on the installed Textual:
the rows drawn on screen follow the order, a watch delta re-sorts without clearing, and a row
chosen on purpose stays chosen through re-sorts, filtering and removals."""

from __future__ import annotations

import dataclasses

from textual.app import App, ComposeResult

from warroom.widgets.workloads_pane import WorkloadsTable
from warroom.workloads import WorkloadRow


def row(name: str, healthy: bool = True, ready: int = 3) -> WorkloadRow:
    return WorkloadRow(
        uid=f"uid-{name}",
        kind="Deployment",
        namespace="shop",
        name=name,
        desired=3,
        ready=ready,
        updated=3,
        available=ready,
        images=(f"registry.example/{name}:1.0",),
        revision="1",
        rollout="complete" if healthy else "progressing: 1 of 3 updated",
        paused=False,
        generation=1,
        observed=1,
        created_at=None,
        restarted_at="",
        selector=(("app", name),),
        healthy=healthy,
    )


class Host(App):
    def compose(self) -> ComposeResult:
        yield WorkloadsTable(id="t")


def drawn(table: WorkloadsTable) -> list[str]:
    """The NAME column of each row as drawn on screen, top to bottom (header excluded)."""
    names = {r.name for r in table.all_rows.values()}
    out = []
    for y in range(1, table.size.height):
        words = table.render_line(y).text.split()
        out += [w for w in words if w in names]
    return out


def cleared_guard(table: WorkloadsTable) -> list[int]:
    calls: list[int] = []
    table.clear = lambda *a, **k: calls.append(1)  # type: ignore[method-assign]
    return calls


async def test_rows_are_drawn_in_sort_order_and_a_delta_resorts_without_clearing() -> None:
    app = Host()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(WorkloadsTable)
        cleared = cleared_guard(table)
        rows = {r.uid: r for r in (row("cart"), row("api"), row("web"))}
        table.set_rows(rows)
        await pilot.pause()
        assert drawn(table) == ["api", "cart", "web"]
        # web goes unhealthy: unhealthy first, only that row changed.
        bad = row("web", healthy=False, ready=1)
        table.apply_delta({bad.uid: bad}, [bad.uid])
        await pilot.pause()
        assert drawn(table) == ["web", "api", "cart"]
        assert [table.get_row_at(i)[2].plain for i in range(3)] == ["web", "api", "cart"]
        # A removal and an addition in one delta.
        new = row("auth")
        table.apply_delta({new.uid: new}, [new.uid], removed=["uid-api"])
        await pilot.pause()
        assert drawn(table) == ["web", "auth", "cart"]
        assert cleared == []


async def test_a_row_chosen_on_purpose_stays_chosen_through_resorts() -> None:
    """What a drill script or the palette relies on: select(uid) then a key acts on that row,
    whatever the watch reorders in between."""
    app = Host()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(WorkloadsTable)
        table.set_rows({r.uid: r for r in (row("a"), row("b"), row("c"), row("d"))})
        await pilot.pause()
        assert table.select("uid-c") and table.selected_uid() == "uid-c"
        for name in ("d", "a", "b"):  # each goes unhealthy, moving above c
            bad = row(name, healthy=False, ready=0)
            table.apply_delta({bad.uid: bad}, [bad.uid])
            await pilot.pause()
            assert table.selected_uid() == "uid-c"
        assert table.cursor_row == 3 and drawn(table)[3] == "c"
        table.apply_filter("c")  # filtered down to it: still the chosen row
        assert table.selected_uid() == "uid-c"
        table.apply_filter("")
        assert table.selected_uid() == "uid-c" and len(drawn(table)) == 4
        # The chosen row goes away: the cursor stays in range, on a shown row.
        table.apply_delta({}, [], removed=["uid-c"])
        await pilot.pause()
        assert table.selected_uid() in {"uid-a", "uid-b", "uid-d"}
        assert not table.select("uid-c")


async def test_unchanged_rows_are_not_rewritten() -> None:
    app = Host()
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(WorkloadsTable)
        rows = {r.uid: r for r in (row("a"), row("b"))}
        table.set_rows(rows)
        await pilot.pause()
        updates: list[tuple] = []
        real = table.update_cell
        table.update_cell = lambda *a, **k: (updates.append(a), real(*a, **k))  # type: ignore[method-assign]
        same = dataclasses.replace(rows["uid-a"])  # equal, another object
        table.apply_delta({same.uid: same}, [same.uid])
        assert updates == []
        fewer = row("a", ready=2)
        table.apply_delta({fewer.uid: fewer}, [fewer.uid])
        assert {(a[0], a[1]) for a in updates} == {("uid-a", "ready"), ("uid-a", "available")}
