"""`warroom drill`: a simulated incident on a loopback cluster, through the normal console.

The drill world (Kubernetes API, Prometheus, Alertmanager) starts on random 127.0.0.1 ports in
a background thread; the console then runs exactly as in production, configured to talk to it.
The incident is marked as a drill everywhere, including its exports.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import timedelta
from typing import Any

from warroom.settings import AlertmanagerSettings, KubeSettings, PrometheusSettings, Settings


def drill_settings(settings: Settings, world: Any) -> Settings:
    """The user's settings, pointed at the drill world instead of their real sources."""
    scenario = world.scenario
    checks = [
        {
            "name": c.name,
            "query": c.expr,
            "warn": c.warn,
            "crit": c.crit,
            "direction": c.direction,
            "unit": c.unit,
        }
        for c in scenario.checks
    ]
    raw = dict(settings.raw)
    raw["health"] = {"checks": checks, "rules": []}
    fast = timedelta(seconds=max(1.0, 5.0 / max(world.speed, 1.0)))
    return dataclasses.replace(
        settings,
        prometheus=PrometheusSettings(url=world.prom_url, refresh=fast, timeout=5.0),
        alertmanager=AlertmanagerSettings(url=world.alertmanager_url, refresh=fast),
        kube=KubeSettings(
            enabled=True,
            kubeconfig=str(world.kubeconfig_path),
            namespaces=(scenario.namespace,),
            log_lines=settings.kube.log_lines,
        ),
        raw=raw,
    )


def run_drill(args: argparse.Namespace, settings: Settings, started: float) -> int:
    from warroom.drill.scenario import ScenarioError, list_scenarios

    if args.list:
        for name, title, description in list_scenarios():
            print(f"{name:28} {title}")
            if description:
                print(f"{'':28} {description.strip().splitlines()[0]}")
        return 0
    from warroom.cli import CliError

    names = [n for n, _, _ in list_scenarios()]
    scenario = args.scenario or (names[0] if names else None)
    if scenario is None:
        raise CliError("no drill scenarios are installed")
    if args.speed <= 0:
        raise CliError("--speed must be positive", 2)

    from warroom.app import WarRoomApp, _setup_logging
    from warroom.drill.world import run_in_thread
    from warroom.room import WarRoom
    from warroom.store import IncidentRepository

    try:
        # Wall-clock timestamps: ages and alert times read true while scenario time runs fast.
        world = run_in_thread(scenario, speed=args.speed, wall_timestamps=True)
    except ScenarioError as exc:
        raise CliError(str(exc), 2) from None
    except FileNotFoundError:
        raise CliError(
            f"unknown scenario {scenario!r}; `warroom drill --list` shows them", 2
        ) from None
    try:
        dsettings = drill_settings(settings, world)
        _setup_logging(dsettings)
        repo = IncidentRepository(dsettings.data_dir)
        room = WarRoom.declare(
            repo,
            dsettings,
            title=f"Drill: {world.scenario.title}",
            severity="P3",
            category="application",
            drill=True,
            scenario=world.scenario.name,
        )
        app = WarRoomApp(dsettings, repo=repo, room=room, started=started)
        code = app.run()
        incident_id = app.room.incident_id if app.room else room.incident_id
        if app.room is not None:
            app.room.store.close()
    finally:
        world.stop()
    print(
        f"Drill {incident_id} saved. Post-mortem: warroom export {incident_id}",
        file=sys.stderr,
    )
    return code or 0
