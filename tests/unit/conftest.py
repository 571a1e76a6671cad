from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from warroom.settings import Settings, load_settings
from warroom.store import IncidentRepository

T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)


class FakeClock:
    """A controllable clock (time is data we own, not a mock of our code)."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(env={"USER": "ann"}, data_dir=tmp_path / "data")


@pytest.fixture
def repo(settings: Settings) -> IncidentRepository:
    return IncidentRepository(settings.data_dir)


@pytest.fixture
def declare(repo, settings, clock) -> Callable:
    from warroom.room import WarRoom

    def _declare(**kw):
        kw.setdefault("title", "Checkout errors")
        kw.setdefault("severity", "P1")
        return WarRoom.declare(repo, settings, clock=clock, **kw)

    return _declare
