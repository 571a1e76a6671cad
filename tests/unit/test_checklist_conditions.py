"""The checklist follows the incident: escalation merges playbooks by item meaning, and the
event that does a step ticks it, credited to whoever did it."""

from datetime import timedelta

from warroom.model import Kind, Role
from warroom.projection import project
from warroom.signals import health_facts, record


def ticks(room) -> dict[str, tuple[str, int]]:
    """item -> (actor, by_event) of every automatic tick on the timeline."""
    return {
        e.data["item"]: (e.actor, e.data["by_event"])
        for e in room.store.events()
        if e.kind == Kind.CHECKLIST and e.data.get("by_event")
    }


def test_escalation_takes_the_higher_playbooks_wording_and_keeps_ticks(declare, clock) -> None:
    room = declare(severity="P3")
    items = room.state.checklist
    assert items["ic-assigned"].text == "Incident owner assigned"
    room.toggle_item("ic-assigned")
    clock.advance(minutes=3)
    events = room.change_severity("P1", "four checkouts in ten fail")
    added = events[-1]
    assert added.text.startswith("Checklist for P1: ") and "reworded" in added.text
    st = room.state
    ic = st.checklist["ic-assigned"]
    assert ic.text == "Incident commander assigned, single point of coordination"
    assert ic.done and ic.by == "ann"
    assert st.checklist["health-verified"].text.startswith("Service health checks and key")
    # The critical playbook's order: its detection steps lead, in its order.
    detect = [i.id for i in st.checklist.values() if i.phase == "detect"]
    assert detect == [
        "ic-assigned",
        "freeze-changes",
        "scope-assessed",
        "roles-assigned",
        "first-update",
    ]
    # Lowered again: the higher severity's wording stays (it was the worst the incident had).
    room.change_severity("P3", "contained")
    assert room.state.checklist["ic-assigned"].text.startswith("Incident commander assigned")
    # The projection from the stored events agrees with the live one.
    again = project(room.store.events())
    assert [(i.id, i.text, i.done) for i in again.checklist.values()] == [
        (i.id, i.text, i.done) for i in room.state.checklist.values()
    ]


def test_roles_notes_and_escalation_tick_their_items(declare, clock) -> None:
    room = declare(severity="P1")
    items = room.state.checklist
    cmd = room.assign_role(Role.COMMANDER, "ann")
    assert items["ic-assigned"].done and ticks(room)["ic-assigned"] == ("ann", cmd.seq)
    room.assign_role(Role.TECH_LEAD, "bo")
    assert not items["roles-assigned"].done  # the comms lead is still missing
    comms = room.assign_role(Role.COMMS_LEAD, "cy")
    assert ticks(room)["roles-assigned"] == ("ann", comms.seq)
    room.add_note("Note without a section")
    assert not items["root-cause"].done and not items["scope-assessed"].done
    rc = room.add_note("Root cause: promo cache reload races live traffic")
    assert ticks(room)["root-cause"][1] == rc.seq
    impact = room.add_note("Impact: 40% of checkouts fail")
    assert ticks(room)["scope-assessed"][1] == impact.seq
    esc = room.escalate("vp-eng")
    assert ticks(room)["leadership-informed"][1] == esc.seq


def test_all_alerts_resolved_ticks_alerts_cleared(declare) -> None:
    room = declare(severity="P1")

    def alert(fp: str, transition: str):
        data = {"fingerprint": fp, "alertname": fp, "transition": transition}
        return room.record(Kind.ALERT, f"{fp} {transition}", data, source="alertmanager")

    alert("a", "fired")
    alert("b", "fired")
    alert("a", "resolved")
    assert not room.state.checklist["alerts-cleared"].done  # b still fires
    alert("a", "fired")
    alert("b", "resolved")
    assert not room.state.checklist["alerts-cleared"].done  # a fires again
    last = alert("a", "resolved")
    assert ticks(room)["alerts-cleared"] == ("alertmanager", last.seq)


def test_health_ok_after_a_mitigation_verifies_it(declare, clock) -> None:
    room = declare(severity="P1")
    after = timedelta(minutes=2)

    def check(name: str, to: str):
        room.record(Kind.CHECK, f"{name} {to}", {"check": name, "to": to}, source="prometheus")

    check("errors", "crit")
    check("latency", "warn")
    clock.advance(minutes=1)
    check("errors", "ok")
    assert health_facts(room.state, after, clock.advance(minutes=5)) == []  # latency is warn
    check("latency", "ok")
    # Healthy, but nothing was mitigated: health alone verifies no mitigation.
    assert health_facts(room.state, after, clock.advance(minutes=5)) == []
    restart = room.record_action("rollout restart", verb="rollout-restart", target="x", ok=True)
    room.record_outcome(restart, "took_effect", "3 replicas updated", 20)
    assert health_facts(room.state, after, clock.advance(minutes=1)) == []  # ok for 1m only
    facts = health_facts(room.state, after, clock.advance(minutes=1))
    assert len(facts) == 1 and facts[0].text.startswith("Health verified: every check ok for 2m")
    (verified,) = record(room, facts)
    items = room.state.checklist
    assert items["mitigation-verified"].done and items["health-verified"].done
    assert ticks(room)["health-verified"] == ("warroom", verified.seq)
    assert health_facts(room.state, after, clock.advance(minutes=10)) == []  # once
    assert record(room, facts) == []  # another console's copy is not written twice


def test_only_the_resolution_notice_ticks_resolution_notice(declare) -> None:
    room = declare(severity="P1")
    room.record(Kind.UPDATE, "We are investigating", {"template": "notification"})
    items = room.state.checklist
    assert items["first-update"].done and not items["resolution-notice"].done
    room.resolve("rolled back")
    notice = room.record(Kind.UPDATE, "Resolved", {"template": "resolution"})
    assert ticks(room)["resolution-notice"][1] == notice.seq


def test_items_added_later_are_ticked_by_what_already_happened(declare, clock) -> None:
    """Roles assigned at P3 tick the P1 playbook's "tech lead and comms lead" when a raise
    adds it, credited to the event that did it."""
    room = declare(severity="P3")
    room.assign_role(Role.TECH_LEAD, "bo")
    comms = room.assign_role(Role.COMMS_LEAD, "cy")
    room.assign_role(Role.TECH_LEAD, "")  # unassigned again: leads no longer hold
    assert "roles-assigned" not in room.state.checklist
    room.change_severity("P1", "worse")
    assert not room.state.checklist["roles-assigned"].done
    tech = room.assign_role(Role.TECH_LEAD, "dee")  # both leads again: this event did it
    assert ticks(room)["roles-assigned"] == ("ann", tech.seq)

    room = declare(severity="P3", title="second")
    room.assign_role(Role.TECH_LEAD, "bo")
    comms = room.assign_role(Role.COMMS_LEAD, "cy")
    room.change_severity("P0", "outage")
    assert ticks(room)["roles-assigned"] == ("ann", comms.seq)
