"""The health pane: Prometheus checks and Alertmanager alerts, and what they write.

Polling never overlaps: a refresh runs in a worker and the next one is armed only when it
finished, so a slow Prometheus stretches the cadence instead of piling up requests. Snapshots
reach the UI thread as Messages; what changed (a check turning critical, an alert firing, a
detection rule holding) is decided by warroom.signals and written off the UI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from textual.app import App

from warroom.alerts import Alert, AlertSnapshot
from warroom.checks import CheckSpec, format_value
from warroom.console.messages import AlertsRefreshed, HealthRefreshed, RoomOpened
from warroom.console.session import Session
from warroom.console.work import run_use_case
from warroom.health import Detection, HealthSnapshot
from warroom.model import Severity
from warroom.signals import (
    Fact,
    alert_severity,
    attach_alert,
    declare_from_alert,
    record,
    record_health,
)
from warroom.widgets.dialogs import ChoiceScreen, PromptScreen
from warroom.widgets.health_pane import AlertRow, AlertsTable, HealthRow, HealthTable
from warroom.widgets.series import QueryResultScreen, SeriesScreen
from warroom.widgets.source_status import SourceState, SourceStatus

if TYPE_CHECKING:
    from warroom.sources.alertmanager import AlertmanagerSource
    from warroom.sources.prometheus import PrometheusSource

log = logging.getLogger("warroom")


def threshold_text(spec: CheckSpec) -> str:
    """Compact: '≥1% / ≥5%' (warn / crit), the arrow saying which side is bad."""
    op = "≥" if spec.direction == "above" else "≤"
    parts = [
        f"{op}{format_value(v, spec.unit)}" if v is not None else "-"
        for v in (spec.warn, spec.crit)
    ]
    if all(p != "-" for p in parts):
        unit = f" {spec.unit}"  # said once: '≤120 / ≤60 /min' (a narrow pane keeps the name)
        if spec.unit and all(p.endswith(unit) for p in parts):
            parts[0] = parts[0].removesuffix(unit)
    return " / ".join(parts) if any(p != "-" for p in parts) else "-"


class HealthFeature:
    def __init__(
        self,
        app: App,
        session: Session,
        status: SourceStatus,
        checks: HealthTable,
        alerts_status: SourceStatus,
        alerts: AlertsTable,
    ) -> None:
        self.app, self.session = app, session
        self.status, self.checks_table, self.alerts_table = status, checks, alerts
        self.alerts_status = alerts_status
        self.specs: tuple[CheckSpec, ...] = session.settings.health.specs
        self.snapshot: HealthSnapshot | None = None
        self.alert_snapshot: AlertSnapshot | None = None
        self.alerts_by_fp: dict[str, Alert] = {}
        self.suggestion: Detection | None = None
        self._prom: PrometheusSource | None = None
        self._am: AlertmanagerSource | None = None
        self._failing_since: Any = None

    def start(self, poll: bool) -> None:
        s = self.session.settings
        if not s.prometheus.url and not s.alertmanager.url:
            self.status.show(SourceState("unconfigured", "set prometheus.url or PROMETHEUS_URL"))
            return
        if s.prometheus.url and not self.specs:
            self.status.show(SourceState("unconfigured", "no [[health.checks]] in warroom.toml"))
        else:
            self.status.show(
                SourceState("connecting", s.prometheus.url or s.alertmanager.url or "")
            )
        if not poll:
            return
        if s.prometheus.url and self.specs:
            self.app.call_after_refresh(self.refresh_checks)
        if s.alertmanager.url:
            self.app.call_after_refresh(self.refresh_alerts)

    # ----- the sources (one of each per console; evidence shares them) -------------------------
    def prometheus(self) -> PrometheusSource:
        """Made on first use, in a worker: the first import of prometheus-api-client is slow."""
        if self._prom is None:
            from warroom.sources.prometheus import PrometheusSource

            p = self.session.settings.prometheus
            self._prom = PrometheusSource(
                p.url or "",
                bearer_token=p.bearer_token,
                basic_auth=p.basic_auth,
                verify_tls=p.verify_tls,
                timeout=p.timeout,
            )
        return self._prom

    def alertmanager(self) -> AlertmanagerSource:
        if self._am is None:
            from warroom.sources.alertmanager import AlertmanagerSource

            s = self.session.settings
            a, p = s.alertmanager, s.prometheus
            auth: dict[str, Any] = {"verify": p.verify_tls}
            if p.bearer_token:
                auth["headers"] = {"Authorization": f"Bearer {p.bearer_token}"}
            elif p.basic_auth:
                auth["auth"] = p.basic_auth
            self._am = AlertmanagerSource(
                a.url or "",
                a.timeout,
                a.bearer_token,
                prometheus_url=p.url,  # asked before an alert gone from Alertmanager resolves
                prometheus_auth=auth,
            )
        return self._am

    # ----- Prometheus --------------------------------------------------------------------------
    def _in_thread(self, work: Callable[[], None], group: str) -> None:
        """The blocking Prometheus client runs in a thread; one of each kind at a time."""
        self.app.run_worker(work, thread=True, exclusive=True, group=group, exit_on_error=False)

    def refresh_checks(self) -> None:
        self._in_thread(self._checks_worker, "health")

    def _checks_worker(self) -> None:
        try:
            snap = self.prometheus().refresh(list(self.specs), self.session.clock())
            self.app.post_message(HealthRefreshed(snap))
        finally:
            # Re-arm only now: refreshes never overlap, a slow source slows the cadence.
            every = self.session.settings.prometheus.refresh.total_seconds()
            self.app.call_from_thread(self.app.set_timer, every, self.refresh_checks)

    def apply_health(self, snap: HealthSnapshot) -> None:
        self._record(
            self.session.signals.source_facts("prometheus", snap.ok, snap.fetched_at, snap.error)
        )
        if not snap.ok:
            self._failing_since = self._failing_since or snap.fetched_at
            since = snap.last_ok_at or self._failing_since
            self.status.show(SourceState("stale", snap.error or "unreachable", since=since))
            return
        self._failing_since = None
        self.snapshot = snap
        rows = []
        counts: dict[str, int] = {}
        for r in snap.results:
            counts[str(r.state)] = counts.get(str(r.state), 0) + 1
            rows.append(
                HealthRow(
                    name=r.spec.name,
                    state=str(r.state),
                    value=format_value(r.value, r.spec.unit),
                    threshold=threshold_text(r.spec),
                    trend=[v for _, v in r.series],
                    detail=r.error or "",
                )
            )
        self.checks_table.display = True
        self.checks_table.set_rows(rows)
        bad = [f"{n} {k}" for k, n in sorted(counts.items()) if k != "ok"]
        summary = f"{len(snap.results)} checks: " + (", ".join(bad) if bad else "all ok")
        self.status.show(SourceState("ok", since=snap.fetched_at, summary=summary))
        news = self.session.signals.health(snap)
        room = self.session.room
        if room is not None and news:
            run_use_case(self.app, lambda: self._remember(record_health(room, news)))

    def tick(self) -> None:
        """Once a second: the status lines count their ages."""
        self.status.refresh()
        self.alerts_status.refresh()

    def _remember(self, suggestion: Detection | None) -> None:
        if suggestion is not None:
            self.suggestion = suggestion

    def accept_suggestion(self) -> None:
        room = self.session.room
        d = self.suggestion
        if room is None:
            self.app.notify("No incident is open.", severity="warning")
            return
        if d is None or d.suggested_severity.rank >= room.state.severity.rank:
            self.app.notify("No severity suggestion pending.", severity="information")
            return
        self.suggestion = None
        reason = f"accepted: {d.reason_text}"
        run_use_case(self.app, partial(room.change_severity, d.suggested_severity, reason))

    def note(self) -> str:
        """The header's line about a pending suggestion."""
        d, room = self.suggestion, self.session.room
        if d is None or room is None or d.suggested_severity.rank >= room.state.severity.rank:
            return ""
        return f"{d.reason_text} (S accepts)"

    def open_series(self, name: str) -> None:
        spec = next((s for s in self.specs if s.name == name), None)
        if spec is None or self._prom is None:
            return
        self._in_thread(partial(self._series_worker, spec), "series")

    def _series_worker(self, spec: CheckSpec) -> None:
        try:
            series, err = self.prometheus().range_series(spec.expr, 30), None
        except Exception as exc:  # shown in the view, never a crash
            series, err = [], str(exc)
        fmt = partial(format_value, unit=spec.unit)
        screen = SeriesScreen(spec.name, fmt, series, err, threshold_text(spec))
        self.app.call_from_thread(self.app.push_screen, screen)

    def promql(self) -> None:
        if not self.session.settings.prometheus.url:
            self.app.notify("Prometheus is not configured.", severity="warning")
            return

        def run(expr: str | None) -> None:
            if expr:
                self._in_thread(partial(self._promql_worker, expr), "promql")

        prompt = PromptScreen(
            "PromQL (instant query)", "e.g. sum by (code) (rate(http_requests_total[5m]))"
        )
        self.app.push_screen(prompt, run)

    def _promql_worker(self, expr: str) -> None:
        try:
            rows, err = self.prometheus().query(expr), None
        except Exception as exc:
            rows, err = [], str(exc)
        self.app.call_from_thread(self.app.push_screen, QueryResultScreen(expr, rows, err))

    # ----- Alertmanager ------------------------------------------------------------------------
    def refresh_alerts(self) -> None:
        self.app.run_worker(
            self._alerts_worker(), exclusive=True, group="alerts", exit_on_error=False
        )

    async def _alerts_worker(self) -> None:
        try:
            self.app.post_message(AlertsRefreshed(await self.alertmanager().fetch()))
        finally:
            every = self.session.settings.alertmanager.refresh.total_seconds()
            self.app.set_timer(every, self.refresh_alerts)

    def apply_alerts(self, snap: AlertSnapshot) -> None:
        table = self.alerts_table
        facts = self.session.signals.source_facts(
            "alertmanager", snap.ok, snap.fetched_at, snap.error
        )
        if not snap.ok:
            self._record(facts)
            since = snap.last_ok_at or snap.fetched_at
            what = f"Alertmanager: {snap.error}" if snap.error else "Alertmanager unreachable"
            # The rows stay (the last known alerts) under a stale line: never a silent freeze.
            self.alerts_status.show(SourceState("stale", what, since=since))
            return
        self.alert_snapshot = snap
        table.display = True
        now = self.session.clock()
        # Silenced alerts are listed too (after the firing ones): `m` expires their silence.
        silenced = [a for a in snap.suppressed if a.silenced_by]
        self.alerts_by_fp = {a.fingerprint: a for a in (*snap.alerts, *silenced)}
        table.set_rows(
            [
                AlertRow(
                    fingerprint=a.fingerprint,
                    name=a.name,
                    severity=a.severity or "-",
                    starts_at=a.starts_at,
                    summary=a.summary,
                    silenced=bool(a.silenced_by),
                )
                for a in sorted(
                    (*snap.alerts, *silenced),
                    key=lambda a: (bool(a.silenced_by), a.starts_at or now),
                )
            ]
        )
        facts += self.session.signals.alert_facts(snap)
        held = len(self.session.signals.alerts.held)
        firing = f"{len(snap.alerts)} alert(s) firing"
        if held:
            firing += f", {held} gone after a restart (not yet resolved)"
        self.alerts_status.show(SourceState("ok", since=snap.fetched_at, summary=firing))
        self._record(facts)

    def _record(self, facts: list[Fact]) -> None:
        room = self.session.room
        if room is not None and facts:
            run_use_case(self.app, partial(record, room, facts))

    def alert(self) -> None:
        """`a` on an alert: attach it to this incident, or declare a new incident from it."""
        alert = self.alerts_by_fp.get(self.alerts_table.selected_fingerprint() or "")
        if alert is None:
            self.app.notify("Select a firing alert in the health pane first.", severity="warning")
            return
        room = self.session.room
        choices = []
        if room is not None:
            choices.append(("attach", f"Attach to {room.incident_id} (marks detection time)"))
        sev = alert_severity(alert)
        choices.append(("declare", f"Declare a new {sev.value} incident from it"))

        def picked(choice: str | None) -> None:
            if choice == "attach" and room is not None:
                run_use_case(self.app, partial(attach_alert, room, alert))
            elif choice == "declare":
                self._declare_from(alert, sev)

        self.app.push_screen(ChoiceScreen(f"Alert {alert.name}", choices), picked)

    def _declare_from(self, alert: Alert, severity: Severity) -> None:
        s = self.session

        def declare() -> None:
            room = declare_from_alert(s.repo, s.settings, alert, severity, s.clock)
            self.app.post_message(RoomOpened(room))

        run_use_case(self.app, declare, group="declare")
