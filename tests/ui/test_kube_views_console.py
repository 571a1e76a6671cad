"""The Kubernetes pane's deployments and nodes views and their actions, in the console against
the drill API server through the real client: switching k9s's way, each action's confirmation
(context, namespace, the exact kubectl command, Cancel focused), what is recorded (revert hint,
command, verified outcome), RBAC greying, and changes made elsewhere on the timeline."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Input

from tests.support import UI_SIZE as SIZE
from tests.support import pilot_until as wait_until
from tests.support import settle_actions as settle
from tests.ui.test_pods_console import console
from warroom.model import Kind
from warroom.widgets.nodes_pane import MutableNodesTable, NodesTable
from warroom.widgets.workloads_pane import MutableWorkloadsTable, WorkloadsTable

pytestmark = pytest.mark.integration
CTX = "warroom-drill"


@pytest.fixture
def quiet(drill_factory, quiet_scenario):
    return drill_factory(scenario=quiet_scenario, speed=20.0)


def workload(app, name: str):
    return next((r for r in app.workloads.rows.values() if r.name == name), None)


async def show(app, pilot, view: str, row_uid: str | None = None) -> None:
    """`2`, then `:` and the view's name, as a person types it; then the cursor on a row."""
    await pilot.press("2", "colon")
    await pilot.pause()
    assert app.screen.__class__.__name__ == "PromptScreen"
    await pilot.press(*view, "enter")
    await pilot.pause()
    if row_uid is not None:
        table = app.views.tables[app.views.current]
        await wait_until(pilot, lambda: table.select(row_uid))
        await pilot.pause()


def actions(room) -> list:
    return [e for e in room.store.events() if e.kind == Kind.ACTION]


async def test_views_switch_with_colon_and_v_and_show_the_workloads_and_nodes(
    quiet, settings, repo
) -> None:
    app, _ = console(quiet, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: workload(app, "checkout-api") and app.nodes.rows)
        await show(app, pilot, "deploy")
        assert (
            app.views.current == "workloads" and app.main.kube_pane.border_title == "2 Deployments"
        )
        table = app.main.query_one(WorkloadsTable)
        assert isinstance(table, MutableWorkloadsTable) and app.screen.focused is table
        row = workload(app, "checkout-api")
        cells = [c.plain for c in table.get_row(row.uid)]
        assert cells[1:6] == ["deploy", "checkout-api", "3/3", "3", "3"]
        assert cells[6] == "checkout-api:2.8.3" and cells[8] == "complete"
        sts = workload(app, "redis-cart")
        assert [c.plain for c in table.get_row(sts.uid)][1:4] == ["sts", "redis-cart", "1/1"]
        await pilot.press("v")  # the next view: nodes
        await pilot.pause()
        assert app.views.current == "nodes" and app.main.kube_pane.border_title == "2 Nodes"
        nodes = app.main.query_one(NodesTable)
        await wait_until(pilot, lambda: nodes.row_count == 3)
        node = next(iter(app.nodes.rows.values()))
        cells = [c.plain for c in nodes.get_row(node.uid)]
        assert cells[2] == "Ready" and cells[3].endswith("%") and cells[4].endswith("%")
        ours, all_pods = cells[5].split("/")
        assert int(ours) >= 1 and int(all_pods) >= int(ours)
        assert cells[6] == "-" and cells[7].endswith("/3.9")  # no pressure; 3920m allocatable
        await pilot.press("v")
        await pilot.pause()
        assert app.views.current == "pods" and app.main.kube_pane.border_title == "2 Pods"
        # enter on a workload: its pods, by its selector
        await show(app, pilot, "deploy", row.uid)
        await pilot.press("enter")
        await pilot.pause()
        assert (
            app.views.current == "pods" and app.main.pods_table.filter_text == "-l app=checkout-api"
        )
        assert app.main.pods_table.row_count == 3
        await pilot.press("colon", *"nonsense", "enter")
        await pilot.pause()
        assert app.views.current == "pods"  # a word that names no view changes nothing


