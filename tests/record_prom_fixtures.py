"""Re-record tests/fixtures/recorded/ from the real Debian Prometheus and Alertmanager.

    .venv/bin/python -m tests.record_prom_fixtures

Starts a drill in `prometheus="real"` mode (the real binaries scraping the drill's series, real
rules, real Alertmanager; all on 127.0.0.1), waits for the scenario's alert to reach the real
Alertmanager, then records:
- prometheus.json, alertmanager.json: the answers of tests/fixtures/prom_fidelity.py's requests
  to the real servers (not the drill's front);
- promql_errors.json: the real server's answer to every query of promql_queries.json.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path

from tests.fixtures.prom_fidelity import (
    RECORDED,
    Req,
    alertmanager_requests,
    prometheus_requests,
    run,
    send,
)
from warroom.drill.world import DrillHandle, run_in_thread

ALERT = "CheckoutHighErrorRate"


def wait_for_alert(handle: DrillHandle, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{handle.alertmanager_url}/api/v2/alerts") as r:
            if any(a["labels"]["alertname"] == ALERT for a in json.load(r)):
                return
        time.sleep(0.5)
    raise TimeoutError(f"{ALERT} did not reach the real Alertmanager in {timeout:g}s")


def record_errors(prometheus: str, queries: list[str]) -> dict[str, str]:
    out = {}
    for q in queries:
        got = send(prometheus, Req("q", "/api/v1/query", {"query": q}), {})
        body = got["body"]
        out[q] = "OK" if got["status"] == 200 else body["error"]
    return out


def main(out_dir: Path = RECORDED) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    with run_in_thread(
        "crashloop-after-deploy", speed=20.0, wall_timestamps=True, prometheus="real"
    ) as h:
        wait_for_alert(h)
        prom = run(h.real_prometheus_url, prometheus_requests())
        am = run(h.alertmanager_url, alertmanager_requests())
        queries = json.loads((out_dir / "promql_queries.json").read_text())
        errors = record_errors(h.real_prometheus_url, queries)
        version = send(h.real_prometheus_url, Req("b", "/api/v1/status/buildinfo"), {})
    for name, data in (
        ("prometheus.json", prom),
        ("alertmanager.json", am),
        ("promql_errors.json", errors),
    ):
        (out_dir / name).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"recorded from Prometheus {version['body']['data']['version']} into {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else RECORDED))
