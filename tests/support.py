"""Helpers every kind of test shares: waiting for a condition (sync, async, under Pilot), and
letting the console's use cases land. One copy each: a fix to how tests wait is made once."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

import pytest

UI_SIZE = (140, 44)
# Worker groups that are done when the work a key started has landed (the pods watch and
# source polls run for the app's lifetime and are never "settled").
SETTLE_GROUPS = ("store", "action", "declare", "export")


def wait_for(
    predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.05, what: str = ""
) -> Any:
    """Poll until predicate() is truthy and return it; fail (not hang) after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"timed out waiting for {what or predicate!r}; last value: {last!r:.600}")


async def until(
    predicate: Callable[[], Any], what: str = "", timeout: float = 45.0, interval: float = 0.05
) -> Any:
    """wait_for on an event loop; `predicate` may be a coroutine function."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        last = predicate()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    pytest.fail(f"timed out waiting for {what or predicate!r}; last: {last!r:.600}")


async def pilot_until(pilot: Any, predicate: Callable[[], Any], timeout: float = 40.0) -> Any:
    """wait_for in a Pilot test: the app keeps running between looks."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        await pilot.pause(0.2)
    raise AssertionError("condition not met in time")


async def settle(app: Any, pilot: Any) -> None:
    """Until every worker has finished (a console without sources: nothing runs for long)."""
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def settle_actions(app: Any, pilot: Any) -> None:
    """Until the use cases and actions started so far have finished (the pods watch and the
    source polls run for the app's lifetime)."""
    from textual.worker import WorkerState

    await pilot.pause()
    for _ in range(400):
        busy = [
            w
            for w in app.workers
            if w.group in SETTLE_GROUPS and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        ]
        if not busy:
            break
        await pilot.pause(0.05)
    await pilot.pause()


def store_kinds(repo: Any, incident_id: str) -> tuple[list[str], list[Any]]:
    """The kinds and events of an incident, read as another process would."""
    with repo.open(incident_id, read_only=True) as s:
        events = s.events()
    return [e.kind for e in events], events
