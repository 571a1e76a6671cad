"""Wall time from process start to the console's first frame, against a bare Textual app with
the same layout measured in the same run (bench/bare_app.py), runs interleaved.

Goal (issue #22): median <= 0.40 s, and <= 1.3x the bare app's median.

Runs `python -m warroom` in a pseudo-terminal against a fresh incident; the app writes the
time of its first frame to $WARROOM_FIRST_FRAME_FILE, then we stop it.
"""

from __future__ import annotations

import contextlib
import os
import pty
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = [sys.executable, str(Path(__file__).with_name("bare_app.py"))]
WARROOM = [sys.executable, "-m", "warroom"]


def one_run(data: Path, cmd: list[str] = WARROOM) -> float:
    marker = data / "first-frame"
    marker.unlink(missing_ok=True)
    env = {
        **os.environ,
        "WARROOM_DATA_DIR": str(data),
        "WARROOM_FIRST_FRAME_FILE": str(marker),
        "TERM": "xterm-256color",
        "COLUMNS": "140",
        "LINES": "44",
    }
    master, slave = pty.openpty()
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    try:
        deadline = t0 + 30
        while time.time() < deadline:
            with contextlib.suppress(OSError):
                os.read(master, 65536)  # keep the pty drained so the app never blocks writing
            if marker.exists() and marker.read_text().strip():
                return float(marker.read_text()) - t0
            time.sleep(0.005)
        raise RuntimeError("no first frame within 30 s")
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
        os.close(master)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "warroom", "declare", "--title", "bench", "--severity", "P1"],
            env={**os.environ, "WARROOM_DATA_DIR": str(data)},
            check=True,
            capture_output=True,
        )
        one_run(data)  # warm the OS file cache, as a second `warroom` in an incident would be
        one_run(data, BARE)
        times, bare = [], []
        for _ in range(5):  # interleaved: both see the same machine load
            times.append(one_run(data))
            bare.append(one_run(data, BARE))
    med, bare_med = statistics.median(times), statistics.median(bare)
    print("startup to first frame (s):", " ".join(f"{t:.3f}" for t in times))
    print("bare Textual app, same layout (s):", " ".join(f"{t:.3f}" for t in bare))
    print(f"load average: {os.getloadavg()[0]:.2f}")
    print(f"median {med:.3f} s  (goal <= 0.400 s: {'met' if med <= 0.4 else 'NOT met'})")
    ratio = med / bare_med
    print(
        f"ratio to the bare app ({bare_med:.3f} s): {ratio:.2f}x "
        f"(goal <= 1.3x: {'met' if ratio <= 1.3 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
