"""Append cost of the incident store as the timeline grows (goal: p50 ratio 20k/1k <= 1.5,
p99 < 5 ms), against TinyDB's stock JSONStorage for contrast.

Every append is durable (fsync) before it returns. Runs in a temp dir on the same disk as
the data dir would be (/tmp here; pass a directory to measure another disk).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from tinydb import TinyDB
from tinydb.storages import JSONStorage

from warroom.store import IncidentRepository

N = 20_000
WINDOW = 500  # appends measured around each mark


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def ours(base: Path) -> dict[int, list[float]]:
    repo = IncidentRepository(base / "ours")
    store = repo.create(repo.new_id())
    marks = {1_000: [], 20_000: []}
    for i in range(1, N + 1):
        t0 = time.perf_counter()
        store.append(
            "note", f"note {i}: responders looked at checkout-api", actor="bench", data={"i": i}
        )
        dt = (time.perf_counter() - t0) * 1000
        for m, bucket in marks.items():
            if m - WINDOW < i <= m:
                bucket.append(dt)
    store.close()
    return marks


def stock(base: Path) -> dict[int, list[float]]:
    db = TinyDB(base / "stock.json", storage=JSONStorage)
    marks = {1_000: [], 5_000: []}
    for i in range(1, 5_001):
        t0 = time.perf_counter()
        db.insert({"seq": i, "text": f"note {i}: responders looked at checkout-api"})
        dt = (time.perf_counter() - t0) * 1000
        for m, bucket in marks.items():
            if m - WINDOW < i <= m:
                bucket.append(dt)
    db.close()
    return marks


def main() -> None:
    where = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory(dir=where) as tmp:
        base = Path(tmp)
        print(f"temp dir: {base} (fsync per append)")
        m = ours(base)
        p50 = {k: statistics.median(v) for k, v in m.items()}
        p99 = {k: pct(v, 0.99) for k, v in m.items()}
        for k in m:
            print(f"warroom store  at {k:>6} events: p50 {p50[k]:.3f} ms  p99 {p99[k]:.3f} ms")
        ratio = p50[20_000] / p50[1_000]
        print(
            f"p50 ratio 20k/1k: {ratio:.2f} (goal <= 1.5: {'met' if ratio <= 1.5 else 'NOT met'})"
        )
        worst = max(p99.values())
        print(f"p99 worst: {worst:.3f} ms (goal < 5 ms: {'met' if worst < 5 else 'NOT met'})")
        s = stock(base)
        for k, v in s.items():
            print(
                f"stock TinyDB   at {k:>6} events: p50 {statistics.median(v):.3f} ms  "
                f"p99 {pct(v, 0.99):.3f} ms (no fsync)"
            )


if __name__ == "__main__":
    main()
