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
        table.sort_column = "restarts"
        table._resort()
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
