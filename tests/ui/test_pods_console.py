"""The pods pane in the console against the drill Kubernetes API through the real client:
list, restart from a pod row with confirmation, RBAC 403 recorded, read-only has no keys."""

import pytest

from tests.support import UI_SIZE as SIZE
from tests.support import pilot_until
from tests.support import pilot_until as wait_until
from tests.support import settle_actions as settle
from warroom.cli.drill import drill_settings
from warroom.console.app import WarRoomApp
from warroom.model import Kind
from warroom.room import WarRoom
from warroom.widgets.pods_pane import MutablePodsTable, PodsTable
from warroom.widgets.source_status import SourceStatus

pytestmark = pytest.mark.integration
READ_ONLY = "Read-only: this console changes nothing (restart, delete, scale, drain...)."


def console(
    drill,
    settings,
    repo,
    *,
    context: str | None = None,
    read_only: bool = False,
    read_only_contexts: tuple[str, ...] = (),
    mutate_namespaces: tuple[str, ...] = (),
    alerts: bool = False,
):
    import dataclasses

    s = drill_settings(settings, drill)
    kube = dataclasses.replace(
        s.kube,
        context=context,
        read_only_contexts=read_only_contexts,
        mutate_namespaces=mutate_namespaces,
    )
    s = dataclasses.replace(
        s,
        read_only=read_only,
        kube=kube,
        prometheus=dataclasses.replace(s.prometheus, url=None),
        alertmanager=s.alertmanager if alerts else dataclasses.replace(s.alertmanager, url=None),
    )
    room = WarRoom.declare(repo, s, title="pods", severity="P1", drill=True)
    return WarRoomApp(s, repo=repo, room=room, follow=False), room


MUTATING_KEYS = {
    "pods": ("r", "ctrl+d", "ctrl+k", "Q"),
    "workloads": ("c", "b", "r", "p"),
    "nodes": ("c", "D"),
}


async def every_action_is_refused(app, pilot, why_ns: str, why_node: str) -> None:
    """Every change the console can make, reached directly (as the palette or a script
    would, past the keys): each says why not in one line and opens no dialog."""
    from warroom.alerts import Alert

    said: list[str] = []
    app.notify = lambda message, **kw: said.append(str(message))  # type: ignore[method-assign]
    pod = next(r for r in app.pods.rows.values() if r.namespace == "shop")
    for verb in ("restart", "delete", "force_delete"):
        app.pods.on_pod_action(verb, pod)
    await pilot_until(pilot, lambda: app.workloads.rows and app.nodes.rows)
    deploy = next(r for r in app.workloads.rows.values() if r.kind == "Deployment")
    for verb in ("scale", "rollback", "restart", "pause"):
        app.workloads.on_action(verb, deploy)
    node = next(iter(app.nodes.rows.values()))
    for verb in ("cordon", "drain"):
        app.nodes.on_action(verb, node)
    alert = Alert("fp1", "CartDown", "critical", "active", None, "", {"namespace": "shop"}, {})
    app.health.alerts_by_fp["fp1"] = alert
    app.silences.on_request("fp1")
    await pilot.pause()
    assert app.screen is app.main
    assert said == [why_ns] * 7 + [why_node] * 2 + [why_ns], said


def checkout_rows(app):
    return [r for r in app.pods.rows.values() if r.name.startswith("checkout-api")]


