"""The pods table on its own: diffing by uid, unhealthy first, filter, sort, read-only keys."""

from textual.app import App, ComposeResult

from warroom.widgets.pods_pane import MutablePodsTable, PodAction, PodsTable, PodTableRow, matches


def row(name: str, status: str = "Running", healthy: bool = True, **kw) -> PodTableRow:
    return PodTableRow(
        uid=kw.pop("uid", f"uid-{name}"),
        namespace=kw.pop("namespace", "shop"),
        name=name,
        ready=kw.pop("ready", "1/1" if healthy else "0/1"),
        status=status,
        restarts=kw.pop("restarts", "0"),
        age=kw.pop("age", "3h"),
        node=kw.pop("node", "node-a"),
        healthy=healthy,
        labels=tuple(sorted(kw.pop("labels", {"app": name.rsplit("-", 2)[0]}).items())),
    )


MIXED = {
    r.uid: r
    for r in [
        row("cart-5d8f-x1"),
        row("checkout-api-7d9f-abcde", "CrashLoopBackOff", False, restarts="7 (42s ago)"),
        row("frontend-66b-q2"),
        row("payments-4c1-zz", "OOMKilled", False, restarts="2 (5m ago)"),
        row("search-9f-aa", "Pending", False, ready="0/1", node=""),
    ]
}


class TableApp(App):
    def __init__(self, table: PodsTable) -> None:
        super().__init__()
        self.table = table
        self.messages: list[PodAction] = []

    def compose(self) -> ComposeResult:
        yield self.table

    def on_pod_action(self, message: PodAction) -> None:
        self.messages.append(message)


def order(table: PodsTable) -> list[str]:
    return [
        table.get_row_at(i)[1 if not table.show_namespace else 2].plain
        for i in range(table.row_count)
    ]


async def test_unhealthy_first_and_diff_without_clear() -> None:
    table = MutablePodsTable(id="pods")
    app = TableApp(table)
    async with app.run_test(size=(120, 20)) as pilot:
        table.set_rows(dict(MIXED))
        await pilot.pause()
        names = order(table)
        assert names[:3] == ["checkout-api-7d9f-abcde", "payments-4c1-zz", "search-9f-aa"]
        assert set(names[3:]) == {"cart-5d8f-x1", "frontend-66b-q2"}
        cleared = []
        table.clear = lambda *a, **k: cleared.append(1)  # type: ignore[method-assign]
        # checkout heals, payments disappears, a new pod arrives
        update = dict(MIXED)
        update["uid-checkout-api-7d9f-abcde"] = row(
            "checkout-api-7d9f-abcde", restarts="7 (9m ago)"
        )
        del update["uid-payments-4c1-zz"]
        update["uid-new"] = row("checkout-api-7d9f-new", "ContainerCreating", False, uid="uid-new")
        table.set_rows(update)
        await pilot.pause()
        assert cleared == []
        names = order(table)
        assert names[0] == "checkout-api-7d9f-new"
        assert "payments-4c1-zz" not in names
        assert table.row_count == 5


async def test_filter_substring_and_label_selector() -> None:
    assert matches(MIXED["uid-cart-5d8f-x1"], "cart")
    assert not matches(MIXED["uid-cart-5d8f-x1"], "checkout")
    assert matches(MIXED["uid-cart-5d8f-x1"], "-l app=cart")
    assert not matches(MIXED["uid-cart-5d8f-x1"], "-l app=frontend")
    assert matches(MIXED["uid-cart-5d8f-x1"], "-l app!=frontend")
    assert matches(MIXED["uid-payments-4c1-zz"], "oomkilled")
    table = PodsTable(id="pods")
    app = TableApp(table)
    async with app.run_test(size=(120, 20)) as pilot:
        table.set_rows(dict(MIXED))
        table.apply_filter("checkout")
        await pilot.pause()
        assert order(table) == ["checkout-api-7d9f-abcde"]
        table.apply_filter("")
        await pilot.pause()
        assert table.row_count == 5


