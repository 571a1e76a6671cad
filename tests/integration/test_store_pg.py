"""PostgreSQL under real processes and real outages: 8 writers x 500 events, kill -9 trials,
row claims that skip a held row, notifications, the schema check, the spool and its replay,
and the CLI (`store migrate`, `store copy` both ways, `list`, `stats`) on a real server."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest

from tests.fixtures.postgres_server import PostgresServer
from tests.support import wait_for
from warroom.cli import main
from warroom.store import StoreError, open_repository
from warroom.store.pg_repository import PostgresRepository

ROOT = Path(__file__).resolve().parents[2]

CONCURRENT = """
import sys
from warroom.store import open_repository
store = open_repository(sys.argv[1], "postgres", sys.argv[2]).open("INC-BUSY")
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()  # start together
for i in range(int(sys.argv[4])):
    store.append("note", f"{sys.argv[3]}:{i}", actor=f"writer{sys.argv[3]}", data={"i": i})
store.close()
"""

WRITER = """
import sys
from warroom.store import open_repository
store = open_repository(sys.argv[1], "postgres", sys.argv[2]).open("INC-CRASH")
i = 0
while True:
    i += 1
    ev = store.append("note", "x" * (i * 37 % 900), actor="crash", data={"i": i})
    print(ev.seq, flush=True)  # only after the commit returned
"""


def repo_at(tmp_path: Path, dsn: str, name: str = "a") -> PostgresRepository:
    repo = open_repository(tmp_path / name, "postgres", dsn)
    assert isinstance(repo, PostgresRepository)
    return repo


@pytest.mark.slow
def test_eight_writer_processes_lose_and_duplicate_nothing(tmp_path: Path, pg_dsn: str) -> None:
    repo_at(tmp_path, pg_dsn).create("INC-BUSY").close()
    n = 500
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, str(tmp_path / f"h{w}"), pg_dsn, str(w), str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        for w in range(8)
    ]
    for p in procs:
        assert p.stdout.readline() == b"ready\n"
    for p in procs:
        p.stdin.write(b"go\n")
        p.stdin.flush()
    for p in procs:
        p.communicate(timeout=300)
        assert p.returncode == 0
    with repo_at(tmp_path, pg_dsn).open("INC-BUSY", read_only=True) as store:
        events = store.events()
        assert [e.seq for e in events] == list(range(1, 8 * n + 1))
        assert store.verify().ok and store.verify().checked == 8 * n
        by_writer: dict[str, list[int]] = {}
        for e in events:
            w, i = e.text.split(":")
            by_writer.setdefault(w, []).append(int(i))
        assert by_writer == {str(w): list(range(n)) for w in range(8)}  # each in its order


@pytest.mark.slow
def test_kill_9_writers_lose_nothing_acknowledged(tmp_path: Path, pg_dsn: str) -> None:
    repo = repo_at(tmp_path, pg_dsn)
    repo.create("INC-CRASH").close()
    rng = random.Random(20261202)
    acked: set[int] = set()
    for trial in range(12):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, str(tmp_path / f"w{k}"), pg_dsn],
                stdout=subprocess.PIPE,
                cwd=ROOT,
            )
            for k in range(2 if trial % 3 == 0 else 1)
        ]
        firsts = [p.stdout.readline() for p in procs]
        assert all(firsts), "a writer did not start"
        time.sleep(rng.random() * 0.3)
        for p in procs:
            p.send_signal(signal.SIGKILL)
        for p, first in zip(procs, firsts, strict=True):
            out = first + p.communicate()[0]
            assert p.returncode == -signal.SIGKILL
            seqs = [int(x) for x in out.split(b"\n")[:-1]]
            assert seqs == sorted(seqs)
            acked.update(seqs)
        with repo.open("INC-CRASH", read_only=True) as store:
            report = store.verify()
            assert report.ok, f"trial {trial}: {report.problem}"
            seqs = [e.seq for e in store.events()]
            assert seqs == list(range(1, len(seqs) + 1))
            assert not acked - set(seqs), f"trial {trial}: acknowledged but lost"
    with repo.open("INC-CRASH") as store:  # the advisory lock died with its holder
        assert store.append("note", "after the storm", actor="t").seq == len(store.events())
    assert len(acked) > 50


def test_a_claim_skips_a_row_another_host_holds(tmp_path: Path, pg_dsn: str) -> None:
    store = repo_at(tmp_path, pg_dsn).create("INC-1")
    store.put_doc("outbox", "2:slack", {"state": "pending"})
    other = repo_at(tmp_path, pg_dsn, "b").open("INC-1")
    with psycopg.connect(pg_dsn) as holder:  # another host, mid-claim
        holder.execute("SELECT doc FROM docs WHERE key = '2:slack' FOR UPDATE").fetchone()
        # Skipped, not waited for: the lock is held until the rollback below, so a wait
        # would never return.
        assert other.update_doc("outbox", "2:slack", lambda d: {**d, "mine": True}) is None
        holder.rollback()
    assert other.update_doc("outbox", "2:slack", lambda d: {**d, "mine": True}) == {
        "state": "pending",
        "mine": True,
    }


def test_one_update_is_delivered_once_across_hosts(tmp_path: Path, pg_dsn: str) -> None:
    """Two consoles' outboxes on two hosts, delivering at the same moment, to one file."""
    import asyncio

    from warroom.actions.outbox import Outbox
    from warroom.actions.updates import post
    from warroom.destinations import parse_destinations
    from warroom.room import WarRoom
    from warroom.settings import load_settings

    sink = tmp_path / "channel.log"
    dests = parse_destinations([{"name": "log", "type": "file", "path": str(sink)}], "test")
    settings = load_settings(env={"USER": "ann"}, data_dir=tmp_path / "a")
    room = WarRoom.declare(repo_at(tmp_path, pg_dsn), settings, title="t", severity="P2")
    outbox = Outbox(room, dests)
    for i in range(5):
        post(room, f"update {i}", "update", room.clock(), outbox)
    other = WarRoom(repo_at(tmp_path, pg_dsn, "b").open(room.incident_id), settings)
    boxes = [outbox, Outbox(other, dests)]

    async def both() -> None:
        for _ in range(10):
            await asyncio.gather(*(b.deliver_due() for b in boxes))

    asyncio.run(both())
    lines = [x for x in sink.read_text().splitlines() if x.startswith("update ")]
    assert sorted(lines) == [f"update {i}" for i in range(5)]  # each once
    assert boxes[1].undelivered_count() == 0


