"""Run the drill servers alone: `python -m warroom.drill.serve --scenario NAME [--speed N]`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from warroom.drill.prom_real import RealServersUnavailable
from warroom.drill.scenario import ScenarioError, list_scenarios
from warroom.drill.world import DrillWorld


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m warroom.drill.serve",
        description="Serve a drill world (Kubernetes API, Prometheus, Alertmanager) on 127.0.0.1.",
    )
    p.add_argument("--scenario", default="crashloop-after-deploy", help="name or YAML path")
    p.add_argument("--speed", type=float, default=1.0, help="scenario seconds per wall second")
    p.add_argument("--token", help="admin bearer token (default: random)")
    p.add_argument("--read-only-token", help="bearer token of a read-only user")
    p.add_argument("--kubeconfig", type=Path, help="where to write the kubeconfig")
    p.add_argument(
        "--wall-timestamps",
        action="store_true",
        help="timestamps follow the wall clock (not start + elapsed * speed)",
    )
    p.add_argument(
        "--prometheus",
        choices=("builtin", "real"),
        default="builtin",
        help="real: the installed Prometheus and Alertmanager scrape the drill (real PromQL)",
    )
    p.add_argument("--extra-pods", type=int, default=0, help="inflate the cluster by N pods")
    p.add_argument("--list", action="store_true", help="list scenarios and exit")
    args = p.parse_args(argv)
    if args.speed <= 0:
        p.error("--speed must be > 0")
    return args


async def serve(args: argparse.Namespace) -> None:
    world = DrillWorld(
        args.scenario,
        speed=args.speed,
        token=args.token,
        read_only_token=args.read_only_token,
        kubeconfig_path=args.kubeconfig,
        extra_pods=args.extra_pods,
        wall_timestamps=args.wall_timestamps,
        prometheus=args.prometheus,
    )
    await world.start()
    done = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, done.set)
    sc = world.scenario
    print(f"scenario:     {sc.name} ({sc.title}), speed x{world.speed:g}")
    print(f"kubernetes:   {world.kube_url}  (namespace {world.namespace})")
    print(f"prometheus:   {world.prom_url}")
    if world.real_prometheus_url:
        print(f"  (the real Prometheus behind it: {world.real_prometheus_url})")
    print(f"alertmanager: {world.alertmanager_url}")
    print(f"kubeconfig:   {world.kubeconfig_path}")
    print(f"  export KUBECONFIG={world.kubeconfig_path}")
    print("Ctrl-C to stop.", flush=True)
    try:
        await done.wait()
    finally:
        await world.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.list:
            for name, title, _ in list_scenarios():
                print(f"{name}\t{title}")
            return 0
        asyncio.run(serve(args))
    except (ScenarioError, RealServersUnavailable) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
