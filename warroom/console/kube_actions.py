"""Every change the console makes to a system goes the same way: refused early with one line
(read-only, the namespace allow-list, RBAC), confirmed in a dialog that names the context, the
namespace, the object and the exact equivalent command (Cancel focused; a typed name for a
force delete), run off the UI thread, recorded on the timeline as an ACTION with its revert
hint and command, then watched until its effect shows (OUTCOME: a mitigation item ticks only
on "took effect").
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from textual.app import App

from warroom.actions.kube_call import ActionResult
from warroom.actions.verify import Outcome
from warroom.console.messages import TimelineChanged
from warroom.console.session import Session
from warroom.model import Event
from warroom.widgets.dialogs import ConfirmScreen, TypedConfirmScreen

log = logging.getLogger("warroom")


@dataclass
class Plan:
    """One action as the dialog states it and the runner carries it out."""

    title: str  # "Scale deployment/inventory?"
    what: str  # the object and what happens to it, a few lines
    label: str  # the confirm button
    command: str  # the exact kubectl (or amtool) equivalent
    namespace: str  # "" for a cluster-scoped object
    verb: str  # as recorded: scale, rollout-undo, delete-pod, cordon, drain, silence ...
    run: Callable[[], Awaitable[ActionResult]]
    # "deployments/shop/inventory", "nodes/ip-10-0-3-88"; "" = the object the result names
    target: str = ""
    verify: Callable[[ActionResult], Awaitable[Outcome]] | None = None
    typed: str = ""  # a word to type before it is done (force delete)
    where: str = ""  # the system, when not the cluster ("Alertmanager http://...")
    done: Callable[[ActionResult], None] | None = None  # after the call, before recording
    extra: dict[str, Any] = field(default_factory=dict)  # more data for the ACTION event


class ActionRunner:
    def __init__(self, app: App, session: Session, context: Callable[[], str]) -> None:
        self.app, self.session, self.context = app, session, context

    def body(self, plan: Plan) -> str:
        if plan.where:
            place = f"system:    {plan.where}\n"
        else:
            place = f"context:   {self.context()}\n"
            place += f"namespace: {plan.namespace or '(cluster-scoped)'}\n"
        return f"{place}{plan.what}\n\nequivalent: {plan.command}"

    def confirm(self, plan: Plan) -> None:
        def confirmed(ok: bool | None) -> None:
            if ok:
                self.app.run_worker(self.run(plan), group="action", exit_on_error=False)

        body = self.body(plan)
        if plan.typed:
            screen: ConfirmScreen = TypedConfirmScreen(plan.title, body, plan.label, plan.typed)
        else:
            screen = ConfirmScreen(plan.title, body, plan.label)
        self.app.push_screen(screen, confirmed)

    async def run(self, plan: Plan) -> Event | None:
        result = await plan.run()
        if result.forbidden:
            self.session.access.forbid(result)
        if plan.done is not None:
            plan.done(result)
        if result.ok:
            self.app.notify(result.text, title="Sent: watching for its effect")
        else:
            self.app.notify(result.text, severity="error", title="Not done", timeout=10)
        room = self.session.room
        if room is None:
            return None
        extra: dict[str, Any] = {"command": plan.command, **plan.extra, **result.record}
        if not plan.where:
            extra["context"] = self.context()
        target = plan.target or "/".join(
            x for x in (result.resource, result.namespace, result.name) if x
        )
        action = await asyncio.to_thread(
            room.record_action,
            f"{result.text} (by {self.session.actor}, {result.duration_s:.2f}s)",
            verb=plan.verb,
            target=target,
            ok=result.ok,
            duration_s=result.duration_s,
            revert=result.revert_hint or None,
            forbidden=result.forbidden,
            **extra,
        )
        self.app.post_message(TimelineChanged())
        if result.ok and plan.verify is not None:
            self.app.run_worker(
                self.watch(plan, result, action), group="verify", exit_on_error=False
            )
        return action

    async def watch(self, plan: Plan, result: ActionResult, action: Event) -> None:
        """Watch the object, then put what the action did on the timeline."""
        room = self.session.room
        if room is None or plan.verify is None:
            return
        try:
            outcome = await plan.verify(result)
        except Exception as e:  # a verifier's bug must not lose the record: say it is unknown
            log.exception("verifying %s failed", plan.verb)
            outcome = Outcome("pending", f"could not watch it: {type(e).__name__}: {e}", 0.0)
        await asyncio.to_thread(
            room.record_outcome, action, outcome.kind, outcome.text, outcome.waited_s
        )
        self.app.post_message(TimelineChanged())
        title = {"took_effect": "Took effect", "no_effect": "No effect"}.get(
            outcome.kind, "Pending"
        )
        severity = "information" if outcome.kind == "took_effect" else "warning"
        self.app.notify(outcome.text, title=title, severity=severity, timeout=10)