async def test_keys_post_actions_and_read_only_has_no_restart() -> None:
    table = MutablePodsTable(id="pods")
    app = TableApp(table)
    async with app.run_test(size=(120, 20)) as pilot:
        table.set_rows(dict(MIXED))
        table.focus()
        await pilot.pause()
        await pilot.press("r", "l", "ctrl+d")
        await pilot.pause()
        assert [(m.verb, m.uid) for m in app.messages] == [
            ("restart", "uid-checkout-api-7d9f-abcde"),
            ("logs", "uid-checkout-api-7d9f-abcde"),
            ("delete", "uid-checkout-api-7d9f-abcde"),
        ]
    ro = PodsTable(id="pods")
    app = TableApp(ro)
    async with app.run_test(size=(120, 20)) as pilot:
        ro.set_rows(dict(MIXED))
        ro.focus()
        await pilot.pause()
        assert "r" not in app.screen.active_bindings
        assert "ctrl+d" not in app.screen.active_bindings
        await pilot.press("r", "ctrl+d", "l")
        await pilot.pause()
        assert [m.verb for m in app.messages] == ["logs"]


async def test_sort_by_restarts_and_escape_sequences_inert() -> None:
    table = PodsTable(id="pods")
    app = TableApp(table)
    evil = row("evil\x1b]0;owned\x07\x1b[2Jpod", "CrashLoopBackOff", False, uid="evil")
    async with app.run_test(size=(120, 20)) as pilot:
        table.set_rows({**MIXED, "evil": evil})
        table.sort_by("restarts")
        await pilot.pause()
        assert order(table)[0] == "checkout-api-7d9f-abcde"
        svg = app.export_screenshot()
        assert "owned" not in svg and "\x1b" not in svg
        assert "evilpod" in svg.replace("&#160;", " ")


def test_pods_pane_snapshot(snap_compare) -> None:
    table = MutablePodsTable(id="pods")
    app = TableApp(table)

    async def feed(pilot) -> None:
        evil = row("evil\x1b]0;owned\x07\x1b[31mpod", "ImagePullBackOff", False, uid="evil")
        table.set_rows({**MIXED, "evil": evil})
        await pilot.pause()

    assert snap_compare(app, terminal_size=(110, 12), run_before=feed)


def many(n: int, prefix: str = "web") -> dict[str, PodTableRow]:
    return {f"u{i}": row(f"{prefix}-{i:04d}", uid=f"u{i}") for i in range(n)}


async def test_a_delta_touches_only_its_rows_and_keeps_order_and_filter() -> None:
    table = PodsTable(id="pods")
    app = TableApp(table)
    async with app.run_test(size=(120, 20)) as pilot:
        rows = many(300)
        rows["x1"] = row("cart-x1", uid="x1", labels={"app": "cart"})
        table.set_rows(rows)
        table.apply_filter("-l app=web")
        await pilot.pause()
        assert table.row_count == 300
        cleared = []
        table.clear = lambda *a, **k: cleared.append(1)  # type: ignore[method-assign]
        before = {uid: table.get_row(uid) for uid in ("u0", "u1", "u299")}
        # u7 crash-loops, u8 gets a label the filter drops, cart-x1 changes (still filtered out)
        changed = {
            "u7": row("web-0007", "CrashLoopBackOff", False, uid="u7", restarts="4"),
            "u8": row("web-0008", uid="u8", labels={"app": "other"}),
            "x1": row("cart-x1", "Pending", False, uid="x1", labels={"app": "cart"}),
        }
        table.apply_delta(changed, changed.keys())
        await pilot.pause()
        assert cleared == []
        names = order(table)
        assert names[0] == "web-0007"  # unhealthy first, without a full re-sort
        assert "web-0008" not in names and "cart-x1" not in names
        assert names[1:] == sorted(names[1:]) and table.row_count == 299
        for uid, cells in before.items():  # unchanged rows keep their very cells
            assert all(a is b for a, b in zip(table.get_row(uid), cells, strict=True))
        table.apply_filter("")  # the filter sees the latest rows, including the hidden ones
        await pilot.pause()
        assert table.row_count == 301
        assert order(table)[:2] == ["cart-x1", "web-0007"]


