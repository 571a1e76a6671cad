"""The drill's Prometheus: query latency of the built-in server, and start-up of real mode.

    python bench/drill_prom.py [--rounds 200] [--real 3]

Built-in: a health check's instant query, its 30 minute range at 15 s (the sparkline), an
ordinary PromQL query over the recorded series, and a syntax error, each `--rounds` times over
HTTP on 127.0.0.1 (median and p95). Real mode: wall time from DrillWorld start to servers ready
(promtool backfill, Alertmanager, Prometheus), `--real` times, when the binaries are installed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from warroom.drill.prom_real import RealServersUnavailable
from warroom.drill.world import run_in_thread


def timed(url: str, rounds: int) -> tuple[float, float]:
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                r.read()
        except urllib.error.HTTPError as e:
            e.read()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--real", type=int, default=3)
    args = ap.parse_args()
    with run_in_thread("crashloop-after-deploy", wall_timestamps=True) as h:
        check = h.scenario.checks[0].expr
        now = time.time()
        cases = {
            "check instant": {"query": check},
            "check range 30m/15s": {
                "query": check,
                "start": f"{now - 1800:.3f}",
                "end": f"{now:.3f}",
                "step": "15",
            },
            "sum by (service) (rate(drill:rps[5m]))": {
                "query": "sum by (service) (rate(drill:rps[5m]))"
            },
            "syntax error": {"query": "sum(rate(x[5m]"},
        }
        for name, params in cases.items():
            path = "query_range" if "start" in params else "query"
            url = f"{h.prom_url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
            med, p95 = timed(url, args.rounds)
            print(f"built-in {name:42s} median {med:6.2f} ms  p95 {p95:6.2f} ms")
    starts = []
    for _ in range(args.real):
        t0 = time.perf_counter()
        try:
            with run_in_thread("crashloop-after-deploy", wall_timestamps=True, prometheus="real"):
                starts.append(time.perf_counter() - t0)
        except RealServersUnavailable as e:
            print(f"real mode: {e}")
            break
    if starts:
        print(
            f"real mode start (backfill + Alertmanager + Prometheus ready): "
            f"median {statistics.median(starts):.2f} s over {len(starts)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
