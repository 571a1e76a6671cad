"""PrometheusSource against real Prometheus scraping the loopback exporter."""

from __future__ import annotations

import json
import time

import pytest

from tests.fixtures.prometheus_servers import Exporter, PrometheusServer
from warroom.actions.evidence.metrics import capture_metric_snapshots
from warroom.checks import CheckSpec, CheckState
from warroom.model import utcnow
from warroom.sources.prometheus import PrometheusError, PrometheusSource

pytestmark = pytest.mark.integration


@pytest.fixture
def source(prometheus_server: PrometheusServer):
    with PrometheusSource(prometheus_server.url, timeout=5.0) as src:
        yield src


def gauge(case: str) -> str:
    return f'warroom_test_gauge{{case="{case}"}}'


def set_and_wait(exp: Exporter, prom: PrometheusServer, case: str, value: float) -> None:
    exp.set(case, value)
    prom.wait_for(gauge(case), lambda v: v == value)


def test_thresholds_and_direction(
    source: PrometheusSource, prom_exporter: Exporter, prometheus_server: PrometheusServer
) -> None:
    above = CheckSpec("above", gauge("thresh"), warn=10, crit=20, direction="above")
    below = CheckSpec("below", gauge("thresh"), warn=10, crit=5, direction="below")
    expected = {
        15: (CheckState.WARN, CheckState.OK),
        25: (CheckState.CRIT, CheckState.OK),
        7: (CheckState.OK, CheckState.WARN),
        3: (CheckState.OK, CheckState.CRIT),
    }
    for value, states in expected.items():
        set_and_wait(prom_exporter, prometheus_server, "thresh", value)
        snap = source.refresh([above, below], utcnow())
        assert snap.ok, snap.error
        got = snap.by_name()
        assert (got["above"].value, got["below"].value) == (value, value)
        assert (got["above"].state, got["below"].state) == states, value
        assert got["above"].labels["case"] == "thresh"


def test_bad_expression_and_nodata_stay_on_their_rows(
    source: PrometheusSource, prom_exporter: Exporter, prometheus_server: PrometheusServer
) -> None:
    set_and_wait(prom_exporter, prometheus_server, "rows", 1)
    specs = [
        CheckSpec("good", gauge("rows"), crit=10),
        CheckSpec("bad", "sum(rate(http_requests_total[5m]", crit=1),
        CheckSpec("missing", "warroom_metric_that_does_not_exist", crit=1),
    ]
    snap = source.refresh(specs, utcnow())
    assert snap.ok and snap.error is None
    good, bad, missing = snap.results
    assert (good.state, good.value, good.error) == (CheckState.OK, 1.0, None)
    assert bad.state is CheckState.ERROR
    assert bad.error is not None and bad.error.startswith("bad_data:")
    assert bad.series == [] and bad.series_error is not None
    assert (missing.state, missing.value, missing.error) == (CheckState.NODATA, None, None)
    assert missing.series == [] and missing.series_error is None


def test_sparkline_series(
    source: PrometheusSource, prom_exporter: Exporter, prometheus_server: PrometheusServer
) -> None:
    set_and_wait(prom_exporter, prometheus_server, "spark", 4)
    now = utcnow()
    [res] = source.refresh([CheckSpec("spark", gauge("spark"))], now).results
    assert res.series, "range query returned no points"
    ts, v = res.series[-1]
    assert ts <= now.timestamp() + 1 and v == 4.0
    assert [t for t, _ in res.series] == sorted(t for t, _ in res.series)


def test_adhoc_query_and_range_series(
    source: PrometheusSource, prom_exporter: Exporter, prometheus_server: PrometheusServer
) -> None:
    set_and_wait(prom_exporter, prometheus_server, "adhoc", 2)
    rows = source.query(gauge("adhoc"))
    assert len(rows) == 1
    assert rows[0]["labels"]["case"] == "adhoc" and rows[0]["value"] == 2.0
    assert source.query("vector(7)") == [{"labels": {}, "value": 7.0}]
    assert source.query("scalar(vector(3))") == [{"labels": {}, "value": 3.0}]
    with pytest.raises(PrometheusError) as err:
        source.query("rate(")
    assert not err.value.fatal and "bad_data" in str(err.value)
    [series] = source.range_series(gauge("adhoc"), minutes=5)
    assert series.labels["case"] == "adhoc" and series.points[-1][1] == 2.0


def test_refresh_is_thread_safe(
    source: PrometheusSource, prom_exporter: Exporter, prometheus_server: PrometheusServer
) -> None:
    import threading

    set_and_wait(prom_exporter, prometheus_server, "threads", 5)
    specs = [CheckSpec(f"c{i}", gauge("threads"), warn=1) for i in range(10)]
    out = []
    threads = [threading.Thread(target=lambda: out.append(source.refresh(specs))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(out) == 4
    assert all(s.ok and all(r.state is CheckState.WARN for r in s.results) for s in out)


def test_capture_metric_snapshots(
    source: PrometheusSource, prom_exporter: Exporter, prometheus_server: PrometheusServer
) -> None:
    set_and_wait(prom_exporter, prometheus_server, "snap", 9)
    specs = [
        CheckSpec("snap", gauge("snap"), warn=1, unit="s"),
        CheckSpec("broken", "rate(", warn=1),
    ]
    data = json.loads(json.dumps(capture_metric_snapshots(source, specs, minutes=10)))
    assert data["source"] == prometheus_server.url and data["step"] == 10
    snap, broken = data["checks"]
    assert (snap["name"], snap["expr"], snap["error"]) == ("snap", gauge("snap"), None)
    assert snap["series"][0]["labels"]["case"] == "snap"
    assert snap["series"][0]["values"][-1][1] == "9"
    assert broken["series"] == [] and broken["error"].startswith("bad_data:")
    assert snap["start"] < snap["end"]


def test_source_recovers_after_prometheus_restart(
    prom_exporter: Exporter, prometheus_server: PrometheusServer
) -> None:
    set_and_wait(prom_exporter, prometheus_server, "restart", 1)
    spec = CheckSpec("restart", gauge("restart"), crit=5)
    with PrometheusSource(prometheus_server.url, timeout=2.0) as src:
        first = src.refresh([spec])
        assert first.ok
        prometheus_server.stop()
        try:
            down = src.refresh([spec])
            assert not down.ok and down.results == []
            assert down.error is not None and down.error.startswith("Connection refused (")
            assert "Connection refused" in down.error
            assert down.last_ok_at == first.fetched_at  # "stale since"
        finally:
            prometheus_server.start()
        deadline = time.monotonic() + 20  # bounded: WAL replay then the sample is back
        while True:
            up = src.refresh([spec])
            if (up.ok and up.results[0].state is CheckState.OK) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert up.ok, up.error
        assert up.results[0].value == 1.0
