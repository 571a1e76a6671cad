"""The store under real processes: writers SIGKILLed at random moments (mid-append, mid-fsync,
mid-compaction) never lose an acknowledged event nor leave a store that will not open or verify;
four processes appending at once build one intact chain."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from warroom.store.tinydb import TinyDBRepository

ROOT = Path(__file__).resolve().parents[2]

# argv: data_dir incident compact_inline_bytes. Prints a seq only after append() returned.
WRITER = """
import sys
from pathlib import Path
from warroom.store.tinydb import TinyDBRepository
store = TinyDBRepository(Path(sys.argv[1])).open(sys.argv[2])
store.storage.compact_inline_bytes = int(sys.argv[3])  # small: kills land mid-compaction too
i = 0
while True:
    i += 1
    ev = store.append("note", "x" * (i * 37 % 900), actor="crash", data={"i": i, "pid": 1})
    print(ev.seq, flush=True)
    if i % 5 == 0:
        store.put_doc("outbox", f"{ev.seq}:file", {"state": "pending", "i": i})
"""


def spawn(data_dir: Path, incident: str, compact_bytes: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data_dir), incident, str(compact_bytes)],
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )


def acknowledged(out: bytes) -> list[int]:
    # Only complete lines: a line cut by the kill was never fully printed.
    return [int(x) for x in out.split(b"\n")[:-1]]


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_acknowledged(tmp_path: Path) -> None:
    repo = TinyDBRepository(tmp_path)
    incident = "INC-CRASH"
    repo.create(incident).close()
    rng = random.Random(20261122)
    acked: set[int] = set()
    for trials in range(1, 31):
        # Every third trial compacts whenever the journal passes 2 KB (so often mid-kill);
        # every fourth runs two writers at once and kills both.
        compact = 2048 if trials % 3 == 0 else 8 << 20
        procs = [spawn(tmp_path, incident, compact) for _ in range(2 if trials % 4 == 0 else 1)]
        first = procs[0].stdout.readline()  # appending has begun: kill somewhere in the loop
        assert first, procs[0].communicate()
        time.sleep(rng.random() * 0.08)
        for p in procs:
            p.send_signal(signal.SIGKILL)
        outs = [first + p.communicate()[0] for p in procs[:1]]
        outs += [p.communicate()[0] for p in procs[1:]]
        for p in procs:
            assert p.returncode == -signal.SIGKILL
        mine = [acknowledged(out) for out in outs]
        for seqs in mine:
            assert seqs == sorted(seqs)
            acked.update(seqs)

        with repo.open(incident, read_only=True) as store:  # readers never repair: opens as is
            report = store.verify()
            assert report.ok, f"trial {trials}: {report.problem}"
            seqs = [e.seq for e in store.events()]
            assert seqs == list(range(1, len(seqs) + 1)), f"trial {trials}: not contiguous"
            lost = acked - set(seqs)
            assert not lost, f"trial {trials}: acknowledged but lost: {sorted(lost)[:5]}"
        if trials % 7 == 0:
            # A SIGKILL hardly ever tears one small write(); a power cut can. Leave half a
            # line behind, as that would, for the next writer to cut.
            journal = tmp_path / "incidents" / f"{incident}.journal"
            line = b'{"t":"events","id":"999999","doc":{"seq":999999,"text":"torn"}}\n'
            with open(journal, "ab") as f:
                f.write(line[: rng.randrange(1, len(line) - 1)])
        if trials % 5 == 0:  # a writer that closes normally in between
            with repo.open(incident) as store:
                store.append("note", "between trials", actor="test")
    with repo.open(incident) as store:  # the next writer cuts any torn tail and carries on
        ev = store.append("note", "after the storm", actor="test")
        assert ev.seq == len(store.events()) and store.verify().ok
        assert store.journal_path.read_bytes().endswith(b"\n")
        store.compact()
    assert len(acked) > 200
    stray = [p.name for p in tmp_path.joinpath("incidents").iterdir() if p.suffix == ".tmp"]
    assert stray == []  # compaction cleaned what killed compactions left


CONCURRENT = """
import sys
from pathlib import Path
from warroom.store.tinydb import TinyDBRepository
store = TinyDBRepository(Path(sys.argv[1])).open(sys.argv[2])
sys.stdout.write("ready\\n"); sys.stdout.flush()
sys.stdin.readline()  # start together
for i in range(200):
    store.append("note", f"{sys.argv[3]}:{i}", actor=f"writer{sys.argv[3]}", data={"i": i})
store.close()
"""


@pytest.mark.slow
def test_four_processes_append_to_one_incident(tmp_path: Path) -> None:
    repo = TinyDBRepository(tmp_path)
    repo.create("INC-BUSY").close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT, str(tmp_path), "INC-BUSY", str(w)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
        )
        for w in range(4)
    ]
    for p in procs:
        assert p.stdout.readline() == b"ready\n"
    for p in procs:
        p.stdin.write(b"go\n")
        p.stdin.flush()
    for p in procs:
        p.communicate(timeout=120)
        assert p.returncode == 0
    with repo.open("INC-BUSY", read_only=True) as store:
        events = store.events()
        assert [e.seq for e in events] == list(range(1, 801))
        assert store.verify().ok and store.verify().checked == 800
        by_writer: dict[str, list[int]] = {}
        for e in events:
            w, i = e.text.split(":")
            by_writer.setdefault(w, []).append(int(i))
        assert by_writer == {str(w): list(range(200)) for w in range(4)}  # each in its order
