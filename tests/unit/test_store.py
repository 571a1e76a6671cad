"""TinyDBStore and TinyDBRepository: chain, following the files, tampering, torn writes,
hostile ids, read-only, side documents, compaction. Multi-process tests: test_store_crash.py."""

from __future__ import annotations

import itertools
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from tinydb import Query, TinyDB
from tinydb.storages import JSONStorage

from warroom.model import Event, event_hash, format_ts
from warroom.store import GENESIS, ChainReport, IncidentNotFound, ReadOnlyStore, StoreError
from warroom.store import journal as store_module
from warroom.store.tinydb import TinyDBRepository, TinyDBStore

T0 = datetime(2026, 11, 22, 22, 36, 5, tzinfo=UTC)


@pytest.fixture
def repo(tmp_path: Path) -> TinyDBRepository:
    return TinyDBRepository(tmp_path / "data")


def filled(repo: TinyDBRepository, n: int = 5, incident_id: str = "INC-1") -> TinyDBStore:
    store = repo.create(incident_id)
    for i in range(1, n + 1):
        store.append("note", f"note {i}", actor="ann", data={"i": i}, ts=T0 + timedelta(i))
    return store


def journal_lines(store: TinyDBStore) -> list[dict]:
    return [json.loads(x) for x in store.journal_path.read_bytes().splitlines()]


def snapshot(store: TinyDBStore) -> dict:
    return json.loads(store.path.read_text())


def rehash(doc: dict) -> dict:
    return {**doc, "hash": event_hash({k: v for k, v in doc.items() if k != "hash"})}


# ----- append -------------------------------------------------------------------------------
def test_append_builds_the_chain(repo: TinyDBRepository) -> None:
    store = repo.create("INC-1")
    a = store.append("declared", "Checkout errors", actor="ann", data={"severity": "P1"}, ts=T0)
    b = store.append("note", "looking at the db", actor="bo")
    assert (a.seq, a.prev, a.actor, a.kind, a.text, a.data) == (
        1,
        GENESIS,
        "ann",
        "declared",
        "Checkout errors",
        {"severity": "P1"},
    )
    assert a.ts == "2026-11-22T22:36:05.000+00:00"
    assert a.hash == event_hash(a.body()) and len(a.hash) == 64
    assert (b.seq, b.prev) == (2, a.hash)
    assert b.hash == event_hash(b.body())
    assert abs(b.time - datetime.now(UTC)) < timedelta(minutes=5)  # defaults to utcnow()
    assert store.events() == [a, b]


