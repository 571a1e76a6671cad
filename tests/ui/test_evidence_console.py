"""`e` in the console against the drill world (Kubernetes API, Prometheus, Alertmanager on
127.0.0.1): incident-wide and pod-scoped bundles with progress, limits from settings, and a
stop that keeps nothing. A stalling loopback Alertmanager holds a collection open to stop it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import tarfile
from pathlib import Path

import pytest

from tests.support import UI_SIZE as SIZE
from tests.support import pilot_until as wait_until
from warroom.actions.evidence import verify_bundles
from warroom.cli.drill import drill_settings
from warroom.console.app import WarRoomApp
from warroom.model import Kind
from warroom.room import WarRoom
from warroom.settings import EvidenceSettings
from warroom.widgets.dialogs import ConfirmScreen
from warroom.widgets.evidence_progress import PROGRESS_STEPS, EvidenceProgress
from warroom.widgets.pods_pane import PodsTable
from warroom.widgets.timeline import Timeline

from .test_pods_console import checkout_rows

pytestmark = pytest.mark.integration


def console(drill, settings, repo, **changes):
    s = dataclasses.replace(drill_settings(settings, drill), **changes)
    room = WarRoom.declare(repo, s, title="checkout down", severity="P1", drill=True)
    return WarRoomApp(s, repo=repo, room=room, follow=False), room


def evidence_events(room: WarRoom) -> list:
    return [e for e in room.store.events() if e.kind == Kind.EVIDENCE]


def manifest_of(tar_path: Path) -> tuple[dict, list[str]]:
    with tarfile.open(tar_path, "r:gz") as tar:
        names = [m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile()]
        member = next(m for m in tar.getmembers() if m.name.endswith("/manifest.json"))
        f = tar.extractfile(member)
        assert f is not None
        return json.loads(f.read()), names


async def crashing(app, pilot) -> None:
    def some_crashed() -> bool:
        return any(r.restarts >= 1 and not r.healthy for r in checkout_rows(app))

    await wait_until(pilot, some_crashed, 90)


async def test_e_collects_an_incident_wide_bundle_with_progress(
    drill_factory, settings, repo
) -> None:
    drill = drill_factory(speed=20.0)
    app, room = console(drill, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await crashing(app, pilot)
        await pilot.press("3", "e")  # timeline focused: `e` is the incident-wide action
        bar = app.main.query_one(EvidenceProgress)  # (the stop test sees it mid-collection)
        await wait_until(pilot, lambda: evidence_events(room), 60)
        await wait_until(pilot, lambda: not bar.running, 10)
        assert not bar.display
        assert bar.query_one("#evidence-bar").progress == PROGRESS_STEPS  # reached 100%
        await pilot.pause()
        timeline = app.main.query_one(Timeline)
        assert any(r.kind == Kind.EVIDENCE for r in timeline.rows)
    [ev] = evidence_events(room)
    assert ev.actor == "ann" and ev.data["pod"] is None and ev.data["namespace"] == "shop"
    tar_path = room.store.evidence_dir / ev.data["bundle"]
    manifest, names = manifest_of(tar_path)
    assert manifest["scope"]["namespace"] == "shop"
    crashed = [p for p in manifest["scope"]["pods"] if p.startswith("checkout-api")]
    assert crashed, manifest["scope"]
    assert any(n.startswith(f"pods/{crashed[0]}/logs/") for n in names)
    # Every source the console has: the cluster, the health checks' range data, the alerts.
    assert {"pods.json", "metrics.json", "alerts.json", "timeline.json"} <= set(names)
    assert not [f for f in manifest["failures"] if "metric" in f["what"]]
    assert verify_bundles(room.store) == ([], 1)
    item = room.state.checklist["evidence-preserved"]  # P1 playbook: done_when: evidence
    assert item.done and item.by == "ann"


async def test_e_on_a_pod_row_collects_that_pod_within_the_settings_limits(
    drill_factory, settings, repo
) -> None:
    drill = drill_factory(speed=20.0)
    limits = EvidenceSettings(max_log_lines=3, max_log_bytes=64 * 1024, max_pods=1)
    app, room = console(drill, settings, repo, evidence=limits)
    async with app.run_test(size=SIZE) as pilot:
        await crashing(app, pilot)
        await pilot.press("2")
        table = app.main.query_one(PodsTable)
        bad = next(r for r in checkout_rows(app) if r.restarts >= 1 and not r.healthy)
        table.move_cursor(row=table.get_row_index(bad.uid))
        await pilot.pause()
        assert table.selected_uid() == bad.uid
        await pilot.press("e")
        await wait_until(pilot, lambda: evidence_events(room), 60)
    [ev] = evidence_events(room)
    assert ev.data["pod"] == bad.name
    tar_path = room.store.evidence_dir / ev.data["bundle"]
    manifest, _ = manifest_of(tar_path)
    assert manifest["scope"]["pod"] == bad.name
    assert manifest["limits"]["max_log_lines"] == 3
    logs = [f for f in manifest["files"] if "/logs/" in f["path"]]
    assert any(f["path"].endswith(".previous.log") for f in logs)  # the run that crashed
    with tarfile.open(tar_path, "r:gz") as tar:
        for m in tar.getmembers():
            if "/logs/" in m.name and m.isfile():
                data = tar.extractfile(m).read()  # type: ignore[union-attr]
                assert data.count(b"\n") <= 3, m.name


async def test_e_again_offers_to_stop_and_a_stop_keeps_nothing(
    drill_factory, settings, repo
) -> None:
    held: list[asyncio.StreamWriter] = []

    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # read the request, never answer: a hung Alertmanager

    server = await asyncio.start_server(stall, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    drill = drill_factory(speed=1.0)
    base = drill_settings(settings, drill)
    app, room = console(
        drill,
        settings,
        repo,
        alertmanager=dataclasses.replace(
            base.alertmanager, url=f"http://127.0.0.1:{port}", timeout=60.0
        ),
    )
    try:
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: len(app.pods.rows) >= 10)
            await pilot.press("3", "e")
            bar = app.main.query_one(EvidenceProgress)
            await wait_until(pilot, lambda: len(held) >= 2, 30)
            assert bar.running and bar.display  # the bundle's fetch is in
            await pilot.press("e")
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen)
            assert app.screen.focused is not None and app.screen.focused.id == "cancel"
            await pilot.press("enter")  # Cancel: keep collecting
            await pilot.pause(0.3)
            assert bar.running and not evidence_events(room)
            await pilot.press("e")
            await pilot.pause()
            await pilot.press("tab", "enter")  # "Stop collection"

            def stopped() -> bool:
                return any(
                    e.kind == Kind.SYSTEM and e.data.get("evidence") == "cancelled"
                    for e in room.store.events()
                )

            await wait_until(pilot, stopped, 20)
            await wait_until(pilot, lambda: not bar.running, 10)
    finally:
        for w in held:
            w.close()
        server.close()
    assert not evidence_events(room)
    evidence_dir = room.store.evidence_dir
    assert not list(evidence_dir.glob("*")) if evidence_dir.exists() else True
    [cancel] = [e for e in room.store.events() if e.data.get("evidence") == "cancelled"]
    assert "cancelled by ann" in cancel.text


async def test_focus_then_e_typed_in_one_burst_collects_the_pod(drill_factory, settings, repo):
    """`2` then `e` arriving together (a fast typist, a paste, tmux send-keys): the focus moves
    before `e` is handled, so it is the pod row's evidence, not the incident-wide one."""
    from textual import events

    drill = drill_factory(speed=1.0)
    app, room = console(drill, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.pods.rows) >= 10)
        await pilot.press("3")
        for key in ("2", "e"):  # queued back to back, as the terminal driver delivers them
            app.post_message(events.Key(key, key))
        await wait_until(pilot, lambda: evidence_events(room), 60)
    [ev] = evidence_events(room)
    assert ev.data["pod"] is not None
