"""A controllable clock for tests: time is data we own, not a mock of our code."""

from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


class FixedClock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now
