"""Bench: list 10,000 pods from the drill API server, kubectl vs kubernetes.aio raw JSON.

    python bench/kube_list.py [--pods 10000] [--repeat 3]

Prints the world's start-up time, then the median wall time of each way of listing and the
ratios; then kubectl against a static server replaying the drill server's recorded answers
(bench/replay.py). Goal (issue #22): the drill server within 2x the static server.
kubectl pages with limit=500 by default (as `kubectl get` does); --chunk-size=0 is one request.
The aio numbers parse JSON ourselves (`*_without_preload_content`), as warroom does.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.replay import Replay
from warroom.drill.scenario import load_scenario
from warroom.drill.world import DrillHandle, run_in_thread

BASE_PODS = 11  # pods of crashloop-after-deploy itself
CHUNKED = "kubectl get pods -o json (chunks of 500)"
WHOLE = "kubectl get pods -o json --chunk-size=0"
RAW = "aio raw JSON (one request)"
TYPED = "aio typed models (pydantic)"


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


def kubectl_json(kubeconfig: Path, cache: str, *extra: str) -> int:
    r = subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            str(kubeconfig),
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


async def aio_numbers(
    kubeconfig: Path, repeat: int, typed_too: bool = True
) -> dict[str, tuple[float, object]]:
    from kubernetes.aio import client, config

    cfg = client.Configuration()
    await config.load_kube_config(config_file=str(kubeconfig), client_configuration=cfg)
    async with client.ApiClient(configuration=cfg) as api:
        core = client.CoreV1Api(api)
        await core.list_namespaced_pod("shop", limit=1)  # warm the connection pool

        async def raw() -> int:
            resp = await core.list_namespaced_pod_without_preload_content("shop")
            return len(json.loads(await resp.read())["items"])

        async def typed() -> int:
            return len((await core.list_namespaced_pod("shop")).items)

        out = {RAW: await amedian_time(raw, repeat)}
        if typed_too:
            out[TYPED] = await amedian_time(typed, max(1, repeat // 2))
        return out


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
            drill = h.kubeconfig_path
            kubectl_json(drill, cache)  # discovery cache warm-up
            rows: dict[str, tuple[float, object]] = {}
            rows[CHUNKED] = median_time(lambda: kubectl_json(drill, cache), args.repeat)
            rows[WHOLE] = median_time(
                lambda: kubectl_json(drill, cache, "--chunk-size=0"), args.repeat
            )
            rows.update(asyncio.run(aio_numbers(drill, args.repeat)))
            static = static_numbers(h, Path(cache), args.repeat)
    finally:
        h.stop()
    print(f"drill world with {args.pods} pods started in {startup:.2f} s")
    print(f"median of {args.repeat} runs:")
    for name, (secs, n) in rows.items():
        print(f"  {name:<42} {secs:7.3f} s  ({n} pods)")
    base = rows[RAW][0]
    for name in (CHUNKED, WHOLE, TYPED):
        print(f"  ratio {name} / aio raw JSON: {rows[name][0] / base:5.1f}x")
    misses = static.pop("misses")
    print(f"the same answers from a static server (bench/replay.py; {misses} not replayed):")
    for name, (secs, _) in static.items():
        ratio = rows[name][0] / secs
        verdict = "met" if ratio <= 2.0 else "NOT met"
        print(f"  {name:<42} {secs:7.3f} s  drill/static {ratio:4.2f}x (goal <= 2x: {verdict})")
    print(f"load average: {os.getloadavg()[0]:.2f}")
    return 0


def static_numbers(h: DrillHandle, tmp: Path, repeat: int) -> dict[str, Any]:
    """kubectl and the raw aio list against the replay of the drill server's answers, each
    warmed once (recorded)."""
    replay = Replay(h, tmp / "replay-kubeconfig")
    try:
        out: dict[str, Any] = {}
        for name, extra in ((CHUNKED, ()), (WHOLE, ("--chunk-size=0",))):
            with tempfile.TemporaryDirectory() as cache:
                kubectl_json(replay.kubeconfig, cache, *extra)  # records every answer
                before = replay.misses
                out[name] = median_time(
                    lambda cache=cache, extra=extra: kubectl_json(replay.kubeconfig, cache, *extra),
                    repeat,
                )
                out["misses"] = out.get("misses", 0) + replay.misses - before
        asyncio.run(aio_numbers(replay.kubeconfig, 1, typed_too=False))  # records the answers
        before = replay.misses
        out.update(asyncio.run(aio_numbers(replay.kubeconfig, repeat, typed_too=False)))
        out["misses"] += replay.misses - before
        return out
    finally:
        replay.stop()


if __name__ == "__main__":
    sys.exit(main())
