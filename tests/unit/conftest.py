from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clock import FixedClock
from warroom.settings import Settings, load_settings
from warroom.store.tinydb import TinyDBRepository


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(env={"USER": "ann"}, data_dir=tmp_path / "data")


@pytest.fixture
def repo(settings: Settings) -> TinyDBRepository:
    return TinyDBRepository(settings.data_dir)


@pytest.fixture
def declare(repo, settings, clock) -> Callable:
    from warroom.room import WarRoom

    def _declare(**kw):
        kw.setdefault("title", "Checkout errors")
        kw.setdefault("severity", "P1")
        return WarRoom.declare(repo, settings, clock=clock, **kw)

    return _declare
