"""The health half of the composition root: Prometheus checks and Alertmanager alerts.

Polling never overlaps: a refresh runs in a thread worker and the next one is armed only when
it finished, so a slow Prometheus stretches the cadence instead of piling up requests. What
changes (a check turning critical, an alert firing, a detection rule holding) is written to the
timeline, so the commander never has to be the scribe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import work
from textual.widgets import DataTable

from warroom.health import (
    CheckSpec,
    Detection,
    HealthSnapshot,
    HealthTracker,
    RuleEvaluator,
    format_value,
)
from warroom.model import Kind, Severity, format_duration, format_ts
from warroom.widgets.dialogs import ChoiceScreen, PromptScreen
from warroom.widgets.health_pane import AlertRow, AlertsTable, HealthRow, HealthTable
from warroom.widgets.series import QueryResultScreen, SeriesScreen
from warroom.widgets.source_status import SourceState, SourceStatus

if TYPE_CHECKING:
    from warroom.app import WarRoomApp
    from warroom.sources.alertmanager import Alert, AlertSnapshot

log = logging.getLogger("warroom")

ALERT_SEVERITY = {"critical": "P0", "page": "P1", "high": "P1", "error": "P1", "warning": "P2"}


@dataclass
class HealthConfig:
    specs: list[CheckSpec] = field(default_factory=list)
    rules: list[Any] = field(default_factory=list)


def load_health_config(settings: Any) -> HealthConfig:
    """Checks and detection rules from settings; errors name file, key and line."""
    from warroom.health import HealthConfigError, parse_checks, parse_rules

    health = settings.raw.get("health") or {}
    try:
        specs = parse_checks(health.get("checks") or [], settings.source)
        rules = parse_rules(health.get("rules") or [], settings.source, checks=specs)
    except HealthConfigError as exc:
        raise settings.error(exc.key, exc.problem) from None
    return HealthConfig(specs, rules)


def threshold_text(spec: CheckSpec) -> str:
    """Compact: '≥1% / ≥5%' (warn / crit), the arrow saying which side is bad."""
    op = "≥" if spec.direction == "above" else "≤"
    parts = [
        f"{op}{format_value(v, spec.unit)}" if v is not None else "-"
        for v in (spec.warn, spec.crit)
    ]
    return " / ".join(parts) if any(p != "-" for p in parts) else "-"


class HealthMixin:
    """Mixed into WarRoomApp; `self` is the app."""

    def _health_setup(self: WarRoomApp) -> None:
        s = self.settings
        self.health_config = load_health_config(s)
        self.health_tracker = HealthTracker(self.health_config.specs)
        self.rule_evaluator = RuleEvaluator(self.health_config.rules, self.health_config.specs)
        self.health_snapshot: HealthSnapshot | None = None
        self.alert_snapshot: AlertSnapshot | None = None
        self.alerts_by_fp: dict[str, Alert] = {}
        self.suggestion: Detection | None = None
        self._prom: Any = None
        self._am: Any = None
        self._alert_tracker: Any = None
        self._health_failing_since: datetime | None = None
        status = self.main.query_one("#health-status", SourceStatus)
        if not s.prometheus.url and not s.alertmanager.url:
            status.show(SourceState("unconfigured", "set prometheus.url or PROMETHEUS_URL"))
            return
        if s.prometheus.url and not self.health_config.specs:
            status.show(SourceState("unconfigured", "no [[health.checks]] in warroom.toml"))
        else:
            status.show(SourceState("connecting", s.prometheus.url or s.alertmanager.url or ""))
        if not self.poll_sources:
            return
        if s.prometheus.url and self.health_config.specs:
            self.call_after_refresh(self._health_refresh)
        if s.alertmanager.url:
            self.call_after_refresh(self._alerts_refresh)

    # ----- Prometheus ----------------------------------------------------------------------
    def prometheus(self: WarRoomApp) -> Any:
        """The one PrometheusSource of this console, made on first use (in a worker)."""
        if self._prom is None:
            from warroom.sources.prometheus import PrometheusSource

            p = self.settings.prometheus
            self._prom = PrometheusSource(
                p.url or "",
                bearer_token=p.bearer_token,
                basic_auth=p.basic_auth,
                verify_tls=p.verify_tls,
                timeout=p.timeout,
            )
        return self._prom

    @work(thread=True, exclusive=True, group="health", exit_on_error=False)
    def _health_refresh(self: WarRoomApp) -> None:
        try:
            snap = self.prometheus().refresh(self.health_config.specs, self.clock())
            self.call_from_thread(self._apply_health, snap)
        finally:
            # Re-arm only now: refreshes never overlap, a slow source slows the cadence.
            self.call_from_thread(
                self.set_timer,
                self.settings.prometheus.refresh.total_seconds(),
                self._health_refresh,
            )

    def _apply_health(self: WarRoomApp, snap: HealthSnapshot) -> None:
        status = self.main.query_one("#health-status", SourceStatus)
        if not snap.ok:
            self._health_failing_since = self._health_failing_since or snap.fetched_at
            since = snap.last_ok_at or self._health_failing_since
            status.show(SourceState("stale", snap.error or "unreachable", since=since))
            return
        self._health_failing_since = None
        self.health_snapshot = snap
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
        table = self.main.query_one(HealthTable)
        table.display = True
        table.set_rows(rows)
        bad = [f"{n} {k}" for k, n in sorted(counts.items()) if k != "ok"]
        summary = f"{len(snap.results)} checks: " + (", ".join(bad) if bad else "all ok")
        status.show(SourceState("ok", since=snap.fetched_at, summary=summary))
        transitions = self.health_tracker.feed(snap)
        detections = self.rule_evaluator.feed(snap)
        if self.room is not None and (transitions or detections):
            self._record_health(transitions, detections)

    def _record_health(self: WarRoomApp, transitions: list, detections: list[Detection]) -> None:
        room = self.room
        if room is None:
            return

        def record() -> None:
            for t in transitions:
                room.record(
                    Kind.CHECK,
                    t.text,
                    {
                        "check": t.check,
                        "from": str(t.previous) if t.previous else None,
                        "to": str(t.state),
                        "value": t.value,
                    },
                    source="prometheus",
                )
            for d in detections:
                already = room.state.detected_at
                if already is None or d.since < already:
                    room.mark_detected(
                        d.since, d.reason_text, rule=d.rule.name, source="warroom-rules"
                    )
                if d.suggested_severity.rank < room.state.severity.rank:
                    room.record(
                        Kind.SUGGESTION,
                        f"{d.reason_text} (press S to accept)",
                        {"rule": d.rule.name, "severity": d.suggested_severity.value},
                        source="warroom-rules",
                    )
                    self.suggestion = d

        self.run_use_case(record, group="store")

    def action_accept_suggestion(self: WarRoomApp) -> None:
        room = self._need_room()
        d = self.suggestion
        if room is None:
            return
        if d is None or d.suggested_severity.rank >= room.state.severity.rank:
            self.notify("No severity suggestion pending.", severity="information")
            return
        self.suggestion = None
        self.run_use_case(
            lambda: room.change_severity(d.suggested_severity, f"accepted: {d.reason_text}")
        )

    def health_note(self: WarRoomApp) -> str:
        d = self.suggestion
        if (
            d is None
            or self.room is None
            or d.suggested_severity.rank >= self.room.state.severity.rank
        ):
            return ""
        return f"{d.reason_text} (S accepts)"

    def on_data_table_row_selected(self: WarRoomApp, event: DataTable.RowSelected) -> None:
        if isinstance(event.data_table, HealthTable):
            event.stop()
            self._open_series(str(event.row_key.value))
        elif isinstance(event.data_table, AlertsTable):
            event.stop()
            self.action_alert()

    def _open_series(self: WarRoomApp, name: str) -> None:
        spec = next((s for s in self.health_config.specs if s.name == name), None)
        if spec is None or self._prom is None:
            return
        self._load_series(spec)

    @work(thread=True, exclusive=True, group="series", exit_on_error=False)
    def _load_series(self: WarRoomApp, spec: CheckSpec) -> None:
        try:
            series = self._prom.range_series(spec.expr, 30)
            err = None
        except Exception as exc:  # shown in the view, never a crash
            series, err = [], str(exc)
        self.call_from_thread(
            self.push_screen, SeriesScreen(spec.name, spec.unit, series, err, threshold_text(spec))
        )

    def action_promql(self: WarRoomApp) -> None:
        if not self.settings.prometheus.url:
            self.notify("Prometheus is not configured.", severity="warning")
            return
        self.push_screen(
            PromptScreen(
                "PromQL (instant query)", "e.g. sum by (code) (rate(http_requests_total[5m]))"
            ),
            lambda expr: expr and self._run_promql(expr),
        )

    @work(thread=True, exclusive=True, group="promql", exit_on_error=False)
    def _run_promql(self: WarRoomApp, expr: str) -> None:
        try:
            rows, err = self.prometheus().query(expr), None
        except Exception as exc:
            rows, err = [], str(exc)
        self.call_from_thread(self.push_screen, QueryResultScreen(expr, rows, err))

    # ----- Alertmanager --------------------------------------------------------------------
    def alertmanager(self: WarRoomApp) -> Any:
        """The one AlertmanagerSource of this console (the pane's refresh and evidence share
        its connections), made on first use."""
        if self._am is None:
            from warroom.sources.alertmanager import AlertmanagerSource

            a = self.settings.alertmanager
            self._am = AlertmanagerSource(a.url or "", a.timeout, a.bearer_token)
        return self._am

    @work(exclusive=True, group="alerts", exit_on_error=False)
    async def _alerts_refresh(self: WarRoomApp) -> None:
        try:
            if self._alert_tracker is None:
                from warroom.sources.alertmanager import AlertTracker

                self._alert_tracker = AlertTracker()
            snap = await self.alertmanager().fetch()
            self._apply_alerts(snap)
        finally:
            self.set_timer(self.settings.alertmanager.refresh.total_seconds(), self._alerts_refresh)

    def _apply_alerts(self: WarRoomApp, snap: AlertSnapshot) -> None:
        table = self.main.query_one(AlertsTable)
        if not snap.ok:
            if not self.settings.prometheus.url:
                since = snap.last_ok_at or snap.fetched_at
                self.main.query_one("#health-status", SourceStatus).show(
                    SourceState("stale", f"alertmanager: {snap.error}", since=since)
                )
            table.border_title = f"alerts: stale ({snap.error})"[:80]
            return
        self.alert_snapshot = snap
        table.display = True
        now = self.clock()
        self.alerts_by_fp = {a.fingerprint: a for a in snap.alerts}
        table.set_rows(
            [
                AlertRow(
                    fingerprint=a.fingerprint,
                    name=a.name,
                    severity=a.severity or "-",
                    age=format_duration(now - a.starts_at) if a.starts_at else "-",
                    summary=a.summary,
                )
                for a in sorted(snap.alerts, key=lambda a: a.starts_at or now)
            ]
        )
        table.border_title = f"{len(snap.alerts)} alert(s) firing"
        transitions = self._alert_tracker.update(snap)
        room = self.room
        if room is None or not transitions:
            return

        def record() -> None:
            for t in transitions:
                a = t.alert
                key = f"{a.fingerprint}:{t.kind}:{format_ts(a.starts_at) if a.starts_at else ''}"
                # Another console on this incident may have recorded the same alert already.
                if any(e.kind == Kind.ALERT and e.data.get("key") == key for e in room.events):
                    continue
                text = t.text + (" (already firing when the console opened)" if t.initial else "")
                room.record(
                    Kind.ALERT,
                    text,
                    {
                        "key": key,
                        "fingerprint": a.fingerprint,
                        "alertname": a.name,
                        "transition": t.kind,
                        "severity": a.severity,
                        "starts_at": format_ts(a.starts_at) if a.starts_at else None,
                    },
                    source="alertmanager",
                )

        self.run_use_case(record, group="store")

    def action_alert(self: WarRoomApp) -> None:
        """`a` on an alert: attach it to this incident, or declare a new incident from it."""
        fp = self.main.query_one(AlertsTable).selected_fingerprint()
        alert = self.alerts_by_fp.get(fp or "")
        if alert is None:
            self.notify("Select a firing alert in the health pane first.", severity="warning")
            return
        choices = []
        if self.room is not None:
            choices.append(("attach", f"Attach to {self.room.incident_id} (marks detection time)"))
        sev = ALERT_SEVERITY.get(alert.severity.lower(), "P2")
        choices.append(("declare", f"Declare a new {sev} incident from it"))

        def picked(choice: str | None) -> None:
            if choice == "attach" and self.room is not None:
                room = self.room

                def attach() -> None:
                    room.record(
                        Kind.ALERT,
                        f"Alert {alert.name} attached: {alert.summary}",
                        {
                            "fingerprint": alert.fingerprint,
                            "alertname": alert.name,
                            "transition": "attached",
                            "labels": alert.labels,
                        },
                    )
                    if alert.starts_at:
                        room.mark_detected(alert.starts_at, f"alert {alert.name} firing")

                self.run_use_case(attach)
            elif choice == "declare":
                self.declare_from_alert(alert, Severity(sev))

        self.push_screen(ChoiceScreen(f"Alert {alert.name}", choices), picked)
