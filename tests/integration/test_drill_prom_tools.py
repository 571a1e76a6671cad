"""The drill's built-in servers through the real command-line clients: `promtool query` and
`amtool` (Debian's prometheus and prometheus-alertmanager packages ship them)."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.prometheus_servers import _require
from tests.support import wait_for

pytestmark = pytest.mark.integration
ALERT = "CheckoutHighErrorRate"


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    if check and r.returncode != 0:
        pytest.fail(f"{' '.join(argv)} exited {r.returncode}: {r.stdout}{r.stderr}")
    return r


def am_alerts(url: str) -> list[dict]:
    with urllib.request.urlopen(f"{url}/api/v2/alerts", timeout=5) as r:
        return json.load(r)


def firing(url: str) -> dict | None:
    return next((a for a in am_alerts(url) if a["labels"]["alertname"] == ALERT), None)


def test_promtool_queries_at_now_see_the_present_even_at_speed(drill_factory):
    promtool = _require("promtool", "WARROOM_PROMTOOL_BIN")
    # Default world clock (no wall timestamps) at 20x: the APIs still speak wall-clock time.
    h = drill_factory(speed=20.0)
    alert = wait_for(lambda: firing(h.alertmanager_url), what=f"{ALERT} to fire")
    starts = datetime.fromisoformat(alert["startsAt"].replace("Z", "+00:00"))
    assert starts <= datetime.now(UTC) + timedelta(seconds=1)  # not minutes in the future
    check = h.scenario.checks[0]
    out = run(promtool, "query", "instant", "-o", "json", h.prom_url, check.expr).stdout
    (sample,) = json.loads(out)
    assert float(sample["value"][1]) > check.crit  # "now" is the broken present, not the past
    out = run(promtool, "query", "instant", h.prom_url, "drill:checkout_errors").stdout
    assert out.startswith("drill:checkout_errors => ")
    assert run(promtool, "query", "instant", h.prom_url, "up").stdout.strip() == ""
    bad = run(promtool, "query", "instant", h.prom_url, "sum(rate(x[5m]", check=False)
    assert bad.returncode != 0
    assert "1:15: parse error: unclosed left parenthesis" in bad.stderr
    labels = run(promtool, "query", "labels", h.prom_url, "__name__").stdout.split()
    assert "drill:checkout_errors" in labels and "ALERTS" in labels


def test_amtool_silences_and_adds_alerts(drill_factory):
    amtool = _require("amtool", "WARROOM_AMTOOL_BIN")
    h = drill_factory(speed=20.0, wall_timestamps=True)
    wait_for(lambda: firing(h.alertmanager_url), what=f"{ALERT} to fire")
    url = f"--alertmanager.url={h.alertmanager_url}"
    sid = run(
        amtool, url, "silence", "add", f"alertname={ALERT}", "--comment=drill", "--author=ic"
    ).stdout.strip()
    assert len(sid) == 36
    silenced = firing(h.alertmanager_url)
    assert silenced["status"] == {"inhibitedBy": [], "silencedBy": [sid], "state": "suppressed"}
    listed = json.loads(run(amtool, url, "silence", "query", "-o", "json").stdout)
    assert [s["id"] for s in listed] == [sid] and listed[0]["status"]["state"] == "active"
    shown = run(amtool, url, "alert", "query").stdout
    assert ALERT not in shown  # amtool hides silenced alerts, as with a real Alertmanager
    run(amtool, url, "silence", "expire", sid)
    assert firing(h.alertmanager_url)["status"]["state"] == "active"
    expired = json.loads(run(amtool, url, "silence", "query", "--expired", "-o", "json").stdout)
    assert expired[0]["status"]["state"] == "expired"
    run(amtool, url, "alert", "add", "ManualPage", "severity=info", "--annotation=summary=by hand")
    names = {a["labels"]["alertname"] for a in am_alerts(h.alertmanager_url)}
    assert {"ManualPage", ALERT} <= names
    assert "ManualPage" in run(amtool, url, "alert", "query").stdout
