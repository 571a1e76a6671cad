"""The deployments and nodes views (KeyedTable on VirtualTable): the rows drawn on screen follow
the order (unhealthy first), a watch delta moves only the rows it names, a row chosen on purpose
stays chosen through re-sorts, filters and removals, an unchanged row is not drawn again, the
ages tick, the per-row key rules hold (refused unbinds, denied greys, no scale on a DaemonSet),
and the columns fit the pane with the names readable."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult
from textual.widget import Widget

from warroom.nodes import NodeRow
from warroom.widgets.columns import middle_ellipsis
from warroom.widgets.keyed_table import KubeAction
from warroom.widgets.nodes_pane import MutableNodesTable, NodesTable
from warroom.widgets.workloads_pane import MutableWorkloadsTable, WorkloadsTable
from warroom.workloads import WorkloadRow

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def row(name: str, healthy: bool = True, ready: int = 3, kind: str = "Deployment") -> WorkloadRow:
    return WorkloadRow(
        uid=f"uid-{name}",
        kind=kind,
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
        created_at=NOW - timedelta(minutes=5),
        restarted_at="",
        selector=(("app", name),),
        healthy=healthy,
    )


def node(name: str, status: str = "Ready", healthy: bool = True) -> NodeRow:
    return NodeRow(
        uid=f"uid-{name}",
        name=name,
        status=status,
        pressures=(),
        pods=12,
        ours=4,
        max_pods=58,
        cpu_used_m=3000,
        cpu_m=3920,
        mem_used=2**33,
        memory=2**34,
        created_at=NOW - timedelta(days=3),
        healthy=healthy,
        unschedulable="SchedulingDisabled" in status,
        reason="",
    )


class Host(App):
    def __init__(self, table: Widget) -> None:
        super().__init__()
        self.table = table

    def compose(self) -> ComposeResult:
        yield self.table


def lines(table: Widget) -> list[str]:
    return [table.render_line(y).text for y in range(table.size.height)]


def drawn(table: WorkloadsTable) -> list[str]:
    """The NAME column of each row as drawn on screen, top to bottom (header excluded)."""
    names = {r.name for r in table.all_rows.values()}
    out = []
    for text in lines(table)[1:]:
        out += [w for w in text.split() if w in names]
    return out


async def test_rows_are_drawn_in_sort_order_and_a_delta_moves_only_its_rows() -> None:
    app = Host(WorkloadsTable(clock=lambda: NOW))
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(WorkloadsTable)
        table.set_rows({r.uid: r for r in (row("cart"), row("api"), row("web"))})
        await pilot.pause()
        assert drawn(table) == ["api", "cart", "web"]
        # web goes unhealthy: unhealthy first; only that row is looked at (sort key, cells).
        looked: list[str] = []
        real = table.sort_key
        table.sort_key = lambda col, r: (looked.append(r.name), real(col, r))[1]  # type: ignore[method-assign]
        bad = row("web", healthy=False, ready=1)
        table.apply_delta({bad.uid: bad}, [bad.uid])
        await pilot.pause()
        assert looked == ["web"]
        assert drawn(table) == ["web", "api", "cart"]
        assert [table.get_row_at(i)[2].plain for i in range(3)] == ["web", "api", "cart"]
        # A removal and an addition in one delta.
        new = row("auth")
        table.apply_delta({new.uid: new}, [new.uid], removed=["uid-api"])
        await pilot.pause()
        assert drawn(table) == ["web", "auth", "cart"]
        assert table.row_count == 3 and "uid-api" not in table.all_rows


async def test_a_row_chosen_on_purpose_stays_chosen_through_resorts() -> None:
    """What a drill script or the palette relies on: select(uid) then a key acts on that row,
    whatever the watch reorders in between."""
    app = Host(WorkloadsTable(clock=lambda: NOW))
    messages: list[KubeAction] = []
    hook = lambda m: isinstance(m, KubeAction) and messages.append(m)  # noqa: E731
    async with app.run_test(size=(100, 12), message_hook=hook) as pilot:
        table = app.query_one(WorkloadsTable)
        table.set_rows({r.uid: r for r in (row("a"), row("b"), row("c"), row("d"))})
        await pilot.pause()
        assert table.selected_uid() == "uid-a"  # the top row until the user moves
        assert table.select("uid-c") and table.selected_uid() == "uid-c"
        for name in ("d", "a", "b"):  # each goes unhealthy, moving above c
            bad = row(name, healthy=False, ready=0)
            table.apply_delta({bad.uid: bad}, [bad.uid])
            await pilot.pause()
            assert table.selected_uid() == "uid-c"
        assert table.cursor_row == 3 and drawn(table)[3] == "c"
        await pilot.press("enter")  # its pods: the action names the chosen row
        assert {(m.view, m.verb, m.uid) for m in messages} == {("workloads", "pods", "uid-c")}
        table.apply_filter("c")  # filtered down to it: still the chosen row
        assert table.selected_uid() == "uid-c" and str(table.border_subtitle) == "filter: c"
        table.apply_filter("")
        assert table.selected_uid() == "uid-c" and len(drawn(table)) == 4
        # The chosen row goes away: the cursor stays in range, on a shown row.
        table.apply_delta({}, [], removed=["uid-c"])
        await pilot.pause()
        assert table.selected_uid() in {"uid-a", "uid-b", "uid-d"}
        assert not table.select("uid-c")


async def test_unchanged_rows_are_not_drawn_again() -> None:
    """A watch rebuilds rows equal to those held as new objects (the nodes view builds every
    row again on each snapshot): their drawn lines are kept; a changed row is drawn again,
    alone."""
    app = Host(WorkloadsTable(clock=lambda: NOW))
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(WorkloadsTable)
        rows = {r.uid: r for r in (row("a"), row("b"))}
        table.set_rows(rows)
        await pilot.pause()
        before = [table.render_line(y) for y in (1, 2)]
        cells = table.get_row("uid-a")
        same = {uid: dataclasses.replace(r) for uid, r in rows.items()}  # equal, new objects
        table.set_rows(same)
        table.apply_delta({"uid-a": same["uid-a"]}, ["uid-a"])
        assert table.all_rows["uid-a"] is rows["uid-a"]
        after = [table.render_line(y) for y in (1, 2)]
        assert all(a is b for a, b in zip(before, after, strict=True))  # not drawn again
        assert table.get_row("uid-a") is cells
        fewer = row("a", ready=2)
        table.apply_delta({fewer.uid: fewer}, [fewer.uid])
        assert table.render_line(1) is not before[0] and table.render_line(2) is before[1]
        assert [c.plain for c in table.get_row("uid-a")][3:6] == ["2/3", "3", "2"]


async def test_ages_tick_without_a_delta() -> None:
    now = [NOW]
    app = Host(NodesTable(clock=lambda: now[0]))
    async with app.run_test(size=(160, 8)) as pilot:
        table = app.query_one(NodesTable)
        table.set_rows({"uid-n1": node("n1")})
        await pilot.pause()
        assert lines(table)[1].rstrip().endswith("3d00h")
        now[0] = NOW + timedelta(hours=2)
        table.tick()
        assert lines(table)[1].rstrip().endswith("3d02h")


async def test_keys_per_row_refused_unbinds_denied_greys_and_kind_rules() -> None:
    app = Host(MutableWorkloadsTable(clock=lambda: NOW))
    async with app.run_test(size=(100, 12)) as pilot:
        table = app.query_one(MutableWorkloadsTable)
        ds, sts = row("agent", kind="DaemonSet"), row("redis", kind="StatefulSet")
        table.set_rows({r.uid: r for r in (row("api"), ds, sts)})
        table.focus()
        await pilot.pause()

        def allowed() -> dict[str, bool | None]:
            return {v: table.check_action("act", (v,)) for v in sorted(table.MUTATING)}

        assert table.selected().name == "agent"  # a DaemonSet: neither scale nor pause
        assert allowed() == {"pause": False, "restart": True, "rollback": True, "scale": False}
        table.select(sts.uid)
        assert allowed() == {"pause": False, "restart": True, "rollback": True, "scale": True}
        table.refused = lambda r, verb: "not in kube.mutate_namespaces" if r is sts else None
        table.denied = lambda r, verb: "RBAC" if verb == "restart" else None
        assert set(allowed().values()) == {False}  # refused: not bound on that row
        await pilot.press("up")  # on api: RBAC greys restart, the others stay
        assert table.selected().name == "api"
        assert allowed() == {"pause": True, "restart": None, "rollback": True, "scale": True}
        assert "c" in app.screen.active_bindings and table.check_action("act", ("pods",))


async def test_columns_fit_a_narrow_pane_name_and_status_first() -> None:
    """At 100x30 the Kubernetes pane is ~48 cells wide: AGE and the amounts go, the node's
    host name and its status stay readable, nothing is cropped at the border."""
    app = Host(NodesTable(clock=lambda: NOW))
    async with app.run_test(size=(46, 6)) as pilot:
        table = app.query_one(NodesTable)
        names = [f"ip-10-0-{i}-1{i}.eu-west-1.compute.internal" for i in (1, 2)]
        table.set_rows(
            {
                "uid-a": node(names[0]),
                "uid-b": node(names[1], "Ready,SchedulingDisabled"),
            }
        )
        await pilot.pause()
        header, first, second = lines(table)[:3]
        assert header.split() == ["NAME", "STATUS", "CPU%", "MEM%"]
        # The name is cut to its host before the status is cut; the percentages stay whole.
        assert first.split() == ["ip-10-0-1-11.…", "Ready", "77%", "50%"]
        assert second.split() == ["ip-10-0-2-12.…", "Ready,SchedulingD…", "77%", "50%"]
        # A cell of margin: "50%" does not stand against the pane's border, as if cut.
        assert table.render_line(2).cell_length == table.outer_size.width - 1
        table.set_rows({"uid-a": node(names[0])})  # uncordoned: by the next tick the name
        table.tick()  # gets the room back
        await pilot.pause()
        assert lines(table)[1].split() == ["ip-10-0-1-11.…ute.internal", "Ready", "77%", "50%"]
    app = Host(WorkloadsTable(clock=lambda: NOW))
    async with app.run_test(size=(46, 6)) as pilot:
        table = app.query_one(WorkloadsTable)
        table.set_rows({r.uid: r for r in (row("checkout-api"), row("cart", healthy=False))})
        await pilot.pause()
        header, first, second = lines(table)[:3]
        # A rollout in progress takes the room: KIND goes, then the rollout's words are cut.
        assert header.split() == ["NAME", "READY", "ROLLOUT"]
        assert first == "● cart         3/3   progressing: 1 of 3 upd…"
        assert second.split() == ["checkout-api", "3/3", "complete"]
        table.set_rows({r.uid: r for r in (row("checkout-api"), row("cart"))})
        table.tick()  # the rollout complete: KIND is back by the next tick
        await pilot.pause()
        assert lines(table)[1].split() == ["deploy", "cart", "3/3", "complete"]


def test_a_node_name_is_cut_keeping_what_tells_nodes_apart() -> None:
    fqdn = "ip-10-0-1-17.eu-west-1.compute.internal"
    assert middle_ellipsis(fqdn, 14, head=12) == "ip-10-0-1-17.…"
    assert middle_ellipsis(fqdn, 30, head=12) == "ip-10-0-1-17.eu…mpute.internal"
    assert middle_ellipsis("gke-prod-default-pool-3f2a1b2c-x7k9", 16, tail=5) == "gke-prod…2c-x7k9"


async def test_filter_by_label_selector_and_a_wide_pane_shows_every_column() -> None:
    app = Host(MutableNodesTable(clock=lambda: NOW))
    async with app.run_test(size=(160, 6)) as pilot:
        table = app.query_one(MutableNodesTable)
        table.set_rows({"uid-n1": node("n1")})
        await pilot.pause()
        assert lines(table)[0].split() == [
            *("NAME", "STATUS", "CPU%", "MEM%", "PODS", "PRESSURE", "CPU", "req/alloc"),
            *("MEM", "req/alloc", "AGE"),
        ]
        assert lines(table)[1].split() == [
            *("n1", "Ready", "77%", "50%", "4/12", "-", "3/3.9", "8.0Gi/16.0Gi", "3d00h")
        ]
    app = Host(WorkloadsTable(clock=lambda: NOW))
    async with app.run_test(size=(160, 6)) as pilot:
        table = app.query_one(WorkloadsTable)
        table.set_rows({r.uid: r for r in (row("cart"), row("web"))})
        table.apply_filter("-l app=web")
        await pilot.pause()
        assert drawn(table) == ["web"] and table.row_count == 1
        assert lines(table)[1].split() == [
            *("deploy", "web", "3/3", "3", "3", "web:1.0", "1", "complete", "5m00s")
        ]
