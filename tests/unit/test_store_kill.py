"""Crash safety: a writer SIGKILLed at random moments never loses an acknowledged event and
never leaves a store that will not open or verify."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from warroom.store.tinydb import TinyDBRepository

WRITER = """
import sys
from pathlib import Path
from warroom.store.tinydb import TinyDBRepository
store = TinyDBRepository(Path(sys.argv[1])).open(sys.argv[2])
i = 0
while True:
    i += 1
    ev = store.append("note", "x" * (i % 300), actor="crash", data={"i": i})
    print(ev.seq, flush=True)   # printed only after append() returned (fsynced)
"""


@pytest.mark.slow
def test_sigkill_at_random_moments(tmp_path: Path) -> None:
    repo = TinyDBRepository(tmp_path)
    incident = repo.new_id()
    repo.create(incident).close()
    rng = random.Random(1234)
    acknowledged: set[int] = set()
    for trial in range(30):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path), incident],
            stdout=subprocess.PIPE,
            text=True,
        )
        time.sleep(0.15 + rng.random() * 0.25)  # interpreter start plus a random stretch
        os.kill(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        acknowledged.update(int(x) for x in out.split())
        if trial % 10 == 9:  # some trials compact in between, as a closing console would
            s = repo.open(incident)
            s.compact()
            s.close()
        with repo.open(incident, read_only=True) as store:
            report = store.verify()
            assert report.ok, f"trial {trial}: {report.problem}"
            seqs = {e.seq for e in store.events()}
            missing = acknowledged - seqs
            assert not missing, f"trial {trial}: acknowledged but lost: {sorted(missing)[:5]}"
    assert len(acknowledged) > 100
