"""Bench: list 10,000 pods from the drill API server, kubectl vs kubernetes.aio raw JSON.

    python bench/kube_list.py [--pods 10000] [--repeat 3]

Prints the world's start-up time, then the median wall time of each way of listing and the
ratios. kubectl pages with limit=500 by default (as `kubectl get` does); --chunk-size=0 is one
request. The aio numbers parse JSON ourselves (`*_without_preload_content`), as warroom does.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from warroom.drill.scenario import load_scenario
from warroom.drill.world import DrillHandle, run_in_thread

BASE_PODS = 11  # pods of crashloop-after-deploy itself


def median_time(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


async def amedian_time(fn: Callable[[], Awaitable[object]], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = await fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def kubectl_json(h: DrillHandle, cache: str, *extra: str) -> int:
    r = subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            str(h.kubeconfig_path),
            "--cache-dir",
            cache,
            "get",
            "pods",
            "-o",
            "json",
            *extra,
        ],
        capture_output=True,
        check=True,
        timeout=600,
    )
    return len(json.loads(r.stdout)["items"])


async def aio_numbers(h: DrillHandle, repeat: int) -> dict[str, tuple[float, object]]:
    from kubernetes.aio import client, config

    cfg = client.Configuration()
    await config.load_kube_config(config_file=str(h.kubeconfig_path), client_configuration=cfg)
    async with client.ApiClient(configuration=cfg) as api:
        core = client.CoreV1Api(api)
        await core.list_namespaced_pod("shop", limit=1)  # warm the connection pool

        async def raw() -> int:
            resp = await core.list_namespaced_pod_without_preload_content("shop")
            return len(json.loads(await resp.read())["items"])

        async def typed() -> int:
            return len((await core.list_namespaced_pod("shop")).items)

        return {
            "aio raw JSON (one request)": await amedian_time(raw, repeat),
            "aio typed models (pydantic)": await amedian_time(typed, max(1, repeat // 2)),
        }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    if not shutil.which("kubectl"):
        print("kubectl not found", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    # Without its timeline, so nothing changes while we list.
    quiet = dataclasses.replace(load_scenario("crashloop-after-deploy"), timeline=(), reactions=())
    h = run_in_thread(quiet, extra_pods=max(0, args.pods - BASE_PODS))
    startup = time.perf_counter() - t0
    try:
        with tempfile.TemporaryDirectory() as cache:
            kubectl_json(h, cache)  # discovery cache warm-up
            rows: dict[str, tuple[float, object]] = {}
            rows["kubectl get pods -o json (chunks of 500)"] = median_time(
                lambda: kubectl_json(h, cache), args.repeat
            )
            rows["kubectl get pods -o json --chunk-size=0"] = median_time(
                lambda: kubectl_json(h, cache, "--chunk-size=0"), args.repeat
            )
            rows.update(asyncio.run(aio_numbers(h, args.repeat)))
    finally:
        h.stop()
    print(f"drill world with {args.pods} pods started in {startup:.2f} s")
    print(f"median of {args.repeat} runs:")
    for name, (secs, n) in rows.items():
        print(f"  {name:<42} {secs:7.3f} s  ({n} pods)")
    base = rows["aio raw JSON (one request)"][0]
    for name in (
        "kubectl get pods -o json (chunks of 500)",
        "kubectl get pods -o json --chunk-size=0",
        "aio typed models (pydantic)",
    ):
        print(f"  ratio {name} / aio raw JSON: {rows[name][0] / base:5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