async def test_scale_from_the_deployments_view_confirms_records_and_verifies(
    quiet, settings, repo
) -> None:
    app, room = console(quiet, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: workload(app, "cart"))
        await show(app, pilot, "deploy", workload(app, "cart").uid)
        await pilot.press("c")
        await pilot.pause()
        prompt = app.screen
        assert prompt.__class__.__name__ == "PromptScreen"
        assert prompt.query_one(Input).value == "2"  # the current count, to edit
        prompt.query_one(Input).value = "3"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmScreen"
        body = app.screen.body
        assert f"context:   {CTX}\nnamespace: shop\n" in body
        assert "replicas:  2 now -> 3" in body
        assert (
            f"equivalent: kubectl scale deployment/cart --replicas=3 -n shop --context {CTX}"
            in body
        )
        assert app.screen.focused.id == "cancel"
        await pilot.press("tab", "enter")
        await settle(app, pilot)
        await wait_until(pilot, lambda: [e for e in room.store.events() if e.kind == Kind.OUTCOME])
    [a] = actions(room)
    assert a.data["verb"] == "scale" and a.data["target"] == "deployments/shop/cart"
    assert a.data["revert"] == "kubectl scale deployment/cart --replicas=2 -n shop"
    assert a.data["context"] == CTX and a.data["replicas"] == 3
    [o] = [e for e in room.store.events() if e.kind == Kind.OUTCOME]
    assert o.data["outcome"] == "took_effect" and o.data["action"] == a.seq
    assert not [e for e in room.store.events() if e.kind == Kind.CHANGE]  # ours, not "elsewhere"


async def test_rollback_pause_and_restart_confirmations(quiet, settings, repo, kubectl) -> None:
    k = kubectl(quiet)
    k("set", "image", "deployment/cart", "cart=registry.example.com/shop/cart:1.32.0")
    k("rollout", "status", "deployment/cart", "--timeout=60s")
    app, room = console(quiet, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: (r := workload(app, "cart")) and r.rollout == "complete")
        await show(app, pilot, "deploy", workload(app, "cart").uid)
        await pilot.press("b")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "ChoiceScreen")
        await pilot.press("enter")  # the previous revision is highlighted
        await pilot.pause()
        body = app.screen.body
        assert "image:     registry.example.com/shop/cart:1.32.0 -> " in body
        assert "registry.example.com/shop/cart:1.31.0" in body
        assert f"equivalent: kubectl rollout undo deployment/cart -n shop --context {CTX}" in body
        assert app.screen.focused.id == "cancel"
        await pilot.press("escape")  # cancelled: nothing is done
        await pilot.pause()
        await pilot.press("p")
        await pilot.pause()
        assert "equivalent: kubectl rollout pause deployment/cart -n shop" in app.screen.body
        await pilot.press("tab", "enter")
        await settle(app, pilot)
        await wait_until(pilot, lambda: workload(app, "cart").paused)
        await pilot.press("r")  # restart: kubectl refuses a paused Deployment, and so do we
        await pilot.pause()
        assert "equivalent: kubectl rollout restart deployment/cart -n shop" in app.screen.body
        await pilot.press("tab", "enter")
        await settle(app, pilot)
        await wait_until(pilot, lambda: len(actions(room)) == 2)
    pause, restart = actions(room)
    assert pause.data["verb"] == "rollout-pause" and pause.data["ok"]
    assert pause.data["revert"] == "kubectl rollout resume deployment/cart -n shop"
    assert not restart.data["ok"]
    assert restart.text.startswith(
        'deployments.apps "cart" can\'t restart paused deployment (run rollout resume first)'
    )


