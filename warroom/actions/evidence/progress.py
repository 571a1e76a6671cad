"""Progress of a collection, for the console's progress line: never backwards."""

from __future__ import annotations

import contextlib
from collections.abc import Callable


class Progress:
    def __init__(self, cb: Callable[[float, str], None] | None) -> None:
        self.cb, self.total, self.done, self.last = cb, 1, 0, 0.0

    def plan(self, n: int) -> None:
        self.total += n

    def step(self, message: str, n: int = 1) -> None:
        self.done += n
        self.report(min(0.95, self.done / max(self.total, 1)), message)

    def report(self, fraction: float, message: str) -> None:
        self.last = max(self.last, fraction)  # never backwards, even when the plan grows
        if self.cb is not None:
            with contextlib.suppress(Exception):  # a broken progress bar must not lose evidence
                self.cb(self.last, message)
