"""Action items as first-class events: the TODO syntax, ids, owner, due, state, and a bad
TODO( kept as a plain note with a hint on the timeline."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from warroom.action_items import Todo, TodoSyntaxError, parse_todo
from warroom.followup import close_item, record_ticket, reopen_item
from warroom.model import Kind
from warroom.projection import project
from warroom.room import RoomError


@pytest.mark.parametrize(
    ("text", "todo"),
    [
        (
            "TODO(@ann, due 2026-12-08): add an alert",
            Todo("add an alert", "ann", date(2026, 12, 8)),
        ),
        (
            "todo( due 2026-12-08 , @bo.li ):  two  words ",
            Todo("two words", "bo.li", date(2026, 12, 8)),
        ),
        ("TODO(@ann): no date", Todo("no date", "ann", None)),
        ("Action(due: 2027-01-31): unowned", Todo("unowned", None, date(2027, 1, 31))),
        ("TODO: plain", None),  # the plain prefix is handled by note sections
        ("todo list is long", None),
    ],
)
def test_todo_syntax(text: str, todo: Todo | None) -> None:
    assert parse_todo(text) == todo


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("TODO(@ann, due tomorrow): x", "not a date: 'tomorrow'"),
        ("TODO(ann): x", "cannot read 'ann'"),
        ("TODO(@ann, due 2026-12-08: x", "unclosed TODO("),
        ("TODO(@ann): ", "nothing to do"),
        ("TODO(@ann, @bo): x", "two owners"),
        ("TODO(due 2026-12-08, due 2026-12-09): x", "two due dates"),
        ("TODO(@ann, due 2026-02-30): x", "not a date: '2026-02-30'"),
    ],
)
def test_bad_todo_syntax_says_how(text: str, why: str) -> None:
    with pytest.raises(TodoSyntaxError, match=r"write TODO\(@owner, due YYYY-MM-DD\): text") as e:
        parse_todo(text)
    assert why in str(e.value)


def test_items_from_notes_the_cli_and_their_lifecycle(declare, clock) -> None:
    room = declare()
    a1 = room.add_note("TODO(@bob, due 2026-12-08): alert on pool exhaustion")
    assert a1.kind == Kind.ACTION_ITEM
    assert a1.text == "Action item A1: alert on pool exhaustion (@bob, due 2026-12-08)"
    room.add_note("TODO: add a canary stage")
    room.add_action_item("write the runbook", owner="@carol", due="2026-12-20")
    items = room.state.action_items
    assert [(i.id, i.owner, i.due) for i in items.values()] == [
        ("A1", "bob", date(2026, 12, 8)),
        ("A2", None, None),
        ("A3", "carol", date(2026, 12, 20)),
    ]
    clock.advance(minutes=5)
    close_item(room, "a1")
    assert items["A1"].done and items["A1"].closed_by == "ann"
    with pytest.raises(RoomError, match="A1 is already done"):
        close_item(room, "A1")
    reopen_item(room, "A1")
    assert not items["A1"].done and items["A1"].closed_at is None
    record_ticket(room, "A3", "jira", "https://jira.example/browse/OPS-7", "OPS-7")
    assert items["A3"].tickets == {"jira": "https://jira.example/browse/OPS-7"}
    with pytest.raises(RoomError, match=r"no action item 'A9'.*items: A1, A2, A3"):
        close_item(room, "A9")
    # A projection of the stored events alone folds the same items (and the chain holds).
    again = project(room.store.events()).action_items
    assert {k: (v.state, v.tickets) for k, v in again.items()} == {
        k: (v.state, v.tickets) for k, v in items.items()
    }
    assert room.store.verify().ok


def test_overdue_after_the_due_day(declare, clock) -> None:
    room = declare()
    room.add_action_item("x", due=clock.now.date().isoformat())
    item = room.state.action_items["A1"]
    assert not item.overdue(clock.now + timedelta(hours=13))  # still the due day (UTC)
    assert item.overdue(clock.now + timedelta(days=1))


@pytest.mark.parametrize(
    ("owner", "due", "error"),
    [("@ann smith", None, "not an owner"), (None, "12/08/2026", "not a date")],
)
def test_add_refuses_bad_owner_or_due(declare, owner, due, error) -> None:
    with pytest.raises(RoomError, match=error):
        declare().add_action_item("x", owner=owner, due=due)


def test_a_bad_todo_is_a_plain_note_with_a_hint(declare) -> None:
    room = declare()
    note = room.add_note("TODO(bob, due x): page the DBA")
    assert note.kind == Kind.NOTE and note.text == "TODO(bob, due x): page the DBA"
    assert "write TODO(@owner, due YYYY-MM-DD): text" in note.data["hint"]
    hint = room.events[-1]
    assert hint.kind == Kind.SYSTEM and hint.actor == "warroom"
    assert hint.text.startswith(f"#{note.seq} kept as a plain note, not an action item:")
    assert room.state.action_items == {}


def test_legacy_todo_notes_fold_as_items(declare) -> None:
    """Incidents recorded before items were events: their 'TODO:' notes are items too."""
    room = declare()
    room.record(Kind.NOTE, "TODO: add an alert", {"section": "action_item"})
    room.add_action_item("then this")
    assert [(i.id, i.text) for i in room.state.action_items.values()] == [
        ("A1", "add an alert"),
        ("A2", "then this"),
    ]