async def test_restart_from_a_pod_row_heals_the_deployment(drill_factory, settings, repo) -> None:
    drill = drill_factory(speed=20.0)
    app, room = console(drill, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(PodsTable)
        await wait_until(pilot, lambda: len(app.pods.rows) >= 10)
        assert isinstance(table, MutablePodsTable)
        status = app.main.query_one("#pods-status", SourceStatus)
        assert status.state.kind == "live" and "in 1 namespace" in status.state.summary

        def crashing() -> bool:
            return any(r.status in ("CrashLoopBackOff", "Error") for r in checkout_rows(app))

        await wait_until(pilot, crashing, 60)
        old = {r.uid for r in checkout_rows(app)}
        await pilot.press("2")
        bad = next(r for r in checkout_rows(app) if not r.healthy)
        table.move_cursor(row=table.get_row_index(bad.uid))
        await pilot.pause()
        assert table.selected_uid() == bad.uid
        await pilot.press("r")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmScreen"
        assert app.screen.focused.id == "cancel"  # Cancel is the default
        await pilot.press("tab", "enter")
        await settle(app, pilot)

        def healed() -> bool:
            rows = checkout_rows(app)
            return bool(rows) and all(r.healthy and r.uid not in old for r in rows)

        await wait_until(pilot, healed, 60)
        await settle(app, pilot)
    actions = [e for e in room.store.events() if e.kind == Kind.ACTION]
    assert len(actions) == 1
    a = actions[0]
    assert a.data["ok"] and a.data["verb"] == "rollout-restart"
    assert a.data["target"].endswith("shop/checkout-api")
    assert "kubectl rollout undo" in a.data["revert"]
    assert a.actor == "ann" and "duration_s" in a.data
    pods = [e for e in room.store.events() if e.kind == Kind.POD]
    assert pods and all(e.actor == "kubernetes" for e in pods)


async def test_forbidden_restart_is_greyed_then_a_403_is_one_line(
    drill_factory, settings, repo
) -> None:
    """The read-only user of the drill: SelfSubjectAccessReview says no before anything is
    pressed, so restart shows greyed and does nothing; if RBAC changes after that review, the
    403 is recorded as one line naming the verb and the resource."""
    drill = drill_factory(speed=1.0)
    app, room = console(drill, settings, repo, context="warroom-drill-readonly")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.pods.rows) >= 10)
        await wait_until(pilot, lambda: app.session.access.known)
        await pilot.press("2")
        await pilot.pause()
        table = app.main.query_one(PodsTable)
        assert isinstance(table, MutablePodsTable)  # not read-only: RBAC decides
        assert app.session.access.denial("restart", "Deployment", "shop") == (
            "not allowed: patch deployments in ns/shop"
        )
        await pilot.press("r")
        await pilot.pause()
        assert app.screen is app.main  # greyed: nothing happened
        app.session.access.known.clear()  # as if the review had not answered
        row = app.pods.rows[table.selected_uid()]
        app.pods.on_pod_action("restart", row)
        await pilot.pause()
        assert app.screen.__class__.__name__ == "ConfirmScreen"
        assert "equivalent: kubectl rollout restart deployment/" in app.screen.body
        await pilot.press("tab", "enter")
        await settle(app, pilot)
        await wait_until(pilot, lambda: any(e.kind == Kind.ACTION for e in room.store.events()))
        await settle(app, pilot)
        # The 403 is remembered: the key is greyed again.
        assert app.session.access.denial("restart", "Deployment", "shop")
    [a] = [e for e in room.store.events() if e.kind == Kind.ACTION]
    assert not a.data["ok"] and a.data["forbidden"]
    assert a.text.startswith("not allowed: ")
    assert "deployments" in a.text and "shop" in a.text


async def test_read_only_mode_binds_no_restart(drill, settings, repo) -> None:
    """Read-only: no table of the Kubernetes pane (nor the alerts table) has a mutating key,
    and every action refuses however it is reached."""
    app, room = console(drill, settings, repo, read_only=True, alerts=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.pods.rows) >= 10)
        table = app.main.query_one(PodsTable)
        assert not isinstance(table, MutablePodsTable)
        for view, keys in MUTATING_KEYS.items():
            if view != "pods":
                app.views.show(view)
            await pilot.press("2")
            await pilot.pause()
            for key in keys:
                assert key not in app.screen.active_bindings, (view, key)
            await pilot.press(*keys)
            await pilot.pause()
            assert app.screen is app.main
        assert type(app.main.alerts_table).__name__ == "AlertsTable"  # no `m` to silence
        await every_action_is_refused(app, pilot, READ_ONLY, READ_ONLY)
    assert not [e for e in room.store.events() if e.kind == Kind.ACTION]


