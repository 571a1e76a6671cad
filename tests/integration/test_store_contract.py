"""The IncidentStore / IncidentRepository contract, written once and run against both backends:
the TinyDB journal store and PostgreSQL (a real server, tests/fixtures/postgres_server.py).

Two repositories with different data dirs on one backend are two hosts: for TinyDB they share
the incidents folder (as two processes on one host do), for PostgreSQL the database.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import tamper as tamper_trials
from tests.support import wait_for
from warroom.model import Event, event_hash
from warroom.store import (
    GENESIS,
    ChainReport,
    IncidentNotFound,
    IncidentRepository,
    IncidentStore,
    ReadOnlyStore,
    StoreError,
    open_repository,
)

T0 = datetime(2026, 11, 22, 22, 36, 5, tzinfo=UTC)
Hosts = Callable[[str], IncidentRepository]


@pytest.fixture(params=["tinydb", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def host(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Hosts:
    """host("a"), host("b"): repositories as two responders' machines see the store."""
    dsn = request.getfixturevalue("pg_dsn") if backend == "postgres" else None
    shared = tmp_path / "shared"

    def make(name: str) -> IncidentRepository:
        if backend == "tinydb":
            return open_repository(shared)
        return open_repository(tmp_path / name, "postgres", dsn)

    return make


@pytest.fixture
def repo(host: Hosts) -> IncidentRepository:
    return host("a")


def filled(repo: IncidentRepository, n: int = 5, incident_id: str = "INC-1") -> IncidentStore:
    store = repo.create(incident_id)
    for i in range(1, n + 1):
        store.append("note", f"note {i}", actor="ann", data={"i": i}, ts=T0 + timedelta(i))
    return store


def tamper(backend: str, store: IncidentStore, seq: int, change: Callable[[dict], dict]) -> None:
    """Rewrite one stored event behind the store's back, as someone with disk or SQL access."""
    if backend == "tinydb":
        store.compact()
        data = json.loads(store.path.read_text())
        data["events"][str(seq)] = change(data["events"][str(seq)])
        store.path.write_text(json.dumps(data))
        return
    import psycopg

    with psycopg.connect(store.repo.dsn, autocommit=True) as conn:
        body = conn.execute(
            "SELECT body FROM events WHERE incident_id = %s AND seq = %s",
            (store.incident_id, seq),
        ).fetchone()[0]
        new = json.dumps(change(json.loads(body)))
        conn.execute(
            "UPDATE events SET body = %s WHERE incident_id = %s AND seq = %s",
            (new, store.incident_id, seq),
        )


def test_append_builds_one_chain(repo: IncidentRepository) -> None:
    store = repo.create("INC-1")
    a = store.append("declared", "Checkout errors", actor="ann", data={"severity": "P1"}, ts=T0)
    b = store.append("note", "looking", actor="bo", data={"pods": ("a", "b"), 7: "x"})
    assert (a.seq, a.prev, a.ts) == (1, GENESIS, "2026-11-22T22:36:05.000+00:00")
    assert (b.seq, b.prev, b.data) == (2, a.hash, {"pods": ["a", "b"], "7": "x"})
    assert all(e.hash == event_hash(e.body()) for e in (a, b))
    assert store.events() == [a, b] and store.last() == b
    assert store.verify() == ChainReport(True, 2, None, None)
    with pytest.raises(TypeError):  # not JSON: refused before anything is written
        store.append("note", "x", actor="ann", data={"when": object()})
    assert store.append("note", "y", actor="ann").seq == 3


def test_two_hosts_append_to_one_chain_and_follow(host: Hosts) -> None:
    one = filled(host("a"), 2)
    two = host("b").open("INC-1")
    assert [e.seq for e in two.refresh()] == [1, 2]
    for i in range(6):
        (one if i % 2 else two).append("note", str(i), actor="x")
    assert [e.text for e in one.events()][2:] == [str(i) for i in range(6)]
    # Another host's append reaches a reader by notification (PostgreSQL: LISTEN, a few ms
    # later); "5" was one's, so two sees it once the notification lands.
    assert wait_for(lambda: two.events() == one.events(), 5)
    mine = one.append("note", "mine", actor="ann")
    theirs = two.append("note", "theirs", actor="bo")
    got: list = []

    def both() -> list | None:  # a notification may bring them one at a time
        got.extend(one.refresh())
        return got if len(got) >= 2 else None

    assert wait_for(both, 5)[-2:] == [mine, theirs]
    assert one.refresh() == [] and one.verify().ok
    assert [e.seq for e in two.events(since_seq=9)] == [10]


