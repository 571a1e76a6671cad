"""Running use cases off the UI thread: the console never waits on a disk or a network."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.worker import Worker, WorkerState

from warroom.actions.restart import ActionResult
from warroom.model import Event
from warroom.room import WarRoom

# Worker groups whose end changes the timeline (the app syncs after them and shows refusals).
USE_CASE_GROUPS = ("store", "action", "declare")
# Work that quitting would cut short (the quit key asks first); "verify" is an action being
# watched for its outcome, which the timeline would otherwise never hear.
BUSY_GROUPS = ("store", "action", "declare", "evidence", "export", "verify")


def run_use_case(app: App, fn: Callable[[], Any], *, group: str = "store") -> Worker:
    """A WarRoom use case in a thread; a refusal (RoomError) becomes a notification."""
    return app.run_worker(fn, thread=True, group=group, exit_on_error=False, name=group)


def busy_workers(app: App) -> list[Worker]:
    return [
        w
        for w in app.workers
        if w.group in BUSY_GROUPS and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
    ]


async def record_result(
    room: WarRoom,
    result: ActionResult,
    *,
    verb: str,
    target: str,
    actor: str,
    context: str,
    **extra: Any,
) -> Event:
    """A change made to the cluster, on the timeline (in a thread): what the API said, how
    long it took, who did it, and how to revert it."""
    return await asyncio.to_thread(
        room.record_action,
        f"{result.text} (by {actor}, {result.duration_s:.2f}s)",
        verb=verb,
        target=target,
        ok=result.ok,
        duration_s=result.duration_s,
        revert=result.revert_hint or None,
        context=context,
        forbidden=result.forbidden,
        **extra,
    )


def announce(app: App, told: set[str], facts: list[Any], title: str, *, bell: bool = False) -> list:
    """The facts (with a `once` key) this console has not announced yet, each raised as a
    notification now: the caller records them."""
    new = [f for f in facts if f.once not in told]
    for f in new:
        told.add(f.once or "")
        app.notify(f.text, severity="error", title=title, timeout=10)
        if bell:
            app.bell()
    return new