def test_append_stores_what_it_hashes(repo: TinyDBRepository) -> None:
    store = repo.create("INC-1")
    naive = datetime(2026, 1, 2, 3, 4, 5)
    cet = datetime(2026, 1, 2, 4, 4, 5, tzinfo=timezone(timedelta(hours=1)))
    a = store.append("note", "x", actor="ann", data={"pods": ("a", "b"), 7: "seven"}, ts=naive)
    b = store.append("note", "y", actor="ann", ts=cet)
    assert a.data == {"pods": ["a", "b"], "7": "seven"}  # as JSON gives it back
    assert a.ts == b.ts == format_ts(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    on_disk = TinyDBRepository(repo.data_dir).open("INC-1").events()
    assert on_disk == [a, b]
    assert all(event_hash(e.body()) == e.hash for e in on_disk)


def test_append_is_on_disk_when_it_returns(repo: TinyDBRepository) -> None:
    store = filled(repo, 3)
    # No close(): a second, independent repository sees all three from the files alone.
    other = TinyDBRepository(repo.data_dir).open("INC-1", read_only=True)
    assert [e.text for e in other.events()] == ["note 1", "note 2", "note 3"]
    assert [(r["t"], r["id"]) for r in journal_lines(store)] == [
        ("events", str(i)) for i in (1, 2, 3)
    ]


def test_append_writes_one_journal_line_and_leaves_the_snapshot_alone(
    repo: TinyDBRepository,
) -> None:
    store = filled(repo, 200)
    before = os.stat(store.path)
    size = store.journal_path.stat().st_size
    ev = store.append("note", "one more", actor="ann")
    after = os.stat(store.path)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (
        before.st_ino,
        before.st_size,
        before.st_mtime_ns,
    )
    added = store.journal_path.read_bytes()[size:]
    assert added.count(b"\n") == 1 and added.endswith(b"\n")
    assert json.loads(added) == {"t": "events", "id": "201", "doc": ev.to_dict()}


def test_append_from_threads_shares_one_chain(repo: TinyDBRepository) -> None:
    store = repo.create("INC-1")

    def work(t: int) -> None:
        for i in range(40):
            store.append("note", f"{t}/{i}", actor=f"thread{t}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    assert [e.seq for e in store.events()] == list(range(1, 161))
    assert store.verify() == ChainReport(True, 160, None, None)


def test_two_store_objects_append_to_one_chain(repo: TinyDBRepository) -> None:
    one = repo.create("INC-1")
    two = repo.open("INC-1")
    for i in range(6):
        (one if i % 2 else two).append("note", str(i), actor="x")
    assert [e.text for e in one.events()] == [str(i) for i in range(6)]
    assert one.events() == two.events()
    assert one.verify().ok


def test_data_that_is_not_json_is_refused_before_writing(repo: TinyDBRepository) -> None:
    store = filled(repo, 1)
    with pytest.raises(TypeError):
        store.append("note", "x", actor="ann", data={"when": object()})
    assert store.append("note", "y", actor="ann").seq == 2


# ----- reading ------------------------------------------------------------------------------
def test_events_since_seq(repo: TinyDBRepository) -> None:
    store = filled(repo, 5)
    assert [e.seq for e in store.events()] == [1, 2, 3, 4, 5]
    assert [e.seq for e in store.events(since_seq=3)] == [4, 5]
    assert store.events(since_seq=5) == []
    assert store.events(since_seq=99) == []


def test_events_and_last_follow_other_writers(repo: TinyDBRepository) -> None:
    reader = repo.create("INC-1")
    assert reader.events() == [] and reader.last() is None
    writer = repo.open("INC-1")
    ev = writer.append("note", "from elsewhere", actor="bo")
    assert reader.last() == ev
    assert reader.events() == [ev]


def test_refresh_hands_out_each_event_once(repo: TinyDBRepository) -> None:
    store = filled(repo, 2)
    other = repo.open("INC-1")
    assert [e.seq for e in store.refresh()] == [1, 2]  # nothing handed out yet
    assert store.refresh() == []
    mine = store.append("note", "mine", actor="ann")
    theirs = other.append("note", "theirs", actor="bo")
    assert store.refresh() == [mine, theirs]
    assert store.refresh() == []
    other.append("note", "again", actor="bo")
    store.events()  # events() counts as a look too
    assert store.refresh() == []


def test_refresh_is_a_stat_when_nothing_changed(
    repo: TinyDBRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = filled(repo, 3)
    store.refresh()

    def no_reading(*a: object, **k: object) -> None:
        raise AssertionError("re-read files that did not change")

    monkeypatch.setattr(store.storage, "_catch_up", no_reading)
    monkeypatch.setattr(store.storage, "_reload", no_reading)
    for _ in range(5):
        assert store.refresh() == []
    assert store.last().seq == 3
    assert store.get_doc("outbox", "x") is None


def test_reader_follows_across_compaction_by_another_process(repo: TinyDBRepository) -> None:
    writer = filled(repo, 10)
    reader = repo.open("INC-1", read_only=True)
    assert len(reader.refresh()) == 10
    writer.append("note", "before compaction", actor="ann")
    writer.compact()
    assert writer.journal_path.stat().st_size == 0
    writer.append("note", "after compaction", actor="ann")
    assert [e.text for e in reader.refresh()] == ["before compaction", "after compaction"]
    assert reader.events() == writer.events()


def test_inline_compaction_when_the_journal_outgrows_the_snapshot(
    repo: TinyDBRepository,
) -> None:
    store = repo.create("INC-1")
    reader = repo.open("INC-1", read_only=True)
    store.storage.compact_inline_bytes = 4000
    seen: list[Event] = []
    for i in range(100):
        store.append("note", f"n{i}", actor="ann")
        if i % 7 == 0:
            seen += reader.refresh()
    seen += reader.refresh()
    assert [e.seq for e in seen] == list(range(1, 101))  # no gaps, no repeats
    assert store.journal_path.stat().st_size < 4000 + store.path.stat().st_size
    assert len(snapshot(store)["events"]) > 10  # compacted along the way
    assert repo.open("INC-1").verify() == ChainReport(True, 100, None, None)


def test_tinydb_is_the_query_engine(repo: TinyDBRepository) -> None:
    store = filled(repo, 4)
    store.append("ack", "acked", actor="bo")
    found = store.table("events").search(Query().kind == "ack")
    assert [d["seq"] for d in found] == [5]
    assert store.query("events", actor="ann", kind="note")[-1]["text"] == "note 4"
    with pytest.raises(StoreError):  # TinyDB's whole-file write path is closed
        store.table("events").update({"text": "rewritten"}, Query().seq == 1)
    assert store.table("events").get(doc_id="1")["text"] == "note 1"
    assert store.events()[0].text == "note 1" and store.verify().ok


# ----- side documents -----------------------------------------------------------------------
def test_side_docs_upsert_get_and_list(repo: TinyDBRepository) -> None:
    store = filled(repo, 1)
    assert store.get_doc("outbox", "2:slack") is None
    assert store.docs("outbox") == {}
    store.put_doc("outbox", "2:slack", {"state": "pending", "attempts": 0})
    store.put_doc("outbox", "2:slack", {"state": "delivered", "attempts": 1})
    store.put_doc("outbox", "3:teams", {"state": "pending", "attempts": 0, "tags": ["a"]})
    assert store.get_doc("outbox", "2:slack") == {"state": "delivered", "attempts": 1}
    assert store.docs("outbox") == {
        "2:slack": {"state": "delivered", "attempts": 1},
        "3:teams": {"state": "pending", "attempts": 0, "tags": ["a"]},
    }
    assert [d["attempts"] for d in store.query("outbox", state="pending")] == [0]
    other = TinyDBRepository(repo.data_dir).open("INC-1")
    assert other.get_doc("outbox", "2:slack") == {"state": "delivered", "attempts": 1}
    assert other.verify().ok and len(other.events()) == 1  # not part of the chain


def test_side_docs_are_copies(repo: TinyDBRepository) -> None:
    store = filled(repo, 1)
    store.put_doc("cache", "k", {"tags": ["a"]})
    got = store.get_doc("cache", "k")
    got["tags"].append("changed")
    store.docs("cache")["k"]["tags"].append("changed")
    assert store.get_doc("cache", "k") == {"tags": ["a"]}


def test_side_docs_survive_compaction_and_reopen(repo: TinyDBRepository) -> None:
    store = filled(repo, 2)
    store.put_doc("outbox", "1:file", {"state": "pending"})
    store.compact()
    store.put_doc("outbox", "1:file", {"state": "delivered"})
    store.close()
    again = repo.open("INC-1")
    assert again.get_doc("outbox", "1:file") == {"state": "delivered"}
    assert snapshot(again)["outbox"] == {"1:file": {"state": "pending"}}


def test_events_cannot_be_put(repo: TinyDBRepository) -> None:
    store = filled(repo, 2)
    forged = store.events()[1].to_dict()
    with pytest.raises(StoreError):
        store.put_doc("events", "2", forged | {"text": "rewritten"})
    assert store.events()[1].text == "note 2" and store.verify().ok


# ----- read-only ----------------------------------------------------------------------------
def test_read_only_refuses_writes_and_touches_nothing(repo: TinyDBRepository) -> None:
    filled(repo, 2).close()
    before = {p.name: p.stat().st_mtime_ns for p in repo.dir.iterdir()}
    reader = repo.open("INC-1", read_only=True)
    assert reader.read_only
    with pytest.raises(ReadOnlyStore):
        reader.append("note", "x", actor="bo")
    with pytest.raises(ReadOnlyStore):
        reader.put_doc("outbox", "k", {})
    reader.compact()  # a no-op for readers
    assert [e.seq for e in reader.events()] == [1, 2]
    reader.close()
    assert {p.name: p.stat().st_mtime_ns for p in repo.dir.iterdir()} == before
    assert issubclass(ReadOnlyStore, StoreError)


# ----- torn writes --------------------------------------------------------------------------
def test_torn_last_line_is_ignored_then_cut(repo: TinyDBRepository) -> None:
    store = filled(repo, 3)
    doc = dict(store.events()[-1].to_dict(), seq=4, text="never finished")
    line = json.dumps({"t": "events", "id": "4", "doc": doc}).encode()
    with open(store.journal_path, "ab") as f:
        f.write(line[: len(line) // 2])  # killed mid-write
    torn = store.journal_path.read_bytes()

    reader = repo.open("INC-1", read_only=True)
    assert [e.seq for e in reader.events()] == [1, 2, 3]
    assert reader.verify().ok
    assert store.journal_path.read_bytes() == torn  # readers never write

    writer = repo.open("INC-1")
    ev = writer.append("note", "next", actor="ann")
    assert (ev.seq, ev.prev) == (4, writer.events()[2].hash)
    raw = store.journal_path.read_bytes()
    assert raw.endswith(b"\n") and raw.count(b"\n") == 4
    assert [r["doc"]["text"] for r in journal_lines(store)][-1] == "next"
    assert reader.refresh()[-1] == ev
    assert repo.open("INC-1").verify() == ChainReport(True, 4, None, None)


def test_torn_line_on_an_empty_journal(repo: TinyDBRepository) -> None:
    store = repo.create("INC-1")
    store.journal_path.write_bytes(b'{"t": "events", "id": "1", "do')
    again = repo.open("INC-1")
    assert again.events() == [] and again.verify().ok
    assert again.append("note", "first", actor="ann").prev == GENESIS
    assert len(journal_lines(again)) == 1


def test_damaged_middle_line_is_skipped_never_cut(repo: TinyDBRepository) -> None:
    store = filled(repo, 4)
    lines = store.journal_path.read_bytes().splitlines(keepends=True)
    lines[1] = b"\x00garbage}\n"
    store.journal_path.write_bytes(b"".join(lines))
    again = repo.open("INC-1")
    assert [e.seq for e in again.events()] == [1, 3, 4]  # later lines still read
    report = again.verify()
    assert (report.ok, report.problem, report.seq) == (False, "event 2 was removed", 2)
    again.close()
    assert store.journal_path.read_bytes().splitlines()[1] == b"\x00garbage}"  # kept as evidence


def test_an_unreadable_snapshot_is_a_clear_error(repo: TinyDBRepository) -> None:
    store = filled(repo, 1)
    store.path.write_text('{"events": {"1": ')
    with pytest.raises(StoreError, match="damaged"):
        repo.open("INC-1")


# ----- verify -------------------------------------------------------------------------------
def tamper_snapshot(store: TinyDBStore, edit) -> ChainReport:
    """Compact, edit the TinyDB file as plain JSON, verify through a fresh reader."""
    store.compact()
    data = snapshot(store)
    data["events"] = edit(data["events"])
    store.path.write_text(json.dumps(data))
    return store.verify()


def test_verify_ok_and_empty(repo: TinyDBRepository) -> None:
    assert repo.create("INC-0").verify() == ChainReport(True, 0, None, None)
    assert filled(repo, 5).verify() == ChainReport(True, 5, None, None)


def test_verify_names_an_altered_event(repo: TinyDBRepository) -> None:
    def edit(events: dict) -> dict:
        events["3"]["text"] = "nothing happened"
        return events

    report = tamper_snapshot(filled(repo, 5), edit)
    assert report == ChainReport(False, 3, "event 3 was altered (hash mismatch)", 3)


def test_verify_names_an_altered_event_in_the_journal(repo: TinyDBRepository) -> None:
    store = filled(repo, 5)
    text = store.journal_path.read_text().replace('"actor":"ann"', '"actor":"eve"', 1)
    store.journal_path.write_text(text)
    report = store.verify()
    assert (report.ok, report.seq, report.problem) == (
        False,
        1,
        "event 1 was altered (hash mismatch)",
    )


def test_verify_reads_the_disk_not_the_cache(repo: TinyDBRepository) -> None:
    store = filled(repo, 5)
    assert store.verify().ok
    text = store.journal_path.read_text().replace("note 4", "note X")
    store.journal_path.write_text(text)
    assert store.verify().problem == "event 4 was altered (hash mismatch)"


def test_verify_names_a_removed_event(repo: TinyDBRepository) -> None:
    def edit(events: dict) -> dict:
        del events["3"]
        return events

    report = tamper_snapshot(filled(repo, 5), edit)
    assert (report.ok, report.problem, report.seq) == (False, "event 3 was removed", 3)


def test_verify_names_a_removed_event_with_the_rest_renumbered(
    repo: TinyDBRepository,
) -> None:
    def edit(events: dict) -> dict:
        # Remove 3, renumber 4 and 5 and recompute their hashes: only the link gives it away.
        out = {k: events[k] for k in ("1", "2")}
        for old in ("4", "5"):
            doc = rehash(dict(events[old], seq=int(old) - 1))
            out[str(doc["seq"])] = doc
        return out

    report = tamper_snapshot(filled(repo, 5), edit)
    assert not report.ok and report.seq == 2
    assert "removed or inserted before 3" in report.problem


def test_verify_names_an_inserted_event(repo: TinyDBRepository) -> None:
    def edit(events: dict) -> dict:
        # A forged event 3, correctly hashed and linked to 2, added under a new id.
        events["6"] = rehash(dict(events["3"], text="forged"))
        return events

    report = tamper_snapshot(filled(repo, 5), edit)
    assert (report.ok, report.seq) == (False, 3)
    assert report.problem == "an event was inserted before 4 (duplicate seq)"


def test_verify_names_an_event_inserted_with_the_rest_renumbered(
    repo: TinyDBRepository,
) -> None:
    def edit(events: dict) -> dict:
        forged = rehash(dict(events["3"], text="forged"))  # seq 3, links to 2
        out = {"1": events["1"], "2": events["2"], "3": forged}
        for old in ("3", "4", "5"):
            doc = rehash(dict(events[old], seq=int(old) + 1))
            out[str(doc["seq"])] = doc
        return out

    report = tamper_snapshot(filled(repo, 5), edit)
    assert not report.ok and report.seq == 3
    assert report.problem.startswith("event 3 was altered or replaced")
    assert "inserted before 4" in report.problem


def test_verify_names_an_event_moved_to_another_id(repo: TinyDBRepository) -> None:
    def edit(events: dict) -> dict:
        events["9"] = events.pop("5")
        return events

    report = tamper_snapshot(filled(repo, 5), edit)
    assert (report.ok, report.seq) == (False, 5)
    assert report.problem == "event 5 is stored under id 9 (moved or inserted)"


def test_verify_names_the_last_event_rewritten_in_the_journal(
    repo: TinyDBRepository,
) -> None:
    store = filled(repo, 5)
    forged = rehash(dict(store.events()[-1].to_dict(), text="rewritten"))
    with open(store.journal_path, "a") as f:
        f.write(json.dumps({"t": "events", "id": "5", "doc": forged}) + "\n")
    # The chain alone cannot tell (nothing links to the last event); the overwrite can.
    assert store.verify() == ChainReport(False, 5, "event 5 was altered (rewritten)", 5)


def test_verify_names_a_malformed_event_and_the_store_still_opens(
    repo: TinyDBRepository,
) -> None:
    def edit(events: dict) -> dict:
        events["2"] = ["not", "an", "event"]
        return events

    report = tamper_snapshot(filled(repo, 3), edit)
    assert (report.ok, report.seq) == (False, 2)
    assert report.problem == "the event after 1 is malformed"
    assert [e.seq for e in repo.open("INC-1").events()] == [1, 3]


def test_verify_reports_the_first_problem(repo: TinyDBRepository) -> None:
    def edit(events: dict) -> dict:
        events["4"]["text"] = "later edit"
        del events["2"]
        return events

    report = tamper_snapshot(filled(repo, 5), edit)
    assert (report.problem, report.seq) == ("event 2 was removed", 2)


def test_replayed_journal_after_a_kill_during_compaction_is_benign(
    repo: TinyDBRepository,
) -> None:
    store = filled(repo, 5)
    journal = store.journal_path.read_bytes()
    store.compact()
    store.journal_path.write_bytes(journal)  # killed between snapshot rename and journal reset
    again = repo.open("INC-1")
    assert [e.seq for e in again.events()] == [1, 2, 3, 4, 5]
    assert again.verify() == ChainReport(True, 5, None, None)
    assert again.append("note", "six", actor="ann").seq == 6


def test_append_never_overwrites_a_moved_event(repo: TinyDBRepository) -> None:
    store = filled(repo, 3)
    store.compact()
    data = snapshot(store)
    data["events"]["4"] = data["events"].pop("2")  # id 4 taken by a moved event 2
    store.path.write_text(json.dumps(data))
    again = repo.open("INC-1")
    with pytest.raises(StoreError, match="verify"):
        again.append("note", "x", actor="ann")
    assert snapshot(again)["events"]["4"]["seq"] == 2


# ----- files, close, compaction -------------------------------------------------------------
def test_close_compacts_into_a_stock_tinydb_file(
    repo: TinyDBRepository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "COMPACT_ON_CLOSE_BYTES", 1000)
    with filled(repo, 20) as store:
        store.put_doc("outbox", "1:slack", {"state": "pending"})
        events = store.events()
    assert store.journal_path.stat().st_size == 0
    stock = TinyDB(store.path, storage=JSONStorage)
    try:
        assert len(stock.table("events")) == 20
        assert stock.table("events").get(doc_id=20)["hash"] == events[-1].hash
        assert stock.tables() == {"events", "outbox"} and len(stock.table("outbox")) == 1
    finally:
        stock.close()
    assert repo.open("INC-1").events() == events


def test_close_keeps_a_small_journal_and_is_idempotent(repo: TinyDBRepository) -> None:
    store = filled(repo, 3)
    snap = store.path.read_bytes()
    store.close()
    store.close()
    assert store.path.read_bytes() == snap == b"{}"
    assert len(journal_lines(store)) == 3
    with pytest.raises(StoreError):
        store.events()
    with pytest.raises(StoreError):
        store.append("note", "late", actor="ann")


def test_compaction_leaves_no_temp_files_and_cleans_old_ones(repo: TinyDBRepository) -> None:
    store = filled(repo, 3)
    stale = repo.dir / ".INC-1.k3j2h1g0.tmp"  # from a compaction killed midway
    stale.write_text("{")
    neighbour = repo.dir / ".INC-1.x.k3j2h1g0.tmp"  # incident "INC-1.x" is not ours to clean
    neighbour.write_text("{")
    store.compact()
    names = sorted(p.name for p in repo.dir.iterdir())
    assert names == [".INC-1.x.k3j2h1g0.tmp", "INC-1.journal", "INC-1.json", "INC-1.lock"]
    assert repo.ids() == ["INC-1"]


def test_files_are_private(repo: TinyDBRepository) -> None:
    store = filled(repo, 1)
    assert oct(repo.dir.stat().st_mode & 0o777) == "0o700"
    for p in (store.path, store.journal_path, store.lock_path):
        assert oct(p.stat().st_mode & 0o777) == "0o600", p
    store.compact()
    assert oct(store.path.stat().st_mode & 0o777) == "0o600"


def test_evidence_dir_is_created_on_first_use(repo: TinyDBRepository) -> None:
    store = filled(repo, 1)
    expected = repo.data_dir / "incidents" / "INC-1.evidence"
    assert not expected.exists()
    assert store.evidence_dir == expected
    assert expected.is_dir() and oct(expected.stat().st_mode & 0o777) == "0o700"
    assert store.evidence_dir == expected  # second time: already there
    assert repo.ids() == ["INC-1"]


# ----- repository and ids -------------------------------------------------------------------
def test_new_id_from_utc_time_with_suffixes(repo: TinyDBRepository) -> None:
    assert repo.new_id(now=T0) == "INC-20261122-223605"
    repo.create("INC-20261122-223605")
    assert repo.new_id(now=T0) == "INC-20261122-223605-2"
    repo.create("INC-20261122-223605-2")
    assert repo.new_id(now=T0) == "INC-20261122-223605-3"
    assert repo.new_id("SEC", now=T0) == "SEC-20261122-223605"
    later_in_tokyo = T0.astimezone(timezone(timedelta(hours=9)))
    assert repo.new_id("X", now=later_in_tokyo) == "X-20261122-223605"
    assert repo.new_id("X", now=T0.replace(tzinfo=None)) == "X-20261122-223605"
    assert repo.new_id().startswith(f"INC-{datetime.now(UTC):%Y%m%d}")


def test_new_id_refuses_a_hostile_prefix(repo: TinyDBRepository) -> None:
    for prefix in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(ValueError):
            repo.new_id(prefix, now=T0)


HOSTILE = [
    "../../etc",
    "../../etc/passwd",
    "a/b",
    "/etc/passwd",
    "",
    "..",
    "a..b",
    ".hidden",
    "-rf",
    "a b",
    "a\\b",
    "a\x00b",
    "INC-1\n",
    "x" * 81,
    "é",
]


@pytest.mark.parametrize("bad", HOSTILE)
def test_hostile_ids_are_refused(repo: TinyDBRepository, bad: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        repo.create(bad)
    with pytest.raises(ValueError):
        repo.open(bad)
    with pytest.raises(ValueError):
        repo.open(bad, read_only=True)
    with pytest.raises(ValueError):
        TinyDBStore(repo.dir, bad)
    outside = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert all(p.parts[:2] == ("data", "incidents") for p in outside if len(p.parts) > 1)


def test_longest_safe_id_is_accepted(repo: TinyDBRepository) -> None:
    longest = "I" + "x" * 79
    repo.create(longest).append("note", "ok", actor="ann")
    assert repo.ids() == [longest]


def test_create_refuses_an_existing_id(repo: TinyDBRepository) -> None:
    filled(repo, 2)
    with pytest.raises(FileExistsError):
        repo.create("INC-1")
    assert len(repo.open("INC-1").events()) == 2  # untouched


def test_create_refuses_an_id_whose_journal_survived(repo: TinyDBRepository) -> None:
    store = filled(repo, 2)
    store.path.unlink()  # the snapshot lost, its events still in the journal
    with pytest.raises(FileExistsError):
        repo.create("INC-1")
    assert repo.new_id(now=T0) != "INC-1"


def test_concurrent_create_of_one_id_has_one_winner(repo: TinyDBRepository) -> None:
    barrier = threading.Barrier(8)

    def attempt(_: int) -> str:
        barrier.wait()
        try:
            TinyDBRepository(repo.data_dir).create("INC-RACE").close()
            return "created"
        except FileExistsError:
            return "exists"

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8)))
    assert sorted(results) == ["created"] + ["exists"] * 7
    assert repo.ids() == ["INC-RACE"]


def test_open_unknown_id(repo: TinyDBRepository) -> None:
    with pytest.raises(IncidentNotFound):
        repo.open("INC-20990101-000000")
    repo.create("INC-1")
    with pytest.raises(IncidentNotFound):
        repo.open("INC-2", read_only=True)
    assert issubclass(IncidentNotFound, StoreError)


def test_ids_oldest_first_and_only_incidents(repo: TinyDBRepository) -> None:
    assert repo.ids() == []  # no folder yet
    for incident_id in (
        "INC-20261122-223605-10",
        "INC-20261122-223606",
        "INC-20261122-223605",
        "INC-20261122-223605-2",
        "INC-20251231-235959",
    ):
        repo.create(incident_id).close()
    (repo.dir / "notes.txt").write_text("x")
    (repo.dir / ".INC-20261122-223605.abcd1234.tmp").write_text("{")
    (repo.dir / "..json").write_text("{}")
    (repo.dir / "dir.json").mkdir()
    assert repo.ids() == [
        "INC-20251231-235959",
        "INC-20261122-223605",
        "INC-20261122-223605-2",
        "INC-20261122-223605-10",
        "INC-20261122-223606",
    ]


def test_chain_links_hold_after_many_appends_and_reopen(repo: TinyDBRepository) -> None:
    filled(repo, 300).close()
    evs = repo.open("INC-1").events()
    assert evs[0].prev == GENESIS
    assert all(b.prev == a.hash for a, b in itertools.pairwise(evs))
    assert [e.seq for e in evs] == list(range(1, 301))