def test_a_note_on_one_host_is_noticed_through_notify(tmp_path: Path, pg_dsn: str) -> None:
    writer = repo_at(tmp_path, pg_dsn).create("INC-1")
    reader = repo_at(tmp_path, pg_dsn, "b").open("INC-1")
    reader.refresh()  # starts the listener
    wait_for(lambda: reader._listener.live, 10, what="LISTEN in effect")
    reader.refresh()
    assert not reader._listener.stale.is_set()  # nothing new: refresh() asked nothing
    writer.append("note", "from host a", actor="ann")
    wait_for(reader._listener.stale.is_set, 5, what="the notification")
    assert [e.text for e in reader.refresh()] == ["from host a"]


def test_an_unmigrated_database_is_one_line(
    tmp_path: Path, postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    dsn = postgres_server.new_database(migrate=False)
    with pytest.raises(StoreError, match=r"schema version 0, .* run `warroom store migrate`"):
        repo_at(tmp_path, dsn).ids()
    env = {"WARROOM_PG_DSN": dsn, "WARROOM_STORE_BACKEND": "postgres"}
    args = ["--data-dir", str(tmp_path)]
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        assert main(["list", *args]) == 1
        assert main(["store", "migrate", *args]) == 0
        assert main(["store", "migrate", *args]) == 0
        assert main(["list", *args]) == 0
    out, err = capsys.readouterr()
    assert "run `warroom store migrate`" in err and "Traceback" not in err
    assert "applied schema version 1" in out and "(up to date)" in out
    dead = "host=127.0.0.1 port=1 user=x dbname=y connect_timeout=2"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WARROOM_PG_DSN", dead)
        mp.setenv("WARROOM_STORE_BACKEND", "postgres")
        assert main(["list", *args]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("warroom: cannot reach PostgreSQL at x@127.0.0.1:1/y")
    assert len(err.splitlines()) == 1


def test_cli_copy_both_ways_list_and_stats(
    tmp_path: Path, pg_dsn: str, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("WARROOM_PG_DSN", pg_dsn)
    monkeypatch.delenv("WARROOM_STORE_BACKEND", raising=False)
    a = ["--data-dir", str(tmp_path / "a")]
    assert main(["declare", "--title", "Checkout down", "--severity", "P1", *a]) == 0
    incident = capsys.readouterr().out.strip()
    assert main(["note", "--incident", incident, "looking", *a]) == 0
    assert main(["ack", "--incident", incident, *a]) == 0
    assert main(["store", "copy", incident, "--to", "postgres", *a]) == 0
    assert "4 events copied to postgres, chain verified" in capsys.readouterr().out
    monkeypatch.setenv("WARROOM_STORE_BACKEND", "postgres")
    b = ["--data-dir", str(tmp_path / "b")]  # another host: nothing on its disk
    assert main(["note", "--incident", incident, "--as", "bo", "from host b", *b]) == 0
    assert main(["resolve", "--incident", incident, "--as", "bo", "fixed", *b]) == 0
    assert main(["verify", incident, *b]) == 0
    assert main(["list", *b]) == 0
    out = capsys.readouterr().out
    assert f"{incident}: chain intact (6 events)" in out
    assert f"{incident}  P1  resolved" in out
    assert main(["stats", "--format", "json", *b]) == 0  # warroom stats on PostgreSQL
    doc = json.loads(capsys.readouterr().out)
    assert doc["incidents"]["count"] == 1 and doc["incidents"]["mtta"]["n"] == 1
    assert main(["store", "copy", incident, "--to", "tinydb", *a]) == 1  # there already
    assert "already exists in tinydb" in capsys.readouterr().err
    c = ["--data-dir", str(tmp_path / "c")]
    assert main(["store", "copy", incident, "--to", "tinydb", *c]) == 0
    assert "6 events copied to tinydb, chain verified" in capsys.readouterr().out
    monkeypatch.setenv("WARROOM_STORE_BACKEND", "tinydb")
    assert main(["verify", incident, *c]) == 0
    assert "chain intact (6 events)" in capsys.readouterr().out
    assert main(["stats", "--format", "json", *c]) == 0
    assert json.loads(capsys.readouterr().out)["incidents"]["count"] == 1


def test_outage_spools_and_replays_in_order(tmp_path: Path, own_postgres: PostgresServer) -> None:
    dsn = own_postgres.new_database()
    store = repo_at(tmp_path, dsn).create("INC-1")
    other = repo_at(tmp_path, dsn, "b").open("INC-1")
    store.append("note", "before", actor="ann")
    store.put_doc("outbox", "1:log", {"state": "pending", "update_seq": 1})
    own_postgres.stop()
    offline = [store.append("note", f"offline {i}", actor="ann") for i in range(3)]
    store.put_doc(
        "outbox",
        f"{offline[2].seq}:log",
        {"key": f"{offline[2].seq}:log", "update_seq": offline[2].seq},
    )
    pin = store.append("pin", "Pinned", actor="ann", data={"target": offline[0].seq})
    link = store.link()
    assert link.offline_since is not None and link.spooled == 4
    assert [e.seq for e in offline] == [2, 3, 4] and store.last() == pin
    assert store.docs("outbox")["1:log"]["state"] == "pending"  # served from what was seen
    assert store.update_doc("outbox", "1:log", lambda d: {**d, "claimed": 1}) is None
    own_postgres.start()
    wait_for(lambda: store.refresh() and store.link().offline_since is None, 15, what="back")
    texts = [(e.seq, e.kind, e.text) for e in store.events()]
    assert texts[0][2] == "before"
    assert texts[1][1] == "system" and "the 4 event(s) it spooled follow" in texts[1][2]
    assert [t[2] for t in texts[2:5]] == ["offline 0", "offline 1", "offline 2"]
    assert texts[5][1] == "pin" and store.events()[5].data["target"] == 3  # followed "offline 0"
    assert texts[6][1] == "system" and "Spool replayed: 4 event(s)" in texts[6][2]
    assert store.link().spooled == 0 and store.link().generation > 0
    assert store.docs("outbox")["5:log"] == {"key": "5:log", "update_seq": 5}
    assert store.verify().ok and store.spool.records() == []
    wait_for(lambda: len(other.events()) == 7, 10)
    assert other.events() == store.events()  # the other host sees the same, once


def test_a_spool_left_behind_is_replayed_once(tmp_path: Path, own_postgres: PostgresServer) -> None:
    dsn = own_postgres.new_database()
    store = repo_at(tmp_path, dsn).create("INC-1")
    store.append("note", "before", actor="ann")
    own_postgres.stop()
    store.append("note", "spooled, then the console died", actor="ann")
    spooled = store.spool.records()
    store.close()
    own_postgres.start()
    again = repo_at(tmp_path, dsn).open("INC-1")  # the next console replays it
    assert [e.text for e in again.events()][2] == "spooled, then the console died"
    # A replay whose commit seemed lost is done again: origins keep it from duplicating.
    for rec in spooled:
        again.spool.write(rec)
    again2 = repo_at(tmp_path, dsn).open("INC-1")
    notes = [e.text for e in again2.events() if e.kind == "note"]
    assert notes == ["before", "spooled, then the console died"]
    assert again2.verify().ok


def test_writers_run_while_the_server_restarts(
    tmp_path: Path, own_postgres: PostgresServer
) -> None:
    """Appends from threads through a stop and a start: nothing lost, nothing twice."""
    dsn = own_postgres.new_database()
    store = repo_at(tmp_path, dsn).create("INC-1")
    stop = threading.Event()
    written: list[str] = []

    def write() -> None:
        i = 0
        while not stop.is_set():
            store.append("note", f"n{i}", actor="ann")
            written.append(f"n{i}")
            i += 1
            time.sleep(0.01)

    t = threading.Thread(target=write)
    t.start()
    time.sleep(0.5)
    own_postgres.stop("immediate")
    time.sleep(1.0)
    own_postgres.start()
    wait_for(lambda: store.refresh() is not None and store.link().offline_since is None, 15)
    time.sleep(0.3)
    stop.set()
    t.join()
    wait_for(lambda: (store.refresh(), store.link().spooled == 0)[1], 10)
    notes = [e.text for e in store.events() if e.kind == "note"]
    assert notes == written
    assert store.verify().ok
    assert os.path.getsize(store.spool.path) == 0
