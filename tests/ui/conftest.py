import dataclasses
from pathlib import Path

import pytest

from tests.clock import FixedClock
from warroom.settings import KubeSettings, Settings, load_settings
from warroom.settings.signing import SigningSettings
from warroom.store.tinydb import TinyDBRepository


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Never the developer's own cluster: tests that need Kubernetes point at the drill world.
    s = load_settings(env={"USER": "ann"}, data_dir=tmp_path / "data")
    # No signing: these consoles have no key, and "unsigned" would be said on every screen
    # (tests/ui/test_signing_console.py signs with real keys).
    return dataclasses.replace(
        s, kube=KubeSettings(enabled=False), signing=SigningSettings(enabled=False)
    )


@pytest.fixture
def repo(settings: Settings) -> TinyDBRepository:
    return TinyDBRepository(settings.data_dir)


def mid_incident(repo, settings, clock):
    """A P1 incident 25 minutes in: roles, notes, a pin, checklist progress."""
    from warroom.room import WarRoom

    room = WarRoom.declare(
        repo, settings, title="Checkout API 5xx after deploy 1.42", severity="P2", clock=clock
    )
    clock.advance(minutes=2)
    room.acknowledge()
    room.assign_role("commander", "Ann Lee")
    room.assign_role("tech_lead", "Bo Chen")
    clock.advance(minutes=3)
    room.change_severity("P1", "errors spreading to payments")
    room.toggle_item("scope-assessed")  # the commander item was ticked by the role event
    clock.advance(minutes=4)
    n = room.add_note("checkout-api pods crash-looping since 09:58")
    room.pin(n.seq)
    room.change_status("identified", "bad config in release 1.42")
    clock.advance(minutes=6)
    room.add_note("TODO: alert on config drift")
    clock.advance(minutes=10)
    return room
