"""The health pane in the console: fixed-data snapshot, and the real Prometheus and
Alertmanager (Debian packages) driving it, with alerts reaching the timeline."""

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fixtures.prometheus_servers import ALERT_NAME, GAUGE
from tests.support import UI_SIZE as SIZE
from tests.support import pilot_until as wait_until
from tests.support import settle
from warroom.alerts import Alert, AlertSnapshot
from warroom.checks import CheckSpec, CheckState
from warroom.console.app import WarRoomApp
from warroom.health import CheckResult, HealthSnapshot
from warroom.model import Kind
from warroom.settings import load_settings
from warroom.widgets.health_pane import AlertsTable, HealthTable
from warroom.widgets.source_status import SourceStatus

from .conftest import mid_incident

CHECKS_TOML = """
[kube]
enabled = false
[prometheus]
url = "{prom}"
refresh = "1s"
[alertmanager]
url = "{am}"
refresh = "1s"

[[health.checks]]
name = "error_ratio"
query = 'sum(rate(http_requests_total{{code=~"5.."}}[1m])) / sum(rate(http_requests_total[1m]))'
warn = 0.01
crit = 0.10
unit = "ratio"

[[health.checks]]
name = "queue_depth"
query = '{gauge}{{case="console"}}'
warn = 50
crit = 80

[[health.checks]]
name = "broken_query"
query = 'sum(rate(http_requests_total[1m]'
"""


def fixed_snapshot(at) -> HealthSnapshot:
    def res(name, value, state, unit="", warn=None, crit=None, direction="above", err=None):
        spec = CheckSpec(name, "expr", warn, crit, direction, unit)
        series = [(i * 30.0, (value or 0) * (0.5 + i / 120)) for i in range(60)]
        return CheckResult(spec, value, state, err, series if value is not None else [])

    return HealthSnapshot(
        ok=True,
        fetched_at=at,
        results=[
            res("checkout error ratio", 0.163, CheckState.CRIT, "ratio", 0.01, 0.05),
            res("checkout p99 latency", 0.72, CheckState.WARN, "s", 0.5, 1.0),
            res("orders per minute", 133, CheckState.OK, " /min", 120, 60, "below"),
            res("payments p99", None, CheckState.NODATA, "s", 0.8, 1.5),
            res("bad query", None, CheckState.ERROR, err="bad_data: parse error at char 12"),
        ],
        last_ok_at=at,
    )


def fixed_alerts(at) -> AlertSnapshot:
    return AlertSnapshot(
        ok=True,
        fetched_at=at,
        alerts=[
            Alert(
                "fp1",
                "CheckoutHighErrorRate",
                "critical",
                "active",
                at - timedelta(minutes=4),
                "checkout-api is failing \x1b[31mmore than 5%\x1b[0m of requests",
                {"alertname": "CheckoutHighErrorRate"},
                {},
            ),
        ],
        last_ok_at=at,
    )


def test_health_pane_snapshot(snap_compare, repo, settings, clock, tmp_path: Path) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text(
        CHECKS_TOML.format(prom="http://127.0.0.1:9", am="http://127.0.0.1:9", gauge=GAUGE)
    )
    s = load_settings(cfg, env={"USER": "ann"}, data_dir=settings.data_dir)
    s = dataclasses.replace(s, signing=settings.signing)  # no key here: no "unsigned" toast
    room = mid_incident(repo, s, clock)
    app = WarRoomApp(s, repo=repo, room=room, clock=clock, follow=False, poll_sources=False)

    async def feed(pilot) -> None:
        await pilot.pause()
        app.health.apply_health(fixed_snapshot(clock.now))
        app.health.apply_alerts(fixed_alerts(clock.now))
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=feed)


@pytest.mark.integration
async def test_real_prometheus_and_alertmanager_drive_the_pane(
    prom_exporter, prometheus_server, alertmanager_server, repo, settings, clock, tmp_path
) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text(
        CHECKS_TOML.format(prom=prometheus_server.url, am=alertmanager_server.url, gauge=GAUGE)
    )
    s = load_settings(cfg, env={"USER": "ann"}, data_dir=settings.data_dir)
    prom_exporter.set("console", 90)
    prom_exporter.set("alert", 0)
    prometheus_server.wait_for(f'{GAUGE}{{case="console"}}', lambda v: v == 90, timeout=30)
    room = mid_incident(repo, s, clock)
    app = WarRoomApp(s, repo=repo, room=room, follow=False)  # real clock: real data
    async with app.run_test(size=SIZE) as pilot:
        table = app.main.query_one(HealthTable)
        await wait_until(pilot, lambda: "queue_depth" in table._rows)
        rows = table._rows
        assert rows["queue_depth"].state == "crit" and rows["queue_depth"].value == "90"
        assert rows["broken_query"].state == "error" and "bad_data" in rows["broken_query"].detail
        # A just-started Prometheus may not have two samples for rate() yet.
        assert rows["error_ratio"].state in ("ok", "warn", "crit", "nodata")
        # An alert fires in Prometheus, reaches Alertmanager, the pane and the timeline.
        prom_exporter.set("alert", 150)
        alerts = app.main.query_one(AlertsTable)
        await wait_until(pilot, lambda: any(a.name == ALERT_NAME for a in alerts._rows.values()))
        await settle(app, pilot)
        fired = [e for e in room.store.events() if e.kind == Kind.ALERT]
        assert fired and fired[-1].data["transition"] == "fired"
        assert fired[-1].actor == "alertmanager"
        prom_exporter.set("alert", 0)

        def resolved() -> bool:
            return any(
                e.kind == Kind.ALERT and e.data.get("transition") == "resolved"
                for e in room.store.events()
            )

        await wait_until(pilot, resolved, timeout=60)
        await wait_until(pilot, lambda: not alerts._rows)
        # Prometheus stops: the pane goes stale and says since when; it recovers by itself.
        prometheus_server.stop()
        status = app.main.query_one("#health-status", SourceStatus)
        await wait_until(pilot, lambda: status.state.kind == "stale", timeout=20)
        assert "stale since" in status.render().plain
        prometheus_server.start()
        await wait_until(pilot, lambda: status.state.kind == "ok", timeout=40)
