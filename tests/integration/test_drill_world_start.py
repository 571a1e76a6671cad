"""A drill world that fails to start reports its error to the caller at once, and leaves no
thread or listening socket behind. On main, a bad scenario made `run_in_thread` print the
thread's traceback, wait 60 s for a ready signal that never came, then raise TimeoutError."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from tests.support import wait_for
from warroom.drill.scenario import RunOptionError, ScenarioError
from warroom.drill.world import DrillStartError, DrillWorld, run_in_thread

pytestmark = pytest.mark.integration
# Far above a normal start, so only a world that never reports would reach it; a regression
# then fails on the message ("did not start within") rather than by taking a minute.
GUARD = 120.0


def drill_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "warroom-drill" and t.is_alive()]


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"scenario": "nope"}, ScenarioError, "nope: no such scenario"),
        ({"scenario": "./missing.yaml"}, ScenarioError, "./missing.yaml: file not found"),
        ({"speed": float("nan")}, RunOptionError, "speed: must be a number"),
        ({"extra_pods": -1}, RunOptionError, "extra pods: must be a whole number"),
    ],
)
def test_bad_input_raises_in_the_caller_before_a_thread(
    kwargs: dict, error: type[Exception], message: str
) -> None:
    before = drill_threads()
    with pytest.raises(error) as caught:
        run_in_thread(start_timeout=GUARD, **kwargs)
    assert str(caught.value).startswith(message)
    assert drill_threads() == before


def test_a_start_failure_in_the_thread_is_raised_to_the_caller(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    kubeconfig = tmp_path / "a-file" / "kubeconfig"  # its parent is a file: cannot be written
    before = set(drill_threads())  # another test's world in this worker is not ours to wait on
    with pytest.raises(DrillStartError) as caught:
        run_in_thread(kubeconfig_path=kubeconfig, start_timeout=GUARD)
    assert str(caught.value).startswith("the drill world did not start: ")
    assert "a-file" in str(caught.value)
    wait_for(lambda: not set(drill_threads()) - before, what="the drill thread to end")


async def test_a_failed_start_closes_what_it_opened(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    world = DrillWorld(kubeconfig_path=tmp_path / "a-file" / "kubeconfig")
    with pytest.raises(DrillStartError):
        await world.start()
    assert len(world.addresses) == 3  # the three servers listened before the kubeconfig failed
    for host, port in world.addresses:
        with pytest.raises(ConnectionRefusedError), socket.create_connection((host, port), 5):
            pass
