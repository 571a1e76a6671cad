"""Q on a pod row against the drill cluster: the dialog names every step and its revert, the
evidence comes first, each step is recorded and verified; Q again releases; a user the cluster
refuses gets its 403 recorded and nothing more; read-only consoles do not bind Q."""

import pytest

from tests.support import UI_SIZE as SIZE
from tests.support import pilot_until as wait_until
from tests.support import settle_actions as settle
from warroom.model import Kind
from warroom.widgets.pods_pane import PodsTable

from .test_pods_console import console

pytestmark = pytest.mark.integration


def frontend(app):
    return sorted(
        (r for r in app.pods.rows.values() if r.name.startswith("frontend-")), key=lambda r: r.name
    )


async def press_q_on(app, pilot, uid: str) -> None:
    table = app.main.query_one(PodsTable)
    await pilot.press("2")
    table.move_cursor(row=table.get_row_index(uid))
    await pilot.pause()
    await pilot.press("Q")
    await wait_until(pilot, lambda: type(app.screen).__name__ == "ConfirmScreen")


def kinds_after(room, seq: int) -> list[tuple[str, str]]:
    return [
        (e.kind, e.data.get("outcome") or e.data.get("verb") or "")
        for e in room.store.events()
        if e.seq > seq and e.kind in (Kind.EVIDENCE, Kind.ACTION, Kind.OUTCOME)
    ]


async def test_quarantine_then_release_with_q(drill_factory, quiet_scenario, settings, repo):
    h = drill_factory(scenario=quiet_scenario, speed=20.0)
    app, room = console(h, settings, repo)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(frontend(app)) == 3)
        victim = frontend(app)[0]
        start = room.events[-1].seq
        await press_q_on(app, pilot, victim.uid)
        body = app.screen.body
        assert f"pod:       {victim.name}\n" in body
        assert "This is not a security incident: quarantine on request." in body
        assert "1. evidence of the pod, collected first" in body
        assert f"2. label pod {victim.name} warroom.io/quarantine={victim.name}" in body
        assert (
            f"revert: kubectl delete networkpolicy warroom-quarantine-{victim.name} -n shop" in body
        )
        assert app.screen.focused.id == "cancel"
        await pilot.press("tab", "enter")
        await wait_until(pilot, lambda: len(kinds_after(room, start)) >= 7, 60)
        await settle(app, pilot)
        assert kinds_after(room, start) == [
            ("evidence", ""),
            ("action", "quarantine-label"),
            ("outcome", "took_effect"),
            ("action", "quarantine-isolate"),
            ("outcome", "took_effect"),
            ("action", "quarantine-detach"),
            ("outcome", "took_effect"),
        ]
        mid = room.events[-1].seq
        # Q on the same pod now releases it.
        await wait_until(pilot, lambda: "warroom.io/quarantine" in app.pods.rows[victim.uid].labels)
        await press_q_on(app, pilot, victim.uid)
        assert app.screen.title_text == "Release this quarantined pod?"
        await pilot.press("tab", "enter")
        await wait_until(pilot, lambda: len(kinds_after(room, mid)) >= 4, 60)
        await settle(app, pilot)
        assert kinds_after(room, mid) == [
            ("action", "release-reattach"),
            ("outcome", "took_effect"),
            ("action", "release-unisolate"),
            ("outcome", "took_effect"),
        ]
    reverts = [e.data.get("revert") for e in room.store.events() if e.kind == Kind.ACTION]
    assert reverts[0] == f"kubectl label pod {victim.name} -n shop warroom.io/quarantine-"
    assert reverts[2].startswith(f"kubectl label pod {victim.name} -n shop app=frontend ")


async def test_refused_quarantine_is_greyed_then_a_403_is_recorded_and_stops(
    drill_factory, quiet_scenario, settings, repo
):
    """The drill's read-only user: SelfSubjectAccessReview says no before Q is pressed, so Q
    is greyed and does nothing; if RBAC changes after that review, the first step's 403 is
    recorded, the others are not attempted, and Q is greyed again."""
    h = drill_factory(scenario=quiet_scenario, speed=20.0)
    app, room = console(h, settings, repo, context="warroom-drill-readonly")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(frontend(app)) == 3)
        await wait_until(pilot, lambda: app.session.access.denial("quarantine", namespace="shop"))
        assert app.session.access.denial("quarantine", namespace="shop") == (
            "not allowed: patch pods in ns/shop"
        )
        table = app.main.query_one(PodsTable)
        await pilot.press("2")
        table.move_cursor(row=table.get_row_index(frontend(app)[0].uid))
        await pilot.pause()
        assert app.screen.active_bindings["Q"].enabled is False  # shown, greyed
        await pilot.press("Q")
        await pilot.pause()
        assert app.screen is app.main
        app.session.access.known.clear()  # as if the review had not answered
        await press_q_on(app, pilot, frontend(app)[0].uid)
        await pilot.press("tab", "enter")
        await wait_until(pilot, lambda: any(e.kind == Kind.ACTION for e in room.store.events()), 60)
        await settle(app, pilot)
        assert app.session.access.denial("quarantine", namespace="shop")  # remembered
    actions = [e for e in room.store.events() if e.kind == Kind.ACTION]
    assert len(actions) == 1  # the first step was refused: the others were not attempted
    assert actions[0].data["forbidden"] and not actions[0].data["ok"]
    assert actions[0].text.startswith("not allowed: patch pods in ns/shop")


async def test_read_only_console_has_no_quarantine(drill, settings, repo) -> None:
    app, room = console(drill, settings, repo, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: len(app.pods.rows) >= 10)
        await pilot.press("2")
        assert "Q" not in app.screen.active_bindings
        await pilot.press("Q")
        await pilot.pause()
        assert app.screen is app.main
    assert not [e for e in room.store.events() if e.kind == Kind.ACTION]
