"""The console with a long timeline: time to first sync and per-key latency (headless Pilot)
with 20,000 events, against an incident with 50. Prints numbers and the ratio; the timeline
is virtualised, so the per-key cost should not grow with the number of events."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from warroom.console.app import WarRoomApp
from warroom.room import WarRoom
from warroom.settings import load_settings
from warroom.store.tinydb import TinyDBRepository


def make(base: Path, n: int):
    settings = load_settings(env={"USER": "bench"}, data_dir=base)
    repo = TinyDBRepository(base)
    room = WarRoom.declare(repo, settings, title=f"bench {n}", severity="P1")
    for i in range(n):
        room.store.append("note", f"note {i}: checkout-api still crash-looping", actor="bench")
    room.refresh()
    return settings, repo, room


async def measure(settings, repo, room) -> tuple[float, list[float]]:
    app = WarRoomApp(settings, repo=repo, room=room, follow=False, poll_sources=False)
    t0 = time.perf_counter()
    async with app.run_test(size=(140, 44)) as pilot:
        await pilot.pause()
        first = time.perf_counter() - t0
        keys = []
        for i in range(200):
            t = time.perf_counter()
            await pilot.press("up" if i % 2 else "pageup")
            keys.append((time.perf_counter() - t) * 1000)
    return first, keys


def main() -> None:
    results = {}
    for n in (50, 20_000):
        with tempfile.TemporaryDirectory() as tmp:
            settings, repo, room = make(Path(tmp), n)
            settings = settings.__class__(
                **{**settings.__dict__, "kube": settings.kube.__class__(enabled=False)}
            )
            first, keys = asyncio.run(measure(settings, repo, room))
            results[n] = (first, statistics.median(keys), sorted(keys)[int(0.99 * len(keys))])
            print(
                f"{n:>6} events: open+first sync {first:.3f} s, key p50 {results[n][1]:.2f} ms, "
                f"p99 {results[n][2]:.2f} ms"
            )
    r = results[20_000][1] / results[50][1]
    print(f"key p50 ratio 20k/50: {r:.2f} (virtualised: ~1 expected)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
