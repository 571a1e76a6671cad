from datetime import timedelta

import pytest

from warroom.model import Kind, Role, Severity, Status
from warroom.room import RoomError, WarRoom


def kinds(room: WarRoom) -> list[str]:
    return [e.kind for e in room.store.events()]


def test_declare_writes_event_and_checklist(declare, clock) -> None:
    room = declare(title="  Checkout   errors ", severity="p1", category="Application")
    st = room.state
    assert st.title == "Checkout errors"
    assert st.severity is Severity.P1
    assert st.status is Status.INVESTIGATING
    assert st.declared_at == clock.now
    assert st.declared_by == "ann"
    assert kinds(room) == [Kind.DECLARED, Kind.CHECKLIST]
    assert room.incident_id.startswith("INC-20261122-100000")
    first_update = st.checklist["first-update"]
    assert first_update.due_at == clock.now + timedelta(hours=1)


def test_declare_rejects_bad_input(declare) -> None:
    with pytest.raises(RoomError, match="title is required"):
        declare(title="   ")
    with pytest.raises(RoomError, match="unknown severity 'P7'"):
        declare(severity="P7")


def test_hostile_title_cannot_escape_the_data_dir(declare, repo) -> None:
    room = declare(title="../../etc/passwd \x1b]0;pwned\x07")
    assert "/" not in room.incident_id and ".." not in room.incident_id
    assert room.store.path.parent == repo_dir(repo)


def repo_dir(repo):
    return repo.open(repo.ids()[0], read_only=True).path.parent


def test_severity_change_adds_playbook_items_and_keeps_done(declare, clock) -> None:
    room = declare(severity="P2")
    room.toggle_item("ic-assigned")
    assert "freeze-changes" not in room.state.checklist
    clock.advance(minutes=5)
    evs = room.change_severity("P0", "checkout down for everyone")
    assert [e.kind for e in evs] == [Kind.SEVERITY, Kind.CHECKLIST]
    assert evs[0].text == "Severity raised P2 -> P0: checkout down for everyone"
    st = room.state
    assert st.severity is Severity.P0
    assert "freeze-changes" in st.checklist
    # SLA-bound items follow the new severity: P0 owes the first notification within 15m.
    assert st.checklist["first-update"].due_at == st.declared_at + timedelta(minutes=15)
    assert st.checklist["ic-assigned"].done and st.checklist["ic-assigned"].by == "ann"
    with pytest.raises(RoomError, match="already P0"):
        room.change_severity("P0")
    # Going back down adds nothing and removes nothing.
    evs = room.change_severity("P2")
    assert [e.kind for e in evs] == [Kind.SEVERITY]
    assert "freeze-changes" in room.state.checklist


def test_status_role_note_pin_toggle(declare, clock) -> None:
    room = declare()
    clock.advance(minutes=3)
    ev = room.change_status("identified", "bad deploy 1.42")
    assert ev.text == "Status investigating -> identified: bad deploy 1.42"
    assert ev.actor == "ann" and ev.time == clock.now
    room.assign_role("tech lead", "Bo")
    room.assign_role(Role.TECH_LEAD, "Cy")
    assert room.state.roles[Role.TECH_LEAD] == "Cy"
    assert room.events[-1].text == "Tech lead: Cy (was Bo)"
    with pytest.raises(RoomError, match="unknown role"):
        room.assign_role("janitor", "x")
    note = room.add_note("rollback started")
    room.pin(note.seq)
    assert note.seq in room.state.pinned
    room.pin(note.seq)
    assert note.seq not in room.state.pinned
    t = room.toggle_item("scope-assessed")
    assert t.text.startswith("[x]")
    assert room.state.checklist["scope-assessed"].at == clock.now
    room.toggle_item("scope-assessed")
    assert not room.state.checklist["scope-assessed"].done
    with pytest.raises(RoomError, match="no checklist item"):
        room.toggle_item("nope")
    with pytest.raises(RoomError, match="empty note"):
        room.add_note("  ")
    with pytest.raises(RoomError, match="no event 999"):
        room.pin(999)


def test_note_sections_and_edit(declare) -> None:
    room = declare()
    rc = room.add_note("Root cause: config map lost the DB host")
    assert rc.text == "Root cause: config map lost the DB host"
    assert rc.data == {"section": "root_cause"}
    assert room.state.sections["root_cause"] == ["config map lost the DB host"]
    todo = room.add_note("TODO: alert on config drift")  # an action item, not a note
    assert todo.kind == Kind.ACTION_ITEM
    assert room.state.action_items["A1"].text == "alert on config drift"
    plain = room.add_note("todo list is long")  # no colon: stays a plain note
    assert plain.data == {}
    ed = room.edit(rc.seq, "config map lost the DB host after a helm upgrade")
    assert ed.kind == Kind.EDIT
    assert room.store.events()[rc.seq - 1].text == rc.text  # not overwritten
    assert room.state.text_of(rc).endswith("helm upgrade")


