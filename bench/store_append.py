"""Append cost of the incident store as the timeline grows (goal: p50 ratio 20k/1k <= 1.5,
p99 < 5 ms), against TinyDB's stock JSONStorage for contrast.

Every append of ours is durable (fdatasync of the journal) before it returns. The temp dir is
made under /tmp unless a directory is given (`python bench/store_append.py /work`); the
filesystem it sits on is printed, since on a tmpfs fsync would be free.

Also printed: refresh() when nothing changed (what the console polls ~4x/s), opening a 20k
store from its journal and from a compacted snapshot, and the inline compactions of the run.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from tinydb import TinyDB
from tinydb.storages import JSONStorage

from warroom.store.tinydb import TinyDBRepository

N = 20_000
MARKS = (1_000, N)
WINDOW = 500  # appends measured just before each mark
TEXT = "responders looked at checkout-api, error rate 4.2% and rising"


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def filesystem(path: Path) -> str:
    best, fstype = "", "?"
    for line in Path("/proc/mounts").read_text().splitlines():
        _, mount, kind, *_ = line.split()
        if str(path.resolve()).startswith(mount) and len(mount) > len(best):
            best, fstype = mount, kind
    return f"{fstype} (mounted on {best})"


def ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000


def ours(base: Path) -> None:
    repo = TinyDBRepository(base / "ours")
    store = repo.create(repo.new_id())
    marks: dict[int, list[float]] = {m: [] for m in MARKS}
    every: list[float] = []
    inode = store.path.stat().st_ino
    compactions = 0
    for i in range(1, N + 1):
        t0 = time.perf_counter()
        store.append("note", f"note {i}: {TEXT}", actor="bench", data={"i": i, "pod": "api-7f9"})
        dt = ms(t0)
        every.append(dt)
        for m, bucket in marks.items():
            if m - WINDOW < i <= m:
                bucket.append(dt)
        if store.path.stat().st_ino != inode:  # the snapshot was replaced: a compaction
            inode = store.path.stat().st_ino
            compactions += 1
    p50 = {m: statistics.median(v) for m, v in marks.items()}
    p99 = {m: pct(v, 0.99) for m, v in marks.items()}
    for m in MARKS:
        print(f"warroom store  at {m:>6} events: p50 {p50[m]:.3f} ms  p99 {p99[m]:.3f} ms")
    ratio = p50[N] / p50[MARKS[0]]
    print(f"p50 ratio 20k/1k: {ratio:.2f} (goal <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})")
    worst = max(p99.values())
    print(f"p99 worst: {worst:.3f} ms (goal < 5 ms: {'met' if worst < 5 else 'NOT met'})")
    print(
        f"all {N} appends: p50 {statistics.median(every):.3f} ms  p99 {pct(every, 0.99):.3f} ms"
        f"  max {max(every):.1f} ms  ({compactions} inline compaction(s), "
        f"journal now {store.journal_path.stat().st_size / 1e6:.1f} MB)"
    )

    store.refresh()
    t0 = time.perf_counter()
    for _ in range(1000):
        store.refresh()
    print(f"refresh() with nothing new at {N} events: {ms(t0):.1f} us per call")  # 1000 calls

    incident = store.incident_id
    t0 = time.perf_counter()
    reader = repo.open(incident, read_only=True)
    journal_mb = reader.storage.journal_bytes / 1e6
    print(f"open at {N} events (snapshot + {journal_mb:.1f} MB journal): {ms(t0):.0f} ms")
    reader.close()
    t0 = time.perf_counter()
    store.compact()
    print(f"compact at {N} events: {ms(t0):.0f} ms")
    store.close()
    t0 = time.perf_counter()
    reader = repo.open(incident, read_only=True)
    print(f"open at {N} events (compacted snapshot only): {ms(t0):.0f} ms")
    assert len(reader.events()) == N and reader.verify().ok
    reader.close()


def stock(base: Path) -> None:
    db = TinyDB(base / "stock.json", storage=JSONStorage)
    marks: dict[int, list[float]] = {1_000: [], 5_000: []}
    for i in range(1, 5_001):
        t0 = time.perf_counter()
        db.insert({"seq": i, "text": f"note {i}: {TEXT}", "data": {"i": i, "pod": "api-7f9"}})
        dt = ms(t0)
        for m, bucket in marks.items():
            if m - WINDOW < i <= m:
                bucket.append(dt)
    db.close()
    for m, v in marks.items():
        print(
            f"stock TinyDB   at {m:>6} events: p50 {statistics.median(v):.3f} ms  "
            f"p99 {pct(v, 0.99):.3f} ms (no fsync at all)"
        )


def main() -> None:
    where = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp")
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        base = Path(tmp)
        print(f"temp dir: {base} on {filesystem(base)}; fdatasync per append")
        ours(base)
        stock(base)


if __name__ == "__main__":
    main()
