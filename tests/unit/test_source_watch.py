"""Every source's blind spells reach the timeline once each way, after a grace, never per poll."""

from datetime import UTC, datetime, timedelta

from warroom.model import Kind
from warroom.signals import Signals, record

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def at(s: float) -> datetime:
    return T0 + timedelta(seconds=s)


def test_lost_after_the_grace_then_back_once_each() -> None:
    sig = Signals(source_lost_after=timedelta(seconds=10))
    assert sig.source_facts("prometheus", True, at(0)) == []
    assert sig.source_facts("prometheus", False, at(15), "Connection refused (u)") == []  # a blip
    assert sig.source_facts("prometheus", True, at(30)) == []  # blip over: nothing to tell
    assert sig.source_facts("prometheus", False, at(45), "Connection refused (u)") == []
    [lost] = sig.source_facts("prometheus", False, at(60), "Connection refused (u)")
    assert lost.text == "Prometheus lost since 10:00:45 UTC: Connection refused (u)"
    assert lost.kind == Kind.SYSTEM and lost.data["transition"] == "lost"
    assert sig.source_facts("prometheus", False, at(75), "Connection refused (u)") == []
    [back] = sig.source_facts("prometheus", True, at(90))
    assert back.text == "Prometheus back after 45s (no data from it since 10:00:45 UTC)"
    assert sig.source_facts("kubernetes", False, at(0)) == []  # sources are watched apart
    assert sig.source_facts("kubernetes", False, at(11), "watch failed")[0].text.startswith(
        "Kubernetes unreachable since 10:00:00 UTC"  # never seen working: "unreachable"
    )


def test_two_consoles_write_one_entry(declare) -> None:
    room = declare()
    a, b = Signals(), Signals()
    for sig in (a, b):
        sig.source_facts("alertmanager", True, at(0))
        sig.source_facts("alertmanager", False, at(5), "refused")
        record(room, sig.source_facts("alertmanager", False, at(20), "refused"))
    told = [e for e in room.events if e.data.get("source") == "alertmanager"]
    assert len(told) == 1
