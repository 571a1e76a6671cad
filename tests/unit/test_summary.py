"""The summary kept beside each incident: written with every event, trusted only while it
describes the files, rebuilt from the events otherwise."""

from __future__ import annotations

import json

from warroom.model import Kind
from warroom.store.summary import summary_path
from warroom.summary import VERSION, summarize_events


def test_written_with_every_event_and_equal_to_a_replay(declare, repo, clock) -> None:
    room = declare(title="Cart down", severity="P1")
    room.add_note("TODO(@bob, due 2026-12-08): alert on stuck pods")
    room.record(Kind.POD, "redis-cart-0 entered Unknown",
                {"namespace": "shop", "pod": "redis-cart-0"}, source="kubernetes")  # fmt: skip
    room.escalate("db on-call")
    clock.advance(minutes=9)
    room.resolve("fixed", false_positive=True)
    kept = repo.summary(room.incident_id)
    assert kept == summarize_events(room.store.events())
    assert kept["v"] == VERSION and kept["false_positive"] and kept["escalated"]
    assert kept["services"] == ["shop/redis-cart"]
    assert kept["items"][0]["owner"] == "bob" and kept["events"] == len(room.events)


def test_a_write_it_did_not_see_makes_it_stale(declare, repo, settings) -> None:
    room = declare()
    assert repo.summary(room.incident_id) is not None
    # Another process appends without a summary (an older warroom): the stamp no longer fits.
    store = repo.open(room.incident_id)
    store.append("note", "written by an older warroom", actor="bo")
    assert repo.summary(room.incident_id) is None
    rebuilt = repo.rebuild_summary(room.incident_id, summarize_events)
    assert rebuilt["events"] == len(store.events())
    assert repo.summary(room.incident_id) == rebuilt  # kept for next time
    store.close()


def test_side_documents_and_compaction_keep_it_fresh(declare, repo) -> None:
    room = declare()
    room.store.put_doc("outbox", "2:slack", {"state": "pending"})  # no event: same summary
    assert repo.summary(room.incident_id) is not None
    room.store.compact()
    assert repo.summary(room.incident_id) is not None
    room.store.close()
    assert repo.summary(room.incident_id) is not None


def test_a_damaged_summary_file_is_ignored(declare, repo) -> None:
    room = declare()
    path = summary_path(repo.dir, room.incident_id)
    path.write_text("{not json")
    assert repo.summary(room.incident_id) is None
    path.write_text(json.dumps({"stamp": None, "doc": {"v": VERSION}}))
    assert repo.summary(room.incident_id) is None
    assert room.incident_id in repo.ids() and len(repo.ids()) == 1  # not an incident itself


def test_two_writers_keep_one_fresh_summary(declare, repo, settings) -> None:
    from warroom.room import WarRoom

    ann = declare()
    bo = WarRoom(repo.open(ann.incident_id), settings, actor="bo")
    for i in range(5):
        ann.add_note(f"ann {i}")
        bo.add_note(f"TODO(@bo, due 2026-12-0{i + 1}): item {i}")
    kept = repo.summary(ann.incident_id)
    assert kept == summarize_events(ann.store.events())
    assert [i["owner"] for i in kept["items"]] == ["bo"] * 5
    bo.store.close()