async def test_force_delete_needs_the_name_typed(quiet, settings, repo) -> None:
    app, room = console(quiet, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.pods.rows) >= 10)
        await pilot.press("2")
        table = app.main.pods_table
        uid = next(u for u, r in app.pods.rows.items() if r.name == "redis-cart-0")
        table.move_cursor(row=table.get_row_index(uid))
        await pilot.pause()
        await pilot.press("ctrl+k")
        await pilot.pause()
        screen = app.screen
        assert screen.__class__.__name__ == "TypedConfirmScreen"
        assert "split-brain" in screen.body and "StatefulSet" in screen.body
        assert "equivalent: kubectl delete pod redis-cart-0 -n shop --grace-period=0 --force" in (
            screen.body
        )
        confirm = screen.query_one("#confirm", Button)
        assert screen.focused.id == "cancel" and confirm.disabled
        await pilot.press("tab", "enter")  # the reflex does nothing: the button is disabled
        await pilot.pause()
        assert app.screen is screen and not actions(room)
        field = screen.query_one(Input)
        field.focus()
        field.value = "redis-cart-"
        await pilot.pause()
        assert confirm.disabled
        field.value = "redis-cart-0"
        await pilot.pause()
        assert not confirm.disabled
        await pilot.press("enter")
        await settle(app, pilot)
        await wait_until(pilot, lambda: actions(room))
    [a] = actions(room)
    assert a.data["grace"] == 0 and a.data["verb"] == "delete-pod"


async def test_cordon_and_drain_confirmations_name_the_node(quiet, settings, repo) -> None:
    app, room = console(quiet, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.nodes.rows) == 3)
        node = sorted(app.nodes.rows.values(), key=lambda r: r.name)[0]
        await show(app, pilot, "nodes", node.uid)
        assert isinstance(app.main.query_one(NodesTable), MutableNodesTable)
        await pilot.press("D")
        await pilot.pause()
        body = app.screen.body
        assert "namespace: (cluster-scoped)" in body and f"node:      {node.name}" in body
        assert f"equivalent: kubectl drain {node.name} --ignore-daemonsets" in body
        assert "Eviction API" in body
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert f"equivalent: kubectl cordon {node.name} --context {CTX}" in app.screen.body
        await pilot.press("tab", "enter")
        await settle(app, pilot)
        await wait_until(pilot, lambda: "SchedulingDisabled" in app.nodes.rows[node.uid].status)
        await wait_until(pilot, lambda: [e for e in room.store.events() if e.kind == Kind.OUTCOME])
    [a] = actions(room)
    assert a.data["verb"] == "cordon" and a.data["revert"] == f"kubectl uncordon {node.name}"
    assert a.data["target"] == f"nodes/{node.name}"


async def test_rbac_greys_out_what_the_responder_cannot_do(quiet, settings, repo) -> None:
    app, room = console(quiet, settings, repo, context="warroom-drill-readonly")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: workload(app, "cart") and app.session.access.known)
        await show(app, pilot, "deploy", workload(app, "cart").uid)
        table = app.main.query_one(WorkloadsTable)
        for verb in ("scale", "rollback", "restart", "pause"):
            assert table.check_action("act", (verb,)) is None, verb  # shown, greyed
        assert table.check_action("act", ("pods",)) is True
        await pilot.press("c", "b", "r", "p")
        await pilot.pause()
        assert app.screen is app.main
        await show(app, pilot, "nodes")
        nodes = app.main.query_one(NodesTable)
        await wait_until(pilot, lambda: nodes.row_count)
        assert nodes.check_action("act", ("cordon",)) is None
        assert nodes.check_action("act", ("drain",)) is None
        # reached another way (the palette, a script): one line, no dialog
        app.workloads.on_action("scale", workload(app, "cart"))
        await pilot.pause()
        assert app.screen is app.main
    assert not actions(room)


