"""Bench: the pods pane on a big cluster. Headless phase: time from starting KubeSource's
list+watch to its first full snapshot (10,000 rows) vs `kubectl get pods -o json`.

    python bench/pods_pane.py [--pods 10000] [--repeat 3]

Prints the median of each and the ratio (goal: warroom / kubectl <= 1.0). The one-off import
of kubernetes.aio is printed apart: the app pays it after its first frame, kubectl never.
A UI phase (key latency with 10k rows) plugs in as another entry of PHASES: a function of
(handle, args) returning {label: seconds}.
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
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from warroom.drill.scenario import load_scenario
from warroom.drill.world import DrillHandle, run_in_thread
from warroom.sources.kube import KubeSource
from warroom.sources.kube_status import PodsSnapshot

BASE_PODS = 11  # pods of crashloop-after-deploy itself
WARROOM = "warroom KubeSource: start -> first full snapshot"
KUBECTL = "kubectl get pods -o json"


def start_world(pods: int) -> tuple[DrillHandle, float]:
    """A quiet drill cluster (no timeline: nothing changes while we measure) of `pods` pods."""
    t0 = time.perf_counter()
    quiet = dataclasses.replace(load_scenario("crashloop-after-deploy"), timeline=(), reactions=())
    h = run_in_thread(quiet, extra_pods=max(0, pods - BASE_PODS))
    return h, time.perf_counter() - t0


async def list_time(
    kubeconfig: str, namespaces: list[str] | None = None, context: str | None = None
) -> tuple[float, PodsSnapshot]:
    """Seconds from creating a KubeSource and starting watch_pods to its first snapshot, and
    that snapshot. A fresh source each time: config, TLS handshake and list are all paid."""
    first: asyncio.Future[PodsSnapshot] = asyncio.get_running_loop().create_future()

    def on_snapshot(s: PodsSnapshot) -> None:
        if not first.done():
            first.set_result(s)

    t0 = time.perf_counter()
    src = KubeSource.from_kubeconfig(kubeconfig, context, namespaces or [])
    task = asyncio.create_task(src.watch_pods(on_snapshot))
    try:
        snap = await asyncio.wait_for(first, 300)
        elapsed = time.perf_counter() - t0
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await src.aclose()
    return elapsed, snap


def kubectl_time(h: DrillHandle, cache: str) -> tuple[float, int]:
    t0 = time.perf_counter()
    cmd = ["kubectl", "--kubeconfig", str(h.kubeconfig_path), "--cache-dir", cache]
    r = subprocess.run(
        [*cmd, "get", "pods", "-o", "json"],
        capture_output=True,
        check=True,
        timeout=600,
    )
    elapsed = time.perf_counter() - t0
    return elapsed, len(json.loads(r.stdout)["items"])


def headless(h: DrillHandle, args: argparse.Namespace) -> dict[str, float]:
    t0 = time.perf_counter()
    import kubernetes.aio.client  # noqa: F401  (the one-off import, timed apart)

    out = {"import kubernetes.aio (once, after the first frame)": time.perf_counter() - t0}
    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as cache:
        kubectl_time(h, cache)  # warm kubectl's discovery cache, as on a workstation
        asyncio.run(list_time(str(h.kubeconfig_path)))  # warm the server's first-list path
        for _ in range(args.repeat):  # interleaved, so both see the same machine load
            secs, n = kubectl_time(h, cache)
            theirs.append(secs)
            secs, snap = asyncio.run(list_time(str(h.kubeconfig_path)))
            assert snap.ok and len(snap.rows_by_uid) == n, (len(snap.rows_by_uid), n)
            ours.append(secs)
    out[WARROOM] = statistics.median(ours)
    out[KUBECTL] = statistics.median(theirs)
    print(f"  {n} pods in each answer; runs: warroom {fmt(ours)}, kubectl {fmt(theirs)}")
    return out


def console(h: DrillHandle, args: argparse.Namespace) -> dict[str, float]:
    """The real console (headless Textual): start to table populated with every pod, then
    `--churn` pod updates/s for `--seconds` while keys are sent the way the terminal driver
    sends them; latency runs from the key to the table's cursor having moved."""
    import resource
    import threading

    from textual import events
    from warroom.widgets.pods_pane import PodsTable

    from warroom.app import WarRoomApp
    from warroom.drill.cli import drill_settings
    from warroom.room import WarRoom
    from warroom.settings import load_settings
    from warroom.store import IncidentRepository

    out: dict[str, float] = {}
    stop = threading.Event()
    updates = [0]

    def churn() -> None:
        names = [p["metadata"]["name"] for p in h.call(lambda: h.cluster.store.objects("pods"))]
        per_batch = max(1, round(args.churn / 10))  # in batches every 0.1 s
        i = 0
        while not stop.is_set():
            batch = [names[(i + k) % len(names)] for k in range(per_batch)]
            i += per_batch

            def bump(batch: list[str] = batch, tick: int = i) -> None:
                for name in batch:
                    obj = h.cluster.store.get("pods", h.namespace, name)
                    if obj is not None:
                        obj = json.loads(json.dumps(obj))
                        obj["metadata"].setdefault("annotations", {})["bench/tick"] = str(tick)
                        h.cluster.store.put("pods", obj)

            t = time.perf_counter()
            h.call(bump)
            updates[0] += len(batch)
            time.sleep(max(0.0, 0.1 - (time.perf_counter() - t)))

    async def run(s, repo, room) -> None:
        app = WarRoomApp(s, repo=repo, room=room, follow=False)
        t0 = time.perf_counter()
        async with app.run_test(size=(160, 50)):
            table = app.main.query_one(PodsTable)
            while table.row_count < args.pods:  # plain sleeps: no Pilot waits in a bench
                await asyncio.sleep(0.02)
            out["console: start -> table populated"] = time.perf_counter() - t0
            table.focus()
            await asyncio.sleep(0.3)
            thread = threading.Thread(target=churn, daemon=True)
            thread.start()
            keys: list[float] = []
            end = time.perf_counter() + args.seconds
            i = 0
            while time.perf_counter() < end:
                before = table.cursor_row
                event = events.Key("up" if i % 4 == 3 else "down", None)
                event.set_sender(app)
                t = time.perf_counter()
                app._driver.send_message(event)
                while table.cursor_row == before and time.perf_counter() - t < 5:
                    await asyncio.sleep(0.0005)
                keys.append(time.perf_counter() - t)
                await asyncio.sleep(0.05)
                i += 1
            stop.set()
            thread.join(5)
        keys.sort()
        out["console: key -> cursor moved, p50"] = keys[len(keys) // 2]
        out["console: key -> cursor moved, p99"] = keys[int(len(keys) * 0.99)]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"  {len(keys)} keys during {updates[0] / args.seconds:.0f} pod updates/s for "
            f"{args.seconds:.0f} s; peak RSS {rss:.0f} MB (bench process, world included)"
        )

    with tempfile.TemporaryDirectory() as tmp:
        s = drill_settings(load_settings(env={"USER": "bench"}, data_dir=Path(tmp)), h)
        s = dataclasses.replace(
            s,
            prometheus=dataclasses.replace(s.prometheus, url=None),
            alertmanager=dataclasses.replace(s.alertmanager, url=None),
        )
        repo = IncidentRepository(Path(tmp))
        room = WarRoom.declare(repo, s, title="bench", severity="P1")
        asyncio.run(run(s, repo, room))
    return out


def fmt(xs: list[float]) -> str:
    return " ".join(f"{x:.3f}" for x in xs)


Phase = Callable[[DrillHandle, argparse.Namespace], dict[str, float]]
PHASES: list[tuple[str, Phase]] = [("headless", headless), ("console", console)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--pods", type=int, default=10_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--churn", type=float, default=100.0, help="pod updates per second")
    p.add_argument("--seconds", type=float, default=30.0, help="churn duration")
    args = p.parse_args(argv)
    if not shutil.which("kubectl"):
        print("kubectl not found", file=sys.stderr)
        return 1
    h, startup = start_world(args.pods)
    print(f"drill world with {args.pods} pods started in {startup:.2f} s")
    results: dict[str, float] = {}
    try:
        for name, phase in PHASES:
            print(f"{name} (median of {args.repeat}):")
            results.update(phase(h, args))
    finally:
        h.stop()
    for label, secs in results.items():
        print(f"  {label:<52} {secs:7.3f} s")
    if WARROOM in results and KUBECTL in results:
        ratio = results[WARROOM] / results[KUBECTL]
        print(f"  ratio warroom / kubectl: {ratio:.2f} (goal <= 1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
