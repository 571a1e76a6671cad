"""Where the UI thread is when it stalls: a watchdog thread samples its stack whenever the
event loop has not run a heartbeat for `threshold` seconds (benchmarks only).

    with StallSampler(loop, threshold=0.03) as s: ...
    s.report()  # the most frequent stacks seen inside stalls

    with GcPauses() as gcs: ...  # every garbage collection: (generation, start, end)
    gcs.full()  # the full ones' durations; gcs.during(t0, t1): those overlapping a span
"""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
import time
import traceback
from collections import Counter


class StallSampler:
    def __init__(self, loop: asyncio.AbstractEventLoop, threshold: float = 0.03) -> None:
        self.loop, self.threshold = loop, threshold
        self.ident = threading.get_ident()  # the loop's thread: create this from it
        self.beat = time.perf_counter()
        self.stacks: Counter[str] = Counter()
        self.stalls = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _heartbeat(self) -> None:
        self.beat = time.perf_counter()
        if not self._stop.is_set():
            self.loop.call_later(0.005, self._heartbeat)

    def _watch(self) -> None:
        in_stall = False
        while not self._stop.wait(0.005):
            late = time.perf_counter() - self.beat
            if late < self.threshold:
                in_stall = False
                continue
            if not in_stall:
                self.stalls += 1
                in_stall = True
            frame = sys._current_frames().get(self.ident)
            if frame is not None:
                stack = traceback.extract_stack(frame)[-12:]
                self.stacks[
                    " <- ".join(
                        f"{f.name}({f.filename.rsplit('/', 1)[-1]}:{f.lineno})"
                        for f in reversed(stack)
                    )
                ] += 1

    def __enter__(self) -> StallSampler:
        self.loop.call_soon(self._heartbeat)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(1)

    def report(self, top: int = 8) -> str:
        lines = [
            f"  {self.stalls} stalls over {self.threshold * 1000:.0f} ms; samples (5 ms each):"
        ]
        for stack, n in self.stacks.most_common(top):
            lines.append(f"   {n:4d}  {stack[:400]}")
        return "\n".join(lines)


class GcPauses:
    """Every garbage collection while entered, any thread's: each holds the GIL, so the UI
    thread waits through it too."""

    def __init__(self) -> None:
        self.pauses: list[tuple[int, float, float]] = []  # (generation, start, end)
        self._start = 0.0

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses.append((info["generation"], self._start, time.perf_counter()))

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._on_gc)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._on_gc)

    def full(self) -> list[float]:
        """The full (generation 2) collections' durations, in seconds, shortest first."""
        return sorted(end - start for gen, start, end in self.pauses if gen == 2)

    def during(self, t0: float, t1: float) -> list[tuple[int, float]]:
        """(generation, seconds) of the collections overlapping t0..t1."""
        return [(g, end - start) for g, start, end in self.pauses if start < t1 and end > t0]