async def test_a_change_made_elsewhere_is_seen_on_the_timeline(quiet, settings, repo, kubectl):
    """kubectl scale from another terminal (no drill recorder here, as in production): the
    watch sees the Deployment change and the timeline says what, before and after."""
    app, room = console(quiet, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: workload(app, "cart"))
        kubectl(quiet)("scale", "deployment/cart", "--replicas=3")

        def seen():
            return [e for e in room.store.events() if e.kind == Kind.CHANGE]

        await wait_until(pilot, seen, 30)
    [c] = seen()
    assert c.actor == "kubernetes" and c.data["target"] == "deployments/shop/cart"
    assert c.data["verb"] == "scale"
    assert c.data["changes"]["replicas"] == {"before": "2", "after": "3"}
    assert c.text.startswith(
        "Seen change to deployment/cart in shop, not made here: replicas 2 -> 3"
    )


async def test_a_cordon_made_elsewhere_is_seen_and_ours_is_not(quiet, settings, repo, kubectl):
    """This console cordons one node, `kubectl cordon` in another terminal cordons a second:
    the timeline has our action, and a seen change for the other one only (ours came first,
    so its hold ran out before the other's)."""
    app, room = console(quiet, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.nodes.rows) == 3)
        mine, theirs = sorted(app.nodes.rows.values(), key=lambda r: r.name)[:2]
        await show(app, pilot, "nodes", mine.uid)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("tab", "enter")
        await settle(app, pilot)
        await wait_until(pilot, lambda: [e for e in room.store.events() if e.kind == Kind.OUTCOME])
        kubectl(quiet)("cordon", theirs.name)

        def seen():
            return [e for e in room.store.events() if e.kind == Kind.CHANGE]

        await wait_until(pilot, seen, 30)
        await wait_until(pilot, lambda: "SchedulingDisabled" in app.nodes.rows[theirs.uid].status)
    [a] = actions(room)
    assert a.data["target"] == f"nodes/{mine.name}"
    [c] = seen()
    assert c.actor == "kubernetes" and c.data["target"] == f"nodes/{theirs.name}"
    assert c.data["verb"] == "cordon"
    assert (
        c.text == f"Seen change to node/{theirs.name}, not made here: unschedulable false -> true"
    )


async def test_the_palette_runs_a_deployments_key_on_that_view(quiet, settings, repo) -> None:
    """From the pods view, the palette's "Deployments view: ... set its replicas" shows the
    deployments view and asks for the replicas of the workload under its cursor."""
    app, _ = console(quiet, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: workload(app, "cart") and app.nodes.rows)
        titles = [c.title for c in app.get_system_commands(app.main)]
        assert "Nodes view: On a node: mark it unschedulable, or schedulable again" in titles
        assert app.views.current == "pods"
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"set its replicas")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen.__class__.__name__ == "PromptScreen")
        assert app.views.current == "workloads"
        assert app.screen.title_text.endswith("replicas (now 2)")
        assert app.screen.query_one(Input).value == "2"


async def test_a_filtered_view_says_so_on_the_pane_border(quiet, settings, repo) -> None:
    """A filter hides rows: while the view shows, the pane's border says "filter: ...";
    each view keeps its own, and clearing it clears the line."""
    from warroom.widgets.panes import KubePane

    app, _ = console(quiet, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.pods.rows) >= 10 and workload(app, "cart"))
        pane = app.main.query_one(KubePane)
        await pilot.press("2", "slash")
        await pilot.pause()
        await pilot.press(*"cart", "enter")
        await wait_until(pilot, lambda: pane.border_subtitle is not None)
        assert str(pane.border_subtitle) == "filter: cart"
        assert "filter:" in app.export_screenshot()  # drawn on the border
        assert all("cart" in r.name for r in app.pods.table.rows.values())
        await show(app, pilot, "deploy")
        assert pane.border_subtitle is None  # the deployments view is not filtered
        await pilot.press("v", "v")  # nodes, then pods again
        await wait_until(pilot, lambda: pane.view == "pods")
        assert str(pane.border_subtitle) == "filter: cart"
        await pilot.press("slash")
        await pilot.pause()
        await pilot.press("ctrl+u", "enter")  # the prompt holds "cart": emptied, it clears
        await wait_until(pilot, lambda: pane.border_subtitle is None)
        assert app.pods.table.row_count == len(app.pods.rows)
