"""Bench: the pods pane on a big cluster.

    python bench/pods_pane.py [--pods 10000] [--repeat 3] [--churn 100] [--seconds 30]
                              [--phase headless|console] [--world process|thread]

headless: time from starting KubeSource's list+watch to its first full snapshot (10,000 rows)
vs `kubectl get pods -o json`; prints the median of each and the ratio (goal, issue #22:
warroom / kubectl <= 0.5). The one-off import of kubernetes.aio is printed apart: the app pays it
after its first frame, kubectl never.

console: the real WarRoomApp (headless Textual) against the drill world: start to table
populated, then --churn pod updates/s for --seconds (each a restart, every tenth also a
readiness flip) while cursor keys go in the way the terminal driver sends them. Prints
key -> frame latency p50/p99/max (goal p99 < 50 ms), the UI thread's time per snapshot and
per screen update, full garbage collections, and peak RSS (goal <= 200 MB with a timeline of
--events 10,000 events), and, when both phases ran, start -> populated over the headless
snapshot (goal <= 1.5x). The world runs in a child
process by default (an API server is another process; in ours its objects and threads
would share the app's GIL and collector); --world thread keeps it in this one.

Each phase is an entry of PHASES: a function of (handle, args) returning {label: seconds}.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.stalls import GcPauses, StallSampler
from warroom.drill.scenario import Scenario, load_scenario
from warroom.drill.world import DrillHandle, run_in_thread
from warroom.pods import PodsSnapshot
from warroom.sources.kube import KubeSource

BASE_PODS = 11  # pods of crashloop-after-deploy itself
WARROOM = "warroom KubeSource: start -> first full snapshot"
KUBECTL = "kubectl get pods -o json"


def quiet_scenario() -> Scenario:
    """crashloop-after-deploy without its timeline: nothing changes unless we change it."""
    return dataclasses.replace(load_scenario("crashloop-after-deploy"), timeline=(), reactions=())


def start_world(pods: int) -> tuple[DrillHandle, float]:
    """A quiet drill cluster of `pods` pods."""
    t0 = time.perf_counter()
    h = run_in_thread(quiet_scenario(), extra_pods=max(0, pods - BASE_PODS), start_timeout=1800)
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


def headless(h: DrillHandle | None, args: argparse.Namespace) -> dict[str, float]:
    assert h is not None
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


def churned(obj: dict, tick: int, flip: bool) -> dict:
    """A copy of a pod that restarted once more (RESTARTS changes) and, with flip, whose
    readiness flipped (it moves between the healthy and the unhealthy rows)."""
    obj = json.loads(json.dumps(obj))
    obj["metadata"].setdefault("annotations", {})["bench/tick"] = str(tick)
    st = obj.setdefault("status", {})
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for cs in st.get("containerStatuses") or []:
        cs["restartCount"] = int(cs.get("restartCount") or 0) + 1
        cs["lastState"] = {"terminated": {"reason": "Error", "exitCode": 1, "finishedAt": now}}
        if flip:
            cs["ready"] = not cs.get("ready")
    if flip:
        ready = all(cs.get("ready") for cs in st.get("containerStatuses") or [])
        for c in st.get("conditions") or []:
            if c.get("type") in ("Ready", "ContainersReady"):
                c["status"] = "True" if ready else "False"
    return obj


def churn_loop(h: DrillHandle, rate: float, stop: threading.Event, updates: list[int]) -> None:
    """`rate` pod updates/s (in batches every 0.1 s) through the drill cluster's store, as
    its controllers would make them, until `stop`."""
    names = [p["metadata"]["name"] for p in h.call(lambda: h.cluster.store.objects("pods"))]
    per_batch = max(1, round(rate / 10))
    i = 0
    while not stop.is_set():
        batch = [names[(i + k) % len(names)] for k in range(per_batch)]
        i += per_batch

        def bump(batch: list[str] = batch, tick: int = i) -> None:
            for k, name in enumerate(batch):
                obj = h.cluster.store.get("pods", h.namespace, name)
                if obj is not None:
                    h.cluster.store.put("pods", churned(obj, tick, flip=k % 10 == 0))

        t = time.perf_counter()
        h.call(bump)
        updates[0] += len(batch)
        time.sleep(max(0.0, 0.1 - (time.perf_counter() - t)))


class Churn:
    """Churn of an in-process world (--world thread)."""

    def __init__(self, h: DrillHandle) -> None:
        self.h, self.stop_event, self.updates = h, threading.Event(), [0]
        self.kubeconfig_path = h.kubeconfig_path
        self.thread: threading.Thread | None = None

    def start(self, rate: float) -> None:
        args = (self.h, rate, self.stop_event, self.updates)
        self.thread = threading.Thread(target=churn_loop, args=args, daemon=True)
        self.thread.start()

    def stop(self) -> int:
        self.stop_event.set()
        if self.thread:
            self.thread.join(5)
        return self.updates[0]

    def close(self) -> None:
        pass


class RemoteWorld(Churn):
    """A drill world (run_in_thread) in a child process, churned there (--world process):
    a real API server is another process, and in ours the world's 10k pod objects and its
    server threads would share the app's GIL and garbage collector."""

    def __init__(self, pods: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_world_main, args=(pods, child), daemon=True)
        self.proc.start()
        path, self.startup = self.conn.recv()
        self.kubeconfig_path = Path(path)

    def start(self, rate: float) -> None:
        self.conn.send(("churn", rate))

    def stop(self) -> int:
        self.conn.send(("stop", 0))
        return int(self.conn.recv())

    def close(self) -> None:
        self.conn.send(("exit", 0))
        self.proc.join(15)


