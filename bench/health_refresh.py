"""Health refresh cycle time against real Prometheus, 50 checks.

    python bench/health_refresh.py [--checks 50] [--rounds 7] [--workers 8]

Prints the cycle time of PrometheusSource.refresh (every check: instant + 30 min range, in
parallel) against the slowest single query (goal: ratio <= 1.5) and against the same queries
run one after another. Starts its own Prometheus + loopback exporter on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.fixtures.prometheus_servers import Exporter, PrometheusServer, find_binary
from warroom.checks import CheckSpec
from warroom.model import utcnow
from warroom.sources.prometheus import PrometheusSource, step_for

# {sel} makes every expr distinct (the source shares one call between equal exprs)
TEMPLATES = [
    'sum(rate(http_requests_total{{code=~"5..",{sel}}}[{w}]))'
    " / sum(rate(http_requests_total{{{sel}}}[{w}]))",
    "histogram_quantile(0.{q},"
    " sum by (le) (rate(http_request_duration_seconds_bucket{{{sel}}}[{w}])))",
    "sum by (code) (rate(http_requests_total{{{sel}}}[{w}]))",
    'sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{{container!="",{sel}}}[{w}]))'
    ' / sum by (namespace, pod) (kube_pod_container_resource_limits{{resource="cpu",{sel}}})',
    'max_over_time(warroom_test_gauge{{case="bench",{sel}}}[{w}])',
]


def make_checks(n: int, heavy: bool) -> list[CheckSpec]:
    specs = []
    for i in range(n):
        w = ("1m", "2m", "5m", "10m")[i % 4]
        sel = f'job!="not-{i}"'
        expr = TEMPLATES[i % len(TEMPLATES)].format(w=w, q=(5, 9, 99, 999)[i % 4], sel=sel)
        specs.append(CheckSpec(f"c{i:02d}", expr, warn=1.0, crit=2.0))
    if heavy:
        # Stand-in for a query that is expensive on the server (a big fleet): a 1 ms subquery,
        # ~0.15 s instant and ~0.6 s range on this machine. Put last, where it hurts most.
        specs[-1] = CheckSpec("heavy", "sum(max_over_time(vector(1)[5m:1ms]))")
    return specs


def timed(fn, *args) -> float:
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


def single_queries(src: PrometheusSource, specs: list[CheckSpec]) -> list[float]:
    """Every query of a refresh, alone and one after another."""
    now = utcnow()
    start, step = now - timedelta(minutes=30), step_for(30)
    out = []
    for s in specs:
        out.append(timed(src.query, s.expr, now))
        out.append(timed(src.range_query, s.expr, start, now, step))
    return out


def run(url: str, specs: list[CheckSpec], rounds: int, workers: int, label: str) -> None:
    with PrometheusSource(url, max_workers=workers) as src:
        src.refresh(specs)  # warm connections
        singles = [max(single_queries(src, specs)) for _ in range(3)]
        cycles = []
        for _ in range(rounds):
            snap = src.refresh(specs)
            assert snap.ok, snap.error
            cycles.append(snap.duration_s)
    with PrometheusSource(url, max_workers=1) as serial_src:
        serial_src.refresh(specs)
        serial = statistics.median(serial_src.refresh(specs).duration_s for _ in range(3))
    slowest, cycle = statistics.median(singles), statistics.median(cycles)
    print(
        f"{label:<28} workers={workers:<3} cycle={cycle * 1000:7.1f} ms  "
        f"slowest query={slowest * 1000:6.1f} ms  ratio={cycle / slowest:5.2f}  "
        f"serial={serial * 1000:7.1f} ms  speed-up={serial / cycle:4.1f}x"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checks", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--workers", type=int, nargs="*", default=[8, 16])
    args = ap.parse_args()
    binary = find_binary("prometheus", "WARROOM_PROMETHEUS_BIN")
    if binary is None:
        sys.exit("prometheus binary not found")
    exporter = Exporter().start()
    exporter.set("bench", 1)
    with tempfile.TemporaryDirectory(prefix="warroom-bench-") as tmp:
        prom = PrometheusServer(binary, Path(tmp), [f"127.0.0.1:{exporter.port}"])
        prom.start()
        try:
            t0 = time.perf_counter()
            prom.wait_for(make_checks(1, False)[0].expr, lambda v: v is not None, timeout=30)
            time.sleep(5)  # a few more samples so every window has data
            print(f"prometheus ready with data after {time.perf_counter() - t0:.1f}s")
            print(f"{args.checks} checks, 2 queries each (instant + 30 min range), median")
            for heavy in (False, True):
                specs = make_checks(args.checks, heavy)
                for workers in args.workers:
                    label = "with one heavy check" if heavy else "light checks"
                    run(prom.url, specs, args.rounds, workers, label)
        finally:
            prom.stop()
            exporter.stop()


if __name__ == "__main__":
    main()