def test_ack_escalate_detect_resolve(declare, clock) -> None:
    room = declare()
    clock.advance(minutes=4)
    ack = room.acknowledge()
    assert ack.text == "Acknowledged by ann after 4m00s"
    assert room.state.acked_at == clock.now
    with pytest.raises(RoomError, match="already acknowledged"):
        room.acknowledge()
    room.escalate("payments on-call")
    assert room.state.escalated_at == clock.now
    earlier = clock.now - timedelta(minutes=20)
    room.mark_detected(earlier, "error ratio > 5% for 2m", rule="checkout-errors")
    assert room.state.detected_at == earlier
    clock.advance(hours=1)
    res = room.resolve("rolled back to 1.41")
    assert res.kind == Kind.RESOLVED
    assert room.state.resolved and room.state.resolved_at == clock.now
    with pytest.raises(RoomError, match="resolved"):
        room.resolve()
    room.change_status("investigating", "it is back")  # reopen
    assert not room.state.resolved and room.state.resolved_at is None


def test_record_action_is_the_change_ledger(declare) -> None:
    room = declare()
    room.record_action(
        "Rollout restart deployment shop/checkout-api",
        verb="rollout-restart",
        target="deployment/shop/checkout-api",
        ok=True,
        duration_s=0.2345,
        revert="kubectl rollout undo deployment/checkout-api -n shop",
    )
    [ev] = room.changes()
    assert ev.data["revert"].startswith("kubectl rollout undo")
    assert ev.data["duration_s"] == 0.234


def test_two_rooms_on_one_incident_see_each_other(declare, repo, settings) -> None:
    a = declare()
    b = WarRoom(repo.open(a.incident_id), settings, actor="bo")
    a.add_note("from ann")
    new = b.refresh()
    assert [e.text for e in new] == ["from ann"]
    b.add_note("from bo")
    assert [e.text for e in a.refresh()] == ["from bo"]
    assert a.store.verify().ok
    assert [e.actor for e in a.events[-2:]] == ["ann", "bo"]


def test_events_tick_the_items_they_do(declare, clock) -> None:
    """`done_when` items: the evidence bundle ticks "evidence preserved"; "mitigation applied"
    is ticked by an action's outcome that took effect, not by the action being sent, and not
    by one that changed nothing; a failed action ticks nothing."""
    room = declare(severity="P1")
    items = room.state.checklist
    clock.advance(minutes=1)
    room.record_action(
        "not allowed: patch deployments in ns/shop",
        verb="rollout-restart",
        target="deployments/shop/checkout-api",
        ok=False,
        duration_s=0.1,
        forbidden=True,
    )
    assert not items["mitigation-applied"].done
    ev = room.record(Kind.EVIDENCE, "Evidence bundle shop", {"sha256": "ab"}, source="bo")
    assert items["evidence-preserved"].done and items["evidence-preserved"].by == "bo"
    tick = room.store.events()[-1]
    assert tick.kind == Kind.CHECKLIST and tick.data == {
        "op": "done",
        "item": "evidence-preserved",
        "by_event": ev.seq,
    }
    delete = room.record_action(
        "delete of pod redis-cart-0 in shop requested",
        verb="delete-pod",
        target="pods/shop/redis-cart-0",
        ok=True,
    )
    assert not items["mitigation-applied"].done  # sent is not done
    room.record_outcome(delete, "no_effect", "still Terminating on node n3, same pod", 20.0)
    assert not items["mitigation-applied"].done  # and a no-op is no mitigation
    restart = room.record_action(
        "rollout restart deployments/shop/checkout-api",
        verb="rollout-restart",
        target="deployments/shop/checkout-api",
        ok=True,
        duration_s=0.2,
    )
    outcome = room.record_outcome(restart, "took_effect", "3 replicas updated and available", 12)
    assert outcome.text.startswith("Took effect: deployments/shop/checkout-api (#")
    assert items["mitigation-applied"].done and items["mitigation-applied"].by == "ann"
    assert room.state.outcomes == {delete.seq: "no_effect", restart.seq: "took_effect"}
    n = len(room.store.events())
    room.record(Kind.EVIDENCE, "Evidence bundle again", {"sha256": "cd"})
    assert len(room.store.events()) == n + 1  # already ticked: no second tick
    assert room.store.verify().ok


def test_escalation_is_refused_once_resolved(declare) -> None:
    room = declare()
    room.resolve("fixed")
    with pytest.raises(RoomError, match="resolved"):
        room.escalate("L2 payments team")
    assert not [e for e in room.events if e.kind == Kind.ESCALATED]
