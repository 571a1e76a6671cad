"""Scenario time (wall elapsed * speed), its timestamps, and a scheduler on that clock."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

log = logging.getLogger(__name__)


class WorldClock:
    """`elapsed()` is scenario seconds since drill start; `now()` the world's time.

    By default timestamps follow the world clock, start + elapsed * speed, so at speed > 1
    they run ahead of the wall clock (a client should then take "now" from `now()`).
    With `wall_timestamps`, timestamps follow the wall clock instead: scenario second t > 0
    happens at start + t / speed, history before the start is not compressed, and clients
    that use their own clock (ages, range-query windows, alert start times) stay consistent.
    """

    def __init__(
        self, speed: float = 1.0, start: datetime | None = None, wall_timestamps: bool = False
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.speed = speed
        self.start = (start or datetime.now(UTC)).astimezone(UTC)
        self.wall_timestamps = wall_timestamps
        self._start_epoch = self.start.timestamp()
        self._mono0 = time.monotonic()

    def elapsed(self) -> float:
        return (time.monotonic() - self._mono0) * self.speed

    def _offset(self, t: float) -> float:
        return t / self.speed if self.wall_timestamps and t > 0 else t

    def at(self, scenario_seconds: float) -> datetime:
        return self.start + timedelta(seconds=self._offset(scenario_seconds))

    def now(self) -> datetime:
        return self.at(self.elapsed())

    def epoch(self, scenario_seconds: float | None = None) -> float:
        """Unix time of a scenario instant (default now), as Prometheus speaks it."""
        t = self.elapsed() if scenario_seconds is None else scenario_seconds
        return self._start_epoch + self._offset(t)

    def scenario_time(self, epoch: float) -> float:
        d = epoch - self._start_epoch
        return d * self.speed if self.wall_timestamps and d > 0 else d

    def wall_delay(self, scenario_seconds: float) -> float:
        return max(0.0, scenario_seconds / self.speed)


class Timer:
    __slots__ = ("args", "cancelled", "fn", "when")

    def __init__(self, when: float, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        self.when, self.fn, self.args, self.cancelled = when, fn, args, False

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    """Runs callbacks at scenario times. Single-threaded: lives on the world's event loop."""

    def __init__(self, clock: WorldClock) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Timer]] = []
        self._seq = itertools.count()
        self._wake: asyncio.Event | None = None

    def at(self, when: float, fn: Callable[..., Any], *args: Any) -> Timer:
        t = Timer(when, fn, args)
        heapq.heappush(self._heap, (when, next(self._seq), t))
        if self._wake is not None:
            self._wake.set()
        return t

    def after(self, delay: float, fn: Callable[..., Any], *args: Any) -> Timer:
        return self.at(self.clock.elapsed() + max(0.0, delay), fn, *args)

    def run_due(self, limit: int = 5000) -> None:
        """Run what is due; at most `limit` steps, so a runaway loop cannot starve the server."""
        now = self.clock.elapsed()
        while self._heap and self._heap[0][0] <= now and limit > 0:
            limit -= 1
            _, _, t = heapq.heappop(self._heap)
            if t.cancelled:
                continue
            try:
                t.fn(*t.args)
            except Exception:  # one broken step must not stop the world
                log.exception("drill step %r failed", t.fn)

    async def run(self) -> None:
        self._wake = asyncio.Event()
        while True:
            self.run_due()
            self._wake.clear()
            if self._heap:
                delay = self.clock.wall_delay(self._heap[0][0] - self.clock.elapsed())
                # Cap the sleep so speed/clock drift never strands a step for long.
                timeout = min(max(delay, 0.001), 1.0)
            else:
                timeout = 1.0
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
