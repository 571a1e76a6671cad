"""What signed checkpoints cost: one signature (key file, ssh-agent), `warroom verify`'s
checkpoint pass over a long incident, and the console's once-a-second "is signing due?" on a
big timeline. Goals: a signature well under the console's 1 s tick (it runs in a thread
anyway); verifying a day-long incident (1,440 checkpoints at one a minute) in seconds;
signing_due under 5 ms at 20k events.

    python bench/trust.py [CHECKPOINTS]      (default 600: ten hours at one a minute)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warroom.model import Kind
from warroom.room import WarRoom
from warroom.settings import load_settings
from warroom.settings.signing import SigningSettings
from warroom.store.tinydb import TinyDBRepository
from warroom.trust.checkpoints import Signer, SigningClock, signing_due
from warroom.trust.sshsig import SshTool
from warroom.trust.verify import verify_checkpoints


def keys(d: Path) -> tuple[Path, Path]:
    key = d / "ann"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    allowed = d / "allowed_signers"
    allowed.write_text(f"ann {(d / 'ann.pub').read_text()}")
    return key, allowed


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def say(label: str, ms: list[float]) -> None:
    print(f"{label}: p50 {statistics.median(ms):.3f} ms, max {max(ms):.1f} ms")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 600
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        key, allowed = keys(d)
        settings = load_settings(env={"USER": "ann"}, data_dir=d / "data")
        repo = TinyDBRepository(settings.data_dir)
        clock = [datetime(2026, 12, 1, tzinfo=UTC)]
        room = WarRoom.declare(repo, settings, title="bench", severity="P1", clock=lambda: clock[0])
        signer = Signer(SigningSettings(key=key, allowed_signers=allowed))

        def one() -> None:
            room.add_note("checkout error ratio 4.2% and rising")
            signer.sign_head(room)

        say("note + checkpoint (key file)", timed(one, 50))

        agent = subprocess.Popen(
            ["ssh-agent", "-D", "-a", str(d / "sock")], stdout=subprocess.DEVNULL
        )
        try:
            while not (d / "sock").exists():
                time.sleep(0.01)
            env = {**os.environ, "SSH_AUTH_SOCK": str(d / "sock")}
            subprocess.run(["ssh-add", "-q", str(key)], env=env, check=True)
            by_agent = Signer(SigningSettings(agent_socket=str(d / "sock")))
            signer_key = by_agent.load_key()
            assert signer_key.source == "ssh-agent"
            room2 = WarRoom.declare(repo, settings, title="agent", severity="P1")

            def two() -> None:
                room2.add_note("x")
                by_agent.sign_head(room2)

            say("note + checkpoint (ssh-agent)", timed(two, 50))
        finally:
            agent.terminate()
            agent.wait()

        for _ in range(count - 50):
            one()
        events = room.store.events()
        n_cp = sum(1 for e in events if e.kind == Kind.CHECKPOINT)
        t0 = time.perf_counter()
        report = verify_checkpoints(room.incident_id, events, allowed, SshTool())
        took = time.perf_counter() - t0
        assert not report.failures
        print(
            f"verify {n_cp} checkpoints ({len(events)} events): {took:.2f} s "
            f"({took / n_cp * 1000:.1f} ms each, 4 ssh-keygen at a time)"
        )

        big = WarRoom.declare(repo, settings, title="big", severity="P1")
        for i in range(20_000):
            big.store.append("check", f"c {i}", actor="prometheus", data={})
        big.refresh()
        ms = timed(
            lambda: signing_due(
                big.events, "ann", "SHA256:x", clock[0] + timedelta(hours=1), timedelta(seconds=60)
            ),
            20,
        )
        print(
            f"signing_due over {len(big.events)} events, cold: p50 {statistics.median(ms):.2f} ms"
        )
        tracker = SigningClock("ann")
        later = clock[0] + timedelta(hours=1)
        tracker.due(big.events, "SHA256:x", later, timedelta(seconds=60))
        ms = timed(lambda: tracker.due(big.events, "SHA256:x", later, timedelta(seconds=60)), 20)
        print(f"the console's tick (SigningClock, nothing new): p50 {statistics.median(ms):.3f} ms")


if __name__ == "__main__":
    main()
