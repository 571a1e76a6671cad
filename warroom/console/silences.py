"""`m` on the alerts table: silence a firing alert in Alertmanager for a chosen duration with
a comment, or expire the silence of a silenced one. Through the same runner as the cluster's
actions: refused under read-only (and, for an alert naming a namespace, outside the allow-
list), confirmed with the amtool equivalent, recorded with its revert, watched for its effect
(the alert reported suppressed by that silence, or no longer)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from textual.app import App

from warroom.actions import silences
from warroom.alerts import Alert
from warroom.console.kube_actions import Plan
from warroom.console.session import Session
from warroom.widgets.dialogs import SilenceRequest, SilenceScreen

if TYPE_CHECKING:
    from warroom.console.health import HealthFeature
    from warroom.console.pods import PodsFeature


class SilencesFeature:
    def __init__(
        self, app: App, session: Session, health: HealthFeature, pods: PodsFeature
    ) -> None:
        self.app, self.session, self.health, self.pods = app, session, health, pods

    def on_request(self, fingerprint: str) -> None:
        alert = self.health.alerts_by_fp.get(fingerprint)
        url = self.session.settings.alertmanager.url
        if alert is None or not url:
            self.app.notify("That alert is gone.", severity="warning")
            return
        namespace = alert.labels.get("namespace")
        # An alert of a namespace is a change there; one of the whole cluster is no change
        # to Kubernetes at all (the allow-list limits Kubernetes changes).
        why = self.pods.refusal(namespace) if namespace else None
        if self.session.read_only:
            why = self.pods.refusal(None)
        if why:
            self.app.notify(why, severity="warning")
            return
        if alert.silenced_by:
            self.pods.runner.confirm(self.expire_plan(url, alert, alert.silenced_by[0]))
            return

        def asked(req: SilenceRequest | None) -> None:
            if req is not None:
                self.pods.runner.confirm(self.silence_plan(url, alert, req))

        matchers = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
        self.app.push_screen(SilenceScreen(alert.name, matchers), asked)

    def silence_plan(self, url: str, alert: Alert, req: SilenceRequest) -> Plan:
        token = self.session.settings.alertmanager.bearer_token
        duration = timedelta(minutes=req.minutes)
        actor = self.session.actor
        return Plan(
            title=f"Silence {alert.name}?",
            what=(
                f"alert:     {alert.name} ({alert.severity or 'no severity'})\n"
                f"for:       {req.minutes} minutes, by {actor}\ncomment:   {req.comment}\n"
                "Its notifications stop until then; it stays firing, shown silenced here."
            ),
            label="Silence",
            command=silences.add_command(url, alert, duration, req.comment),
            namespace=alert.labels.get("namespace", ""),
            verb="silence",
            target=f"silences/{alert.name}",
            where=f"Alertmanager {url}",
            run=lambda: silences.silence(url, alert, duration, req.comment, actor, token=token),
            verify=lambda r: silences.verify_silence(url, alert.name, r.seen, token=token),
        )

    def expire_plan(self, url: str, alert: Alert, silence_id: str) -> Plan:
        token = self.session.settings.alertmanager.bearer_token
        more = len(alert.silenced_by) - 1
        return Plan(
            title=f"Expire the silence of {alert.name}?",
            what=(
                f"alert:     {alert.name}\nsilence:   {silence_id}"
                + (f" (and {more} more silence(s) on it)" if more else "")
                + "\nIts notifications start again if it still fires."
            ),
            label="Expire",
            command=silences.expire_command(url, silence_id),
            namespace=alert.labels.get("namespace", ""),
            verb="expire-silence",
            target=f"silences/{alert.name}",
            where=f"Alertmanager {url}",
            run=lambda: silences.expire(url, alert, silence_id, token=token),
            verify=lambda r: silences.verify_silence(url, alert.name, r.seen, token=token),
        )
