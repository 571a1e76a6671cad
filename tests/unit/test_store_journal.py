"""The incident store: chain, tamper detection, torn writes, ids, read-only, side docs."""

import itertools
import json
import os
from pathlib import Path

import pytest

from warroom.model import event_hash
from warroom.store import GENESIS, IncidentNotFound, ReadOnlyStore, verify_chain
from warroom.store.tinydb import TinyDBRepository


@pytest.fixture
def repo(tmp_path: Path) -> TinyDBRepository:
    return TinyDBRepository(tmp_path)


def filled(repo: TinyDBRepository, n: int = 5):
    store = repo.create(repo.new_id())
    for i in range(n):
        store.append("note", f"note {i}", actor="ann", data={"i": i})
    return store


def test_chain_links_and_hashes(repo) -> None:
    store = filled(repo)
    evs = store.events()
    assert [e.seq for e in evs] == [1, 2, 3, 4, 5]
    assert evs[0].prev == GENESIS
    for a, b in itertools.pairwise(evs):
        assert b.prev == a.hash
    assert all(event_hash(e.body()) == e.hash for e in evs)
    assert store.verify().ok and store.verify().checked == 5


def test_reopen_after_compaction_keeps_everything(repo) -> None:
    store = filled(repo, 50)
    store.compact()
    store.append("note", "after compaction", actor="bo")
    store.close()
    again = repo.open(store.incident_id)
    assert len(again.events()) == 51 and again.verify().ok
    assert json.loads(again.path.read_text())["events"]["1"]["text"] == "note 0"  # TinyDB file


def docs_of(store) -> list[dict]:
    store.compact()
    data = json.loads(store.path.read_text())
    return [data["events"][k] for k in sorted(data["events"], key=int)]


def test_verify_names_altered_removed_and_inserted(repo) -> None:
    store = filled(repo)
    docs = docs_of(store)
    altered = [dict(d) for d in docs]
    altered[2]["text"] = "rewritten"
    assert verify_chain(altered).problem == "event 3 was altered (hash mismatch)"
    removed = docs[:2] + docs[3:]
    r = verify_chain(removed)
    assert r.problem == "event 3 was removed" and r.seq == 3
    forged = dict(docs[1])
    forged["text"] = "inserted"
    forged["hash"] = event_hash({k: forged[k] for k in forged if k != "hash"})
    inserted = [*docs[:2], forged, *docs[2:]]
    assert "inserted before 3" in verify_chain(inserted).problem
    # Rewriting an event and recomputing its hash breaks the next link.
    rehashed = [dict(d) for d in docs]
    rehashed[1]["text"] = "quietly changed"
    rehashed[1]["hash"] = event_hash({k: rehashed[1][k] for k in rehashed[1] if k != "hash"})
    assert verify_chain(rehashed).problem.startswith("event 2 was altered or replaced")


def test_verify_reads_the_disk(repo) -> None:
    store = filled(repo)
    text = store.journal_path.read_text().replace("note 3", "note X")
    store.journal_path.write_text(text)
    report = repo.open(store.incident_id, read_only=True).verify()
    assert not report.ok and report.seq == 4


def test_torn_tail_is_ignored_then_cut(repo) -> None:
    store = filled(repo, 3)
    with open(store.journal_path, "ab") as f:
        f.write(b'{"t": "events", "id": "4", "doc": {"seq": 4, "te')  # killed mid-write
    again = repo.open(store.incident_id)
    assert len(again.events()) == 3
    ev = again.append("note", "next", actor="ann")
    assert ev.seq == 4
    assert repo.open(store.incident_id).verify().ok
    assert again.journal_path.read_bytes().count(b"\n") == 4


@pytest.mark.parametrize("bad", ["../../etc/passwd", "a/b", "", ".hidden", "x" * 81, "a..b"])
def test_hostile_ids_are_refused(repo, bad) -> None:
    with pytest.raises(ValueError):
        repo.open(bad)
    with pytest.raises(ValueError):
        repo.create(bad)


def test_unknown_and_duplicate_ids(repo) -> None:
    with pytest.raises(IncidentNotFound):
        repo.open("INC-20990101-000000")
    store = repo.create("INC-1")
    with pytest.raises(FileExistsError):
        repo.create("INC-1")
    assert repo.new_id("INC") != "INC-1"
    assert repo.ids() == ["INC-1"]
    store.close()


def test_read_only_refuses_writes_and_follows(repo) -> None:
    writer = filled(repo, 2)
    reader = repo.open(writer.incident_id, read_only=True)
    with pytest.raises(ReadOnlyStore):
        reader.append("note", "x", actor="bo")
    with pytest.raises(ReadOnlyStore):
        reader.put_doc("outbox", "k", {})
    assert [e.seq for e in reader.refresh()] == [1, 2]
    assert reader.refresh() == []
    writer.append("note", "new", actor="ann")
    assert [e.text for e in reader.refresh()] == ["new"]


def test_side_docs_are_upserted_and_queryable(repo) -> None:
    store = filled(repo, 1)
    store.put_doc("outbox", "2:slack", {"state": "pending", "attempts": 0})
    store.put_doc("outbox", "2:slack", {"state": "delivered", "attempts": 1})
    store.put_doc("outbox", "2:teams", {"state": "pending", "attempts": 3})
    assert store.get_doc("outbox", "2:slack")["state"] == "delivered"
    assert [d["attempts"] for d in store.query("outbox", state="pending")] == [3]
    other = repo.open(store.incident_id)
    assert set(other.docs("outbox")) == {"2:slack", "2:teams"}
    assert other.verify().ok  # side docs are not part of the chain


def test_files_are_private(repo) -> None:
    store = filled(repo, 1)
    assert oct(os.stat(store.path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(store.journal_path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(store.evidence_dir).st_mode & 0o777) == "0o700"
