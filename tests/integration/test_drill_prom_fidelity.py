"""The drill's built-in Prometheus and Alertmanager against the real Debian servers: every
request of tests/fixtures/prom_fidelity.py answered with the real status, content type and JSON
shape (error bodies word for word). Compared with the recorded answers (no binaries needed) and,
where the binaries are installed, with live ones (under CI a missing binary fails)."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.fixtures.prom_fidelity import (
    RECORDED,
    alertmanager_requests,
    compare,
    prometheus_requests,
    run,
)
from tests.fixtures.prometheus_servers import _require
from tests.support import wait_for

pytestmark = pytest.mark.integration
ALERT = "CheckoutHighErrorRate"


def _firing(url: str) -> bool:
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as r:
        return any(a["labels"]["alertname"] == ALERT for a in json.load(r))


def _answers(handle, prometheus: str) -> tuple[dict, dict]:
    wait_for(lambda: _firing(handle.alertmanager_url), timeout=60, what=f"{ALERT} to fire")
    return run(prometheus, prometheus_requests()), run(
        handle.alertmanager_url, alertmanager_requests()
    )


def _problems(real_prom: dict, real_am: dict, prom: dict, am: dict) -> list[str]:
    out = []
    for req in prometheus_requests():
        out += compare(f"prometheus {req.name}", req, real_prom[req.name], prom[req.name])
    for req in alertmanager_requests():
        out += compare(f"alertmanager {req.name}", req, real_am[req.name], am[req.name])
    return out


@pytest.fixture
def builtin_answers(drill_factory):
    h = drill_factory(speed=20.0, wall_timestamps=True)
    return _answers(h, h.prom_url)


def test_builtin_servers_answer_like_the_recorded_real_ones(builtin_answers):
    prom, am = builtin_answers
    real_prom = json.loads((RECORDED / "prometheus.json").read_text())
    real_am = json.loads((RECORDED / "alertmanager.json").read_text())
    assert _problems(real_prom, real_am, prom, am) == []


def test_builtin_servers_answer_like_the_live_real_ones(builtin_answers, drill_factory):
    _require("prometheus", "WARROOM_PROMETHEUS_BIN")
    _require("prometheus-alertmanager", "WARROOM_ALERTMANAGER_BIN")
    _require("promtool", "WARROOM_PROMTOOL_BIN")
    real = drill_factory(speed=20.0, wall_timestamps=True, prometheus="real")
    real_prom, real_am = _answers(real, real.real_prometheus_url)
    prom, am = builtin_answers
    assert _problems(real_prom, real_am, prom, am) == []
