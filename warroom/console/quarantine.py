"""`Q` on a pod: quarantine it for a security incident (or any incident, on request), or release
it when it is quarantined already.

The dialog names every step and its revert, with Cancel focused. Confirmed, evidence of the pod
is collected first (the quarantine must not change what the bundle preserves), then the three
steps run one after another (actions/quarantine.py): each is an ACTION with its revert, then
watched until the cluster shows it, its OUTCOME on the timeline. A step that fails (a 403)
stops the rest. Release puts the labels back and deletes the policy, recorded the same way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from textual.app import App

from warroom.actions import quarantine as q
from warroom.actions.evidence import EvidenceCancelled
from warroom.actions.restart import ActionResult
from warroom.console.evidence import EvidenceFeature
from warroom.console.messages import TimelineChanged
from warroom.console.pods import PodsFeature
from warroom.console.session import Session
from warroom.console.work import record_result
from warroom.pods import PodRow
from warroom.sources.kube_api import error_text
from warroom.widgets.dialogs import ConfirmScreen

log = logging.getLogger("warroom")


class QuarantineFeature:
    def __init__(
        self, app: App, session: Session, pods: PodsFeature, evidence: EvidenceFeature
    ) -> None:
        self.app, self.session, self.pods, self.evidence = app, session, pods, evidence

    def on_key(self, row: PodRow) -> None:
        # Read-only, the allow-list and RBAC decide as for restart and delete.
        if not self.pods.check("quarantine", row.namespace):
            return
        room = self.session.room
        if room is None or room.store.read_only:
            why = (
                "No incident is open."
                if room is None
                else "This console follows another writer: quarantine from that one."
            )
            self.app.notify(why, severity="warning")
            return
        self.app.run_worker(self._offer(row), group="quarantine-plan", exit_on_error=False)

    async def _offer(self, row: PodRow) -> None:
        kube = self.pods.kube
        if kube is None:
            return
        try:
            plan = await q.plan(kube.api, row.namespace, row.name)
        except Exception as exc:
            self.app.notify(error_text(exc), severity="error", title="Cannot read the pod")
            return
        where = (
            f"context:   {kube.context_name}\nnamespace: {plan.namespace}\npod:       {plan.pod}\n"
        )
        if plan.quarantined:
            body = (
                f"{where}\nIts labels go back (its owner takes it back and scales to its count), "
                f"NetworkPolicy {plan.policy} is deleted and the quarantine label taken off."
            )
            self.app.push_screen(
                ConfirmScreen("Release this quarantined pod?", body, "Release"),
                lambda ok: ok and self._start(self._release(plan)),
            )
            return
        steps = "\n".join(
            f"{i}. {plan.describe(s)}\n   revert: {plan.revert(s) or '-'}"
            for i, s in enumerate(q.STEPS, start=2)
        )
        room = self.session.room
        on_request = (
            ""
            if room is not None and room.state.category == "security"
            else "\nThis is not a security incident: quarantine on request.\n"
        )
        body = (
            f"{where}owner:     {plan.owner or 'none'}\n{on_request}\n"
            f"1. evidence of the pod, collected first\n{steps}\n\n"
            "The pod keeps running for forensics; its owner makes a replacement for its traffic."
        )
        self.app.push_screen(
            ConfirmScreen("Quarantine this pod?", body, "Quarantine"),
            lambda ok: ok and self._start(self._quarantine(plan)),
        )

    def _start(self, work: object) -> None:
        self.app.run_worker(work, group="action", exit_on_error=False)

    async def _quarantine(self, plan: q.Plan) -> None:
        try:
            await self.evidence.collect_now(plan.namespace, plan.pod)
        except EvidenceCancelled:
            self.app.notify("Evidence stopped: nothing quarantined.", title="Quarantine")
            return
        except Exception as exc:  # containment goes on: isolating destroys nothing
            log.exception("evidence before quarantine failed")
            self.app.notify(
                f"No evidence: {exc}; quarantining anyway.", severity="warning", title="Evidence"
            )
        for step in q.STEPS:
            kube = self.pods.kube
            if kube is None:
                return
            result = await q.run_step(kube.api, plan, step)
            if not await self._record(plan, f"quarantine-{step}", result, step):
                return
        self.app.notify(
            f"{plan.pod}: isolated, out of service, still running for forensics.",
            title="Quarantined",
            timeout=10,
        )

    async def _release(self, plan: q.Plan) -> None:
        kube = self.pods.kube
        if kube is None:
            return
        results, removed = await q.release(kube.api, plan.namespace, plan.pod)
        back = dataclasses.replace(plan, remove=removed)
        for step, result in zip(("reattach", "unisolate"), results, strict=False):
            if not await self._record(back, f"release-{step}", result, step):
                return
        self.app.notify(f"{plan.pod}: released.", title="Released", timeout=10)

    async def _record(self, plan: q.Plan, verb: str, result: ActionResult, step: str) -> bool:
        """The step on the timeline, then its outcome once the cluster shows it; False when
        the step failed (the rest are not attempted)."""
        room, kube = self.session.room, self.pods.kube
        if room is None or kube is None:
            return False
        action = await record_result(
            room,
            result,
            verb=verb,
            target=f"pods/{plan.namespace}/{plan.pod}",
            actor=self.session.actor,
            context=kube.context_name,
            policy=plan.policy,
        )
        self.app.post_message(TimelineChanged())
        self.session.access.forbid(result)  # greyed out from now on, as a 403'd restart is
        if not result.ok:
            self.app.notify(result.text, severity="error", title="Not done", timeout=10)
            return False
        wait = self.session.settings.kube.verify_delete.total_seconds() * 3
        outcome = await q.verify_step(kube.api, plan, step, wait=wait)
        await asyncio.to_thread(
            room.record_outcome, action, outcome.kind, outcome.text, outcome.waited_s
        )
        self.app.post_message(TimelineChanged())
        if outcome.kind != "took_effect":
            self.app.notify(outcome.text, severity="warning", title="Not confirmed", timeout=10)
        return True