def _world_main(pods: int, conn: Any) -> None:
    h, secs = start_world(pods)
    conn.send((str(h.kubeconfig_path), secs))
    churn: Churn | None = None
    while True:
        cmd, rate = conn.recv()
        if cmd == "churn":
            churn = Churn(h)
            churn.start(rate)
        elif cmd == "stop":
            conn.send(churn.stop() if churn else 0)
        else:
            h.stop()
            return


def peak_rss_mb(reset: bool = False) -> float:
    """This process's peak RSS since the last reset (VmHWM): the console phase's own, not the
    headless phase's before it in the same process (its world ran in a thread here)."""
    if reset:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: resets VmHWM to the current RSS
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def console(h: DrillHandle | None, args: argparse.Namespace) -> dict[str, float]:
    """The real console (headless Textual): start to table populated with every pod, then
    `--churn` pod updates/s for `--seconds` (each a restart, every tenth also a readiness
    flip) while cursor keys are sent the way the terminal driver sends them. Latency runs
    from the key to the first frame rendered with the cursor moved (the compositor renders
    headless too; only the write to a terminal is skipped)."""
    import gc

    from warroom.console.app import WarRoomApp
    from warroom.widgets.pods_pane import PodsTable

    out: dict[str, float] = {}
    if os.environ.get("BENCH_COUNT_RENDERS"):  # which widgets each screen update draws
        from collections import Counter

        from textual._styles_cache import StylesCache

        drawn: Counter[str] = Counter()
        render_widget = StylesCache.render_widget

        def counted(self, widget, crop):  # type: ignore[no-untyped-def]
            drawn[f"{type(widget).__name__}#{widget.id}"] += 1
            return render_widget(self, widget, crop)

        StylesCache.render_widget = counted  # type: ignore[method-assign]
        import atexit

        atexit.register(lambda: print("  widgets drawn:", drawn.most_common(12)))
    if args.world == "process":
        world: Churn = RemoteWorld(args.pods)
        print(f"  drill world with {args.pods} pods in a child process: {world.startup:.2f} s")
    else:
        assert h is not None
        world = Churn(h)

    async def run(s, repo, room) -> None:
        app = WarRoomApp(s, repo=repo, room=room, follow=False)
        applies: list[float] = []  # UI-thread seconds per pods snapshot applied
        apply_pods = app.pods.apply
        churning = [False]

        def timed_apply(snap) -> None:
            t = time.perf_counter()
            apply_pods(snap)
            if churning[0]:  # under churn, not the first list
                applies.append(time.perf_counter() - t)

        app.pods.apply = timed_apply  # type: ignore[method-assign]
        prof = None
        if args.profile:  # the UI thread only: cProfile follows the thread that enabled it
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        t0 = time.perf_counter()
        async with app.run_test(size=(160, 50)):
            table = app.main.query_one(PodsTable)
            frame = [0.0, -1]  # time and cursor row of the last frame rendered
            display = app._display

            def displayed(screen, renderable) -> None:
                frame[:] = [time.perf_counter(), table.cursor_row]
                display(screen, renderable)

            app._display = displayed  # type: ignore[method-assign]
            renders: list[float] = []  # UI-thread seconds per screen update (layout + render)
            screen = app.screen
            update = screen._on_timer_update

            def timed_update() -> None:
                t = time.perf_counter()
                update()
                renders.append(time.perf_counter() - t)

            screen._update_timer._callback = timed_update  # the timer holds the bound method
            while table.row_count < args.pods:  # plain sleeps: no Pilot waits in a bench
                if time.perf_counter() - t0 > args.populate_timeout:
                    print(f"  table not populated after {args.populate_timeout:.0f} s")
                    break
                await asyncio.sleep(0.02)
            out["console: start -> table populated"] = time.perf_counter() - t0
            if prof is not None:
                prof.disable()
                prof.dump_stats(f"{args.profile}.populate.prof")
                prof.clear()
            table.focus()
            await asyncio.sleep(0.3)
            world.start(args.churn)
            churning[0] = True
            if prof is not None:
                prof.enable()
            keys: list[float] = []
            gcs = GcPauses().__enter__()
            sampler = StallSampler(asyncio.get_running_loop()).__enter__()
            end = time.perf_counter() + args.seconds
            i = 0
            while time.perf_counter() < end:
                keys.append(await key_to_frame(app, table, frame, "up" if i % 4 == 3 else "down"))
                await asyncio.sleep(0.05)
                i += 1
            updates = world.stop()
            sampler.__exit__()
            if args.stalls:
                print(sampler.report())
            gcs.__exit__()
            if prof is not None:
                prof.disable()
                prof.dump_stats(f"{args.profile}.churn.prof")
                print(f"  UI thread profiles: {args.profile}.populate.prof, .churn.prof")
        full = gcs.full()
        if full:
            print(f"  {len(full)} full GCs in the app process, longest {full[-1] * 1000:.0f} ms")
        keys.sort()
        print(f"  screen updates, UI thread each: {spread(renders)}")
        print(f"  snapshots applied under churn, UI thread each: {spread(applies)}")
        print(f"  slowest keys (ms): {' '.join(f'{k * 1000:.0f}' for k in keys[-8:])}")
        out["console: key -> frame, p50"] = keys[len(keys) // 2]
        out["console: key -> frame, p99 (goal < 0.050)"] = keys[int(len(keys) * 0.99)]
        out["console: key -> frame, max"] = keys[-1]
        rss = peak_rss_mb()
        print(
            f"  {len(keys)} keys during {updates / args.seconds:.0f} pod updates/s for "
            f"{args.seconds:.0f} s; peak RSS {rss:.0f} MB ({where}; {args.events} timeline "
            f"events; goal <= {args.rss_goal} MB: {'met' if rss <= args.rss_goal else 'NOT met'})"
        )
        out["console: peak RSS, MB (not seconds)"] = rss

    where = "the app's process" if args.world == "process" else "bench process, world included"
    gc.collect()
    peak_rss_mb(reset=True)

    try:
        with tempfile.TemporaryDirectory() as tmp:
            s, repo, room = bench_room(Path(tmp), quiet_scenario(), world.kubeconfig_path)
            for i in range(args.events):  # a long incident's timeline beside the pods
                room.add_note(f"note {i}: checkout-api still crash-looping")
            room.refresh()
            asyncio.run(run(s, repo, room))
    finally:
        world.close()
    return out


async def key_to_frame(
    app: Any, table: Any, frame: list[Any], key: str, mark: Callable[[], Any] | None = None
) -> float:
    """Seconds from `key`, sent the way the terminal driver sends it, to the first frame
    rendered with the table's cursor moved (`frame`: time and `mark()` of the last frame,
    kept by a hook on app._display; `mark` is the cursor row unless given); 5 s at most."""
    from textual import events

    before = mark() if mark is not None else table.cursor_row
    event = events.Key(key, None)
    event.set_sender(app)
    t = time.perf_counter()
    app._driver.send_message(event)
    while time.perf_counter() - t < 5:
        if frame[0] >= t and frame[1] != before:
            break
        await asyncio.sleep(0.0005)
    return (frame[0] if frame[0] >= t else time.perf_counter()) - t


def bench_room(tmp: Path, scenario: Scenario, kubeconfig: Path) -> tuple[Any, Any, Any]:
    """Drill settings for a world of `scenario` at `kubeconfig` (no Prometheus, no
    Alertmanager), a TinyDB repository in `tmp` and a P1 incident: (settings, repo, room)."""
    from types import SimpleNamespace

    from warroom.cli.drill import drill_settings
    from warroom.room import WarRoom
    from warroom.settings import load_settings
    from warroom.store.tinydb import TinyDBRepository

    # What drill_settings reads of a world.
    target = SimpleNamespace(
        scenario=scenario,
        speed=1.0,
        prom_url=None,
        alertmanager_url=None,
        kubeconfig_path=kubeconfig,
    )
    s = drill_settings(load_settings(env={"USER": "bench"}, data_dir=tmp), target)
    s = dataclasses.replace(
        s,
        prometheus=dataclasses.replace(s.prometheus, url=None),
        alertmanager=dataclasses.replace(s.alertmanager, url=None),
    )
    repo = TinyDBRepository(tmp)
    return s, repo, WarRoom.declare(repo, s, title="bench", severity="P1")


def spread(xs: list[float]) -> str:
    if not xs:
        return "none"
    xs = sorted(xs)
    p50, p99 = xs[len(xs) // 2], xs[int(len(xs) * 0.99)]
    ms = [x * 1000 for x in (p50, p99, xs[-1])]
    return f"{len(xs)}, p50 {ms[0]:.1f} ms, p99 {ms[1]:.1f} ms, max {ms[2]:.1f} ms"


def fmt(xs: list[float]) -> str:
    return " ".join(f"{x:.3f}" for x in xs)


Phase = Callable[[DrillHandle | None, argparse.Namespace], dict[str, float]]
PHASES: list[tuple[str, Phase]] = [("headless", headless), ("console", console)]


def add_load_args(p: argparse.ArgumentParser, *, seconds: float) -> None:
    """The cluster's size and churn, and how long to wait for the table."""
    p.add_argument("--pods", type=int, default=10_000)
    p.add_argument("--churn", type=float, default=100.0, help="pod updates per second")
    p.add_argument("--seconds", type=float, default=seconds, help="churn duration")
    p.add_argument("--populate-timeout", type=float, default=300.0, help="to populate, s")


def main(argv: list[str] | None = None, **defaults: Any) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_load_args(p, seconds=30.0)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--events", type=int, default=10_000, help="timeline events beside the pods")
    p.add_argument("--rss-goal", type=float, default=200.0, help="peak RSS goal, MB")
    p.add_argument("--populate-goal", type=float, default=0.0, help="table populated within, s")
    p.add_argument("--populate-ratio-goal", type=float, default=1.5, help="vs headless")
    p.add_argument("--stalls", action="store_true", help="console phase: where the UI stalls")
    p.add_argument("--profile", metavar="PREFIX", help="console phase: cProfile the UI thread")
    p.add_argument("--phase", action="append", choices=[n for n, _ in PHASES], help="only these")
    p.add_argument(
        "--world",
        choices=("process", "thread"),
        default="process",
        help="console phase: the drill world in a child process (default) or in this one",
    )
    p.set_defaults(**defaults)
    args = p.parse_args(argv)
    if not shutil.which("kubectl"):
        print("kubectl not found", file=sys.stderr)
        return 1
    phases = [(n, f) for n, f in PHASES if not args.phase or n in args.phase]
    h: DrillHandle | None = None
    if any(n == "headless" for n, _ in phases) or args.world == "thread":
        h, startup = start_world(args.pods)
        print(f"drill world with {args.pods} pods started in {startup:.2f} s")
    results: dict[str, float] = {}
    try:
        for name, phase in phases:
            print(f"{name} (median of {args.repeat}):" if name == "headless" else f"{name}:")
            results.update(phase(h, args))
    finally:
        if h is not None:
            h.stop()
    for label, secs in results.items():
        print(f"  {label:<52} {secs:7.3f}" + ("" if "MB" in label else " s"))
    print(f"  load average: {os.getloadavg()[0]:.2f}")
    verdict = {True: "met", False: "NOT met"}
    if WARROOM in results and KUBECTL in results:
        ratio = results[WARROOM] / results[KUBECTL]
        print(f"  ratio warroom / kubectl: {ratio:.2f} (goal <= 0.5: {verdict[ratio <= 0.5]})")
    populated = results.get("console: start -> table populated")
    if populated is not None and WARROOM in results:
        ratio = populated / results[WARROOM]
        goal = f"goal <= {args.populate_ratio_goal}x"
        print(
            f"  ratio console populated / headless snapshot: {ratio:.2f} "
            f"({goal}: {verdict[ratio <= args.populate_ratio_goal]})"
        )
    if populated is not None and args.populate_goal:
        ok = verdict[populated <= args.populate_goal]
        print(f"  table populated in {populated:.1f} s (goal <= {args.populate_goal:g} s: {ok})")
    p99 = results.get("console: key -> frame, p99 (goal < 0.050)")
    if p99 is not None:
        print(f"  key -> frame p99 {p99 * 1000:.0f} ms (goal < 50 ms: {verdict[p99 < 0.05]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