def test_appends_from_threads(repo: IncidentRepository) -> None:
    store = repo.create("INC-1")

    def work(t: int) -> None:
        for i in range(25):
            store.append("note", f"{t}/{i}", actor=f"thread{t}")

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(4)))
    assert [e.seq for e in store.events()] == list(range(1, 101))
    assert store.verify() == ChainReport(True, 100, None, None)


def test_transaction_is_exclusive_across_hosts(host: Hosts) -> None:
    """What record_once relies on: read, decide, append, with nobody in between."""
    filled(host("a"), 1).close()
    stores = [host(name).open("INC-1") for name in ("a", "b", "c", "d")]
    barrier = threading.Barrier(len(stores))

    def once(store: IncidentStore) -> None:
        barrier.wait()
        for _ in range(5):
            with store.transaction():
                if not any(e.data.get("key") == "alert-1" for e in store.events()):
                    store.append("alert", "fired", actor="am", data={"key": "alert-1"})

    with ThreadPoolExecutor(len(stores)) as pool:
        list(pool.map(once, stores))
    keyed = [e for e in stores[0].events() if e.data.get("key") == "alert-1"]
    assert len(keyed) == 1


def test_side_documents(host: Hosts) -> None:
    store = filled(host("a"), 1)
    assert store.get_doc("outbox", "2:slack") is None and store.docs("outbox") == {}
    store.put_doc("outbox", "2:slack", {"state": "pending", "attempts": 0})
    store.put_doc("outbox", "2:slack", {"state": "delivered", "attempts": 1})
    store.put_doc("outbox", "3:teams", {"state": "pending", "tags": ["a"]})
    got = store.get_doc("outbox", "2:slack")
    assert got == {"state": "delivered", "attempts": 1}
    got["state"] = "changed"  # a copy: the store does not change
    assert store.get_doc("outbox", "2:slack")["state"] == "delivered"
    other = host("b").open("INC-1")
    assert other.docs("outbox") == {
        "2:slack": {"state": "delivered", "attempts": 1},
        "3:teams": {"state": "pending", "tags": ["a"]},
    }
    assert other.update_doc("outbox", "3:teams", lambda d: None) is None  # declined
    bumped = other.update_doc("outbox", "3:teams", lambda d: {**d, "attempts": 1})
    assert bumped == {"state": "pending", "tags": ["a"], "attempts": 1}
    assert store.get_doc("outbox", "3:teams") == bumped
    assert other.update_doc("outbox", "4:new", lambda d: {"was": d}) == {"was": None}
    with pytest.raises(StoreError):
        store.put_doc("events", "1", store.events()[0].to_dict() | {"text": "rewritten"})
    assert store.verify().ok and len(other.events()) == 1  # documents are not in the chain


def test_read_only_refuses_writes(repo: IncidentRepository) -> None:
    filled(repo, 2).close()
    reader = repo.open("INC-1", read_only=True)
    assert reader.read_only
    for write in (
        lambda: reader.append("note", "x", actor="bo"),
        lambda: reader.put_doc("outbox", "k", {}),
        lambda: reader.update_doc("outbox", "k", lambda d: {}),
    ):
        with pytest.raises(ReadOnlyStore):
            write()
    assert [e.seq for e in reader.events()] == [1, 2]
    reader.close()


@pytest.mark.parametrize(
    ("seq", "change", "problem"),
    [
        (3, lambda d: {**d, "text": "nothing happened"}, "event 3 was altered (hash mismatch)"),
        (1, lambda d: {**d, "actor": "eve"}, "event 1 was altered (hash mismatch)"),
    ],
)
def test_verify_names_an_altered_event(
    backend: str, repo: IncidentRepository, seq: int, change: Callable, problem: str
) -> None:
    store = filled(repo, 5)
    tamper(backend, store, seq, change)
    fresh = repo.open("INC-1", read_only=True)
    assert fresh.verify() == ChainReport(False, seq, problem, seq)


def test_verify_names_a_renumbered_chain(backend: str, repo: IncidentRepository) -> None:
    store = filled(repo, 5)

    def forge(d: dict) -> dict:  # event 4 rewritten and rehashed: only the link tells
        d = {**d, "text": "forged"}
        return {**d, "hash": event_hash({k: v for k, v in d.items() if k != "hash"})}

    tamper(backend, store, 4, forge)
    report = repo.open("INC-1", read_only=True).verify()
    assert (report.ok, report.seq) == (False, 4)
    assert report.problem.startswith("event 4 was altered or replaced")