async def test_removed_pods_disappear_and_the_cursor_stays_with_the_commander() -> None:
    table = PodsTable(id="pods")
    app = TableApp(table)
    async with app.run_test(size=(120, 20)) as pilot:
        table.set_rows(many(50))
        table.focus()
        await pilot.pause()
        await pilot.press("down", "down", "down")
        assert table.selected_uid() == "u3"
        table.apply_delta({}, (), ["u0", "u1", "u40"])  # pods above theirs go away
        await pilot.pause()
        assert table.row_count == 47 and table.selected_uid() == "u3"
        assert table.cursor_row == 1
        table.apply_delta({}, (), ["u3"])  # their pod goes: the cursor rests on the next one
        await pilot.pause()
        assert "web-0003" not in order(table) and table.selected_uid() == "u4"
        for uid in ("u0", "u3", "u40"):
            assert table.rows.get(uid) is None
        assert [table.get_row_index(u) for u in ("u2", "u4")] == [0, 1]


async def test_a_row_selected_by_a_script_stays_selected_through_a_resort() -> None:
    """A drill script (or any caller) selects a pod with move_cursor, then presses r: a
    delta in between must not slide another pod under the cursor."""
    table = PodsTable(id="pods")
    app = TableApp(table)
    async with app.run_test(size=(120, 20)) as pilot:
        table.set_rows(many(50))
        await pilot.pause()
        table.move_cursor(row=table.get_row_index("u7"))
        assert table.selected_uid() == "u7"
        table.apply_delta({}, (), ["u0", "u1", "u2"])  # rows above it go: it moves up
        await pilot.pause()
        assert table.selected_uid() == "u7"


async def test_ages_are_drawn_from_the_clock_not_rewritten() -> None:
    from datetime import UTC, datetime, timedelta

    now = [datetime(2026, 11, 23, 12, 0, tzinfo=UTC)]
    table = PodsTable(id="pods", clock=lambda: now[0])
    app = TableApp(table)
    created = now[0] - timedelta(seconds=50)
    restarted = now[0] - timedelta(seconds=20)
    pod = PodTableRow(
        "u1", "shop", "api-1", "1/1", "Running", "3", "-", "node-a", True, (), created, restarted
    )
    async with app.run_test(size=(120, 20)) as pilot:
        table.set_rows({"u1": pod})
        await pilot.pause()
        screen = app.export_screenshot().replace("&#160;", " ")
        assert "50s" in screen and "3 (20s ago)" in screen
        now[0] += timedelta(minutes=2)
        table.tick()  # what its AGE_STEP timer does
        await pilot.pause()
        screen = app.export_screenshot().replace("&#160;", " ")
        assert "2m50s" in screen and "3 (2m20s ago)" in screen  # wider: the columns grew
        assert table.rows["u1"] is pod  # the row is not rewritten: its cells are drawn anew


def screen_lines(app) -> list[str]:
    """The table's visible lines as text (what the terminal gets, minus styles)."""
    table = app.table
    return ["".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height)]


async def test_cells_rendered_once_follow_their_row_and_clicks_land_on_it() -> None:
    """Cells are cached by content, not by row: when a pod turning unhealthy pushes every row
    down, each line must still show its own pod, and a click on a line must select that
    line's pod (the click metadata is stamped per row)."""
    table = PodsTable(id="pods")
    app = TableApp(table)
    healthy = {r.uid: r for r in [row(f"web-{i:02d}") for i in range(8)]}
    async with app.run_test(size=(100, 14)) as pilot:
        table.set_rows(healthy)
        await pilot.pause()
        before = screen_lines(app)
        assert "web-00" in before[1] and "web-01" in before[2]  # line 0 is the header
        sick = row("web-05", "CrashLoopBackOff", False, restarts="3")
        table.apply_delta({sick.uid: sick}, [sick.uid])
        await pilot.pause()
        after = screen_lines(app)
        assert "web-05" in after[1] and "CrashLoopBackOff" in after[1]
        assert "web-00" in after[2] and "web-01" in after[3]  # moved down one line each
        assert not any("web-05" in line for line in after[2:])
        await pilot.click(table, offset=(10, 3))  # the line now showing web-01
        await pilot.pause()
        assert table.selected_uid() == "uid-web-01"
        await pilot.click(table, offset=(10, 1))
        await pilot.pause()
        assert table.selected_uid() == "uid-web-05"


