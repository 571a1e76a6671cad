"""The pods pane in the console against the drill Kubernetes API through the real client:
list, restart from a pod row with confirmation, RBAC 403 recorded, read-only has no keys."""

import time

import pytest
from warroom.widgets.pods_pane import MutablePodsTable, PodsTable
from warroom.widgets.source_status import SourceStatus

from warroom.app import WarRoomApp
from warroom.drill.cli import drill_settings
from warroom.model import Kind
from warroom.room import WarRoom

from .test_console import SIZE

pytestmark = pytest.mark.integration


async def wait_until(pilot, predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        await pilot.pause(0.2)
    raise AssertionError("condition not met in time")


async def settle(app, pilot) -> None:
    """Wait for use cases and actions; the pods watch worker runs for the app's lifetime."""
    from textual.worker import WorkerState

    await pilot.pause()
    for _ in range(200):
        busy = [
            w
            for w in app.workers
            if w.group in ("store", "action")
            and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        ]
        if not busy:
            break
        await pilot.pause(0.05)
    await pilot.pause()


def console(drill, settings, repo, *, context: str | None = None, read_only: bool = False):
    import dataclasses

    s = drill_settings(settings, drill)
    s = dataclasses.replace(
        s,
        read_only=read_only,
        kube=dataclasses.replace(s.kube, context=context),
        prometheus=dataclasses.replace(s.prometheus, url=None),
        alertmanager=dataclasses.replace(s.alertmanager, url=None),
    )
    room = WarRoom.declare(repo, s, title="pods", severity="P1", drill=True)
    return WarRoomApp(s, repo=repo, room=room, follow=False), room


def checkout_rows(app):
    return [r for r in app.pod_rows.values() if r.name.startswith("checkout-api")]


async def test_restart_from_a_pod_row_heals_the_deployment(drill_factory, settings, repo) -> None:
    drill = drill_factory(speed=20.0)
    app, room = console(drill, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(PodsTable)
        await wait_until(pilot, lambda: len(app.pod_rows) >= 10)
        assert isinstance(table, MutablePodsTable)
        status = app.main.query_one("#pods-status", SourceStatus)
        assert status.state.kind == "ok" and "in 1 namespace" in status.state.summary

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


async def test_forbidden_restart_is_shown_and_recorded(drill_factory, settings, repo) -> None:
    drill = drill_factory(speed=1.0)
    app, room = console(drill, settings, repo, context="warroom-drill-readonly")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.pod_rows) >= 10)
        await pilot.press("2", "r")
        await pilot.pause()
        await pilot.press("tab", "enter")
        await settle(app, pilot)
        await wait_until(pilot, lambda: any(e.kind == Kind.ACTION for e in room.store.events()))
        await settle(app, pilot)
    [a] = [e for e in room.store.events() if e.kind == Kind.ACTION]
    assert not a.data["ok"] and a.data["forbidden"]
    assert a.text.startswith("not allowed: ")
    assert "deployments" in a.text and "shop" in a.text


async def test_read_only_mode_binds_no_restart(drill, settings, repo) -> None:
    app, room = console(drill, settings, repo, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.pod_rows) >= 10)
        table = app.main.query_one(PodsTable)
        assert not isinstance(table, MutablePodsTable)
        await pilot.press("2")
        assert "r" not in app.screen.active_bindings
        assert "ctrl+d" not in app.screen.active_bindings
        await pilot.press("r", "ctrl+d")
        await pilot.pause()
        assert app.screen is app.main
    assert not [e for e in room.store.events() if e.kind == Kind.ACTION]


async def test_watch_changes_reach_the_table_as_deltas(
    drill_factory, quiet_scenario, settings, repo
):
    """Through the real client against the drill cluster (1,000 extra pods): a changed pod
    and a deleted one reach the table; the other rows keep their cells; never clear()."""
    h = drill_factory(scenario=quiet_scenario, extra_pods=1000)
    app, _ = console(h, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.pod_rows) > 1000)
        table = app.main.query_one(PodsTable)
        cleared = []
        table.clear = lambda *a, **k: cleared.append(1)  # type: ignore[method-assign]
        pods = sorted(app.pod_rows.values(), key=lambda r: r.name)
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
            lambda: gone.uid not in table.rows and not app.pod_rows[changed.uid].healthy,
        )
        await pilot.pause()
        assert cleared == []
        assert table.get_row_index(changed.uid) == 0  # unhealthy first
        assert table.get_row(changed.uid)[2].plain == "0/1"
        assert all(a is b for a, b in zip(table.get_row(kept.uid), kept_cells, strict=True))
        assert table.row_count == len(app.pod_rows)