async def test_read_only_context_binds_no_restart(drill, settings, repo) -> None:
    """The drill kubeconfig's current context is listed in kube.read_only_contexts (the
    settings name no context): the console is read-only, decided from the context in use."""
    app, room = console(drill, settings, repo, read_only_contexts=("warroom-drill",))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.pods.rows) >= 10)
        assert app.session.read_only
        assert not isinstance(app.main.query_one(PodsTable), MutablePodsTable)
        await pilot.press("2", "r", "ctrl+d")
        await pilot.pause()
        assert app.screen is app.main
        assert app.pods.refusal("shop") == READ_ONLY
    assert not [e for e in room.store.events() if e.kind == Kind.ACTION]


async def test_namespace_outside_the_allow_list_is_not_changed(drill, settings, repo) -> None:
    """kube.mutate_namespaces names another namespace: on shop's pods and workloads no
    mutating key is bound, nodes (cluster-scoped) are not changed at all, and every action
    refuses, whichever way it is reached."""
    app, room = console(drill, settings, repo, mutate_namespaces=("payments",), alerts=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.pods.rows) >= 10)
        table = app.main.query_one(PodsTable)
        assert isinstance(table, MutablePodsTable)  # not read-only: the allow-list decides
        await wait_until(pilot, lambda: app.workloads.rows and app.nodes.rows)
        for view, keys in MUTATING_KEYS.items():
            app.views.show(view)
            await pilot.pause()
            for key in keys:
                assert key not in app.screen.active_bindings, (view, key)
            await pilot.press(*keys)
            await pilot.pause()
            assert app.screen is app.main
        assert app.pods.refusal("shop") == "namespace shop is not in kube.mutate_namespaces"
        node_why = (
            "a node is cluster-scoped: changing it reaches beyond kube.mutate_namespaces (payments)"
        )
        assert app.pods.refusal(None) == node_why
        await every_action_is_refused(
            app, pilot, "namespace shop is not in kube.mutate_namespaces", node_why
        )
    assert not [e for e in room.store.events() if e.kind == Kind.ACTION]


async def test_watch_changes_reach_the_table_as_deltas(
    drill_factory, quiet_scenario, settings, repo
):
    """Through the real client against the drill cluster (1,000 extra pods): a changed pod
    and a deleted one reach the table; the other rows keep their cells; never clear()."""
    h = drill_factory(scenario=quiet_scenario, extra_pods=1000)
    app, _ = console(h, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.pods.rows) > 1000)
        table = app.main.query_one(PodsTable)
        cleared = []
        table.clear = lambda *a, **k: cleared.append(1)  # type: ignore[method-assign]
        pods = sorted(app.pods.rows.values(), key=lambda r: r.name)
        changed, gone, kept = pods[-1], pods[-2], pods[-3]
        kept_cells = table.get_row(kept.uid)

        def act() -> None:
            obj = h.cluster.store.get("pods", h.namespace, changed.name)
            obj["status"]["containerStatuses"][0]["ready"] = False
            for c in obj["status"]["conditions"]:
                if c["type"] in ("Ready", "ContainersReady"):
                    c["status"] = "False"
            h.cluster.store.put("pods", obj)
            h.cluster.store.delete("pods", h.namespace, gone.name)

        h.call(act)
        await wait_until(
            pilot,
            lambda: gone.uid not in table.rows and not app.pods.rows[changed.uid].healthy,
        )
        await pilot.pause()
        assert cleared == []
        assert table.get_row_index(changed.uid) == 0  # unhealthy first
        assert table.get_row(changed.uid)[2].plain == "0/1"
        assert all(a is b for a, b in zip(table.get_row(kept.uid), kept_cells, strict=True))
        assert table.row_count == len(app.pods.rows)