async def test_a_click_on_a_header_sorts_by_it_and_enter_selects_the_row() -> None:
    selected = []

    class SelectApp(TableApp):
        def on_virtual_table_row_selected(self, message: PodsTable.RowSelected) -> None:
            selected.append(message.key)

    table = PodsTable(id="pods")
    app = SelectApp(table)
    async with app.run_test(size=(120, 20)) as pilot:
        table.set_rows(dict(MIXED))
        table.focus()
        await pilot.pause()
        header = "".join(s.text for s in table.render_line(0))
        await pilot.click(table, offset=(header.index("NAME"), 0))
        await pilot.pause()
        assert table.sort_column == "name"
        assert order(table) == sorted(order(table))
        await pilot.press("down", "enter")
        await pilot.pause()
        assert selected == ["uid-checkout-api-7d9f-abcde"]


def test_namespace_filter() -> None:
    r = row("cart-5d8f-x1", namespace="payments")
    assert matches(r, "-n payments") and not matches(r, "-n shop")


async def test_a_big_delta_is_sorted_once_and_gives_the_same_order() -> None:
    """Over 1,000 changes at once take the bulk path (one sort, not an insort each): the order
    must be exactly what row by row would give, removals included."""
    table = PodsTable(id="pods")
    app = TableApp(table)
    async with app.run_test(size=(120, 20)) as pilot:
        rows = many(3000)
        table.set_rows(rows)
        changed = {
            f"u{i}": row(f"web-{i:04d}", "CrashLoopBackOff", False, uid=f"u{i}")
            for i in range(0, 3000, 2)
        }
        removed = [f"u{i}" for i in range(1, 600, 2)]
        table.apply_delta(changed, changed.keys(), removed)
        await pilot.pause()
        names = order(table)
        assert table.row_count == 3000 - 300 == len(names)
        assert names[:1500] == sorted(names[:1500]) and names[0] == "web-0000"
        assert names[1500:] == sorted(names[1500:]) and "web-0001" not in names
        assert [table.get_row_index(f"u{i}") for i in (0, 2)] == [0, 1]


async def test_the_source_pod_rows_are_shown_as_they_are() -> None:
    """The console hands the table warroom.pods.PodRow objects (no per-pod conversion)."""
    from datetime import UTC, datetime, timedelta

    from warroom.pods import pod_row

    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    pod = pod_row(
        {
            "metadata": {
                "uid": "u1",
                "name": "checkout-api-59965679df-d8d2v",
                "namespace": "shop",
                "labels": {"app": "checkout"},
                "creationTimestamp": (now - timedelta(minutes=3)).isoformat(),
            },
            "spec": {"containers": [{"name": "api"}], "nodeName": "node-a"},
            "status": {
                "phase": "Running",
                "containerStatuses": [
                    {
                        "name": "api",
                        "restartCount": 2,
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                        "lastState": {
                            "terminated": {
                                "exitCode": 1,
                                "finishedAt": (now - timedelta(seconds=30)).isoformat(),
                            }
                        },
                    }
                ],
            },
        }
    )
    table = PodsTable(id="pods", clock=lambda: now)
    app = TableApp(table)
    async with app.run_test(size=(120, 10)) as pilot:
        table.set_rows({pod.uid: pod})
        await pilot.pause()
        line = "".join(s.text for s in table.render_line(1))
        assert "checkout-api-59965679df-d8d2v" in line and "CrashLoopBackOff" in line
        assert "2 (30s ago)" in line and "3m00s" in line
        assert matches(pod, "-l app=checkout") and not matches(pod, "-l app=cart")
        table.sort_by("restarts")
        assert table.rows["u1"] is pod


def test_measuring_many_rows_column_by_column_matches_row_by_row() -> None:
    table = PodsTable(id="pods")
    rows = [
        row(f"{'x' * (i % 37)}web-{i:04d}", ("Running", "CrashLoopBackOff", "Pending")[i % 3],
            i % 3 == 0, node=f"node-{'n' * (i % 11)}", uid=f"u{i}")
        for i in range(500)
    ]  # fmt: skip
    rows.append(row("ｗｉｄｅ-ｎａｍｅ-0", uid="wide"))  # two cells a character
    fast = table.measure_rows(rows)
    slow = [max(col) for col in zip(*(table.measure(r) for r in rows), strict=True)]
    assert fast == slow