def test_repository_ids(repo: IncidentRepository) -> None:
    assert repo.ids() == [] and repo.newest_open() is None
    assert repo.new_id(now=T0) == "INC-20261122-223605"
    repo.create("INC-20261122-223605").close()
    assert repo.new_id(now=T0) == "INC-20261122-223605-2"
    with pytest.raises(FileExistsError):
        repo.create("INC-20261122-223605")
    for incident_id in ("INC-20261122-223605-10", "INC-20261122-223605-2", "INC-20251231-1"):
        repo.create(incident_id).close()
    assert repo.ids() == [
        "INC-20251231-1",
        "INC-20261122-223605",
        "INC-20261122-223605-2",
        "INC-20261122-223605-10",
    ]
    with pytest.raises(IncidentNotFound):
        repo.open("INC-20990101-000000")
    for bad in ("../../etc", "a/b", "", "a..b", "x" * 81, "INC-1\n"):
        with pytest.raises(ValueError):
            repo.create(bad)
        with pytest.raises(ValueError):
            repo.open(bad)


def test_newest_open_skips_resolved(repo: IncidentRepository) -> None:
    for incident_id, kinds in (("INC-1", ["declared"]), ("INC-2", ["declared", "resolved"])):
        store = repo.create(incident_id)
        for k in kinds:
            store.append(k, k, actor="ann", data={"title": "t", "severity": "P2"})
        store.close()
    assert repo.newest_open() == "INC-1"


def test_concurrent_create_of_one_id_has_one_winner(host: Hosts) -> None:
    barrier = threading.Barrier(6)
    repos = [host(f"h{i}") for i in range(6)]

    def attempt(r: IncidentRepository) -> str:
        barrier.wait()
        try:
            r.create("INC-RACE").close()
            return "created"
        except FileExistsError:
            return "exists"

    with ThreadPoolExecutor(6) as pool:
        assert sorted(pool.map(attempt, repos)) == ["created"] + ["exists"] * 5


def test_restore_keeps_the_chain_as_it_is(repo: IncidentRepository) -> None:
    source = filled(repo, 4)
    events: list[Event] = source.events()
    docs = {"outbox": {"3:file": {"state": "pending"}}}
    copy = repo.restore("INC-COPY", events, docs)
    assert copy.events() == events  # same seqs, hashes, links
    assert copy.verify() == ChainReport(True, 4, None, None)
    assert copy.docs("outbox") == docs["outbox"]
    nxt = copy.append("note", "after the copy", actor="ann")
    assert (nxt.seq, nxt.prev) == (5, events[-1].hash)
    with pytest.raises(FileExistsError):
        repo.restore("INC-COPY", events, {})


def test_link_says_online(repo: IncidentRepository, backend: str) -> None:
    link = filled(repo, 1).link()
    assert (link.backend, link.offline_since, link.spooled) == (backend, None, 0)


def test_chain_holds_after_many_appends_and_reopen(repo: IncidentRepository) -> None:
    filled(repo, 300).close()
    evs = repo.open("INC-1").events()
    assert evs[0].prev == GENESIS
    assert all(b.prev == a.hash for a, b in itertools.pairwise(evs))
    assert [e.seq for e in evs] == list(range(1, 301))


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (tamper_trials.edit(2), "was rewritten after ann@example signed it"),
        (tamper_trials.delete(2), "events before it were removed"),
        (tamper_trials.swap(2, 3), "was rewritten after ann@example signed it"),
        (tamper_trials.insert_after(1), "was rewritten after ann@example signed it"),
    ],
)
def test_signed_checkpoints_catch_a_recomputed_chain(
    backend: str, repo: IncidentRepository, tmp_path: Path, ssh_keys, change, reason
) -> None:
    """Signed checkpoints work on both backends: a chain rewritten and rehashed in the store
    (files or SQL) passes the chain check, and fails the checkpoint that signed it."""
    from warroom.room import WarRoom
    from warroom.settings import load_settings
    from warroom.settings.signing import SigningSettings
    from warroom.trust.checkpoints import Signer
    from warroom.trust.sshsig import SshTool
    from warroom.trust.verify import verify_checkpoints

    store = filled(repo, 4)
    room = WarRoom(store, load_settings(env={"USER": "ann"}, data_dir=tmp_path / "cfg"))
    signing = SigningSettings(key=ssh_keys.private("ann"), allowed_signers=ssh_keys.allowed_signers)
    checkpoint = Signer(signing).sign_head(room)
    assert checkpoint is not None and checkpoint.seq == 5

    def report(s: IncidentStore):
        return verify_checkpoints("INC-1", s.events(), ssh_keys.allowed_signers, SshTool())

    reopened = repo.open("INC-1", read_only=True)
    assert [c.ok for c in report(reopened).checks] == [True]
    reopened.close()
    tamper_trials.rewrite(backend, store, change)
    fresh = repo.open("INC-1", read_only=True)
    assert fresh.verify().ok
    (failure,) = report(fresh).failures
    assert reason in failure.problem
