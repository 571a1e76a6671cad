"""The console with a long timeline: time to first sync and per-key latency (headless Pilot)
with 20,000 events, against an incident with 50, and a bare Textual DataTable app pressed the
same way in the same run (the yardstick).

Goal (issue #22): key p50 <= 1.2x the bare DataTable app's, p99 < 50 ms."""

from __future__ import annotations

import asyncio
import os
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


async def bare_keys(n: int) -> list[float]:
    """The same keys in a bare app: one DataTable of n rows, focused."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable()

        def on_mount(self) -> None:
            t = self.query_one(DataTable)
            t.add_columns("time", "kind", "actor", "text")
            t.add_rows(
                ("10:00:00", "note", "bench", f"note {i}: checkout-api still crash-looping")
                for i in range(n)
            )
            t.focus()

    keys = []
    async with Bare().run_test(size=(140, 44)) as pilot:
        await pilot.pause()
        for i in range(200):
            t = time.perf_counter()
            await pilot.press("up" if i % 2 else "pageup")
            keys.append((time.perf_counter() - t) * 1000)
    return keys


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
    for n in (50, 20_000):
        bare = asyncio.run(bare_keys(n))
        p50, p99 = statistics.median(bare), sorted(bare)[int(0.99 * len(bare))]
        ratio = results[n][1] / p50
        ok = "met" if ratio <= 1.2 and results[n][2] < 50 else "NOT met"
        print(
            f"{n:>6} rows, bare DataTable app: key p50 {p50:.2f} ms, p99 {p99:.2f} ms; "
            f"warroom p50 / bare p50 = {ratio:.2f} (goal <= 1.2, and p99 < 50 ms: {ok})"
        )
    print(f"load average: {os.getloadavg()[0]:.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
