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
from pathlib import Path
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
        # Titles only: a description names the fix, which would spoil the drill; the drill
        # report shows it afterwards.
        for name, title, _ in list_scenarios():
            print(f"{name:28} {title}")
        return 0
    from warroom.cli import CliError

    if getattr(args, "report", None):
        return report_command(settings, args.report)
    script = None
    if getattr(args, "script", None):
        from warroom.drill.script import ScriptError, load_script

        try:
            script = load_script(args.script)
        except ScriptError as exc:
            raise CliError(str(exc), 2) from None
    names = [n for n, _, _ in list_scenarios()]
    scenario = (
        args.scenario or (script.scenario if script else None) or (names[0] if names else None)
    )
    if scenario is None:
        raise CliError("no drill scenarios are installed")
    speed = args.speed if args.speed is not None else (script.speed if script else None) or 1.0
    if speed <= 0:
        raise CliError("--speed must be positive", 2)

    from warroom.app import _setup_logging
    from warroom.app_drill import DrillApp
    from warroom.drill.recorder import DrillRecorder
    from warroom.drill.world import run_in_thread
    from warroom.store import IncidentRepository

    try:
        # Wall-clock timestamps: ages and alert times read true while scenario time runs fast.
        world = run_in_thread(scenario, speed=speed, wall_timestamps=True)
    except ScenarioError as exc:
        raise CliError(str(exc), 2) from None
    except FileNotFoundError:
        raise CliError(
            f"unknown scenario {scenario!r}; `warroom drill --list` shows them", 2
        ) from None
    played = None
    try:
        dsettings = drill_settings(settings, world)
        _setup_logging(dsettings)
        repo = IncidentRepository(dsettings.data_dir)
        room = declare_drill(repo, dsettings, world)
        app = DrillApp(dsettings, repo=repo, room=room, started=started, world=world)
        recorder = DrillRecorder(room, world, on_recorded=app.drill_recorded)
        recorder.start()
        if script is None:
            code = app.run()
        else:
            code, played = _run_script(app, script, world)
        recorder.finish()
        incident_id = room.incident_id
        path = write_drill_report(dsettings, room.store.events(), world.scenario)
        room.store.close()
    finally:
        world.stop()
    if played is not None:
        from warroom.sanitize import one_line

        for line in played.lines:  # step texts quote pod names and kubectl output: keep inert
            print(one_line(line))
    print(f"Drill {incident_id} saved. Drill report: {path}", file=sys.stderr)
    print(f"Post-mortem: warroom export {incident_id}", file=sys.stderr)
    return code or 0


def declare_drill(repo: Any, settings: Settings, world: Any) -> Any:
    """The drill's incident: declared low (P3) on purpose; judging severity is the exercise."""
    from warroom.room import WarRoom

    return WarRoom.declare(
        repo,
        settings,
        title=f"Drill: {world.scenario.title}",
        severity="P3",
        category="application",
        drill=True,
        scenario=world.scenario.name,
    )


def _run_script(app: Any, script: Any, world: Any) -> tuple[int, Any]:
    from warroom.app_drill import play_script

    result: list[Any] = []

    async def autopilot(pilot: Any) -> None:
        result.append(await play_script(app, pilot, script, world.world.clock.elapsed))

    code = app.run(headless=True, auto_pilot=autopilot)
    played = result[0] if result else None
    if played is not None and played.failed:
        code = 1
    return code or 0, played


def write_drill_report(settings: Settings, events: list[Any], scenario: Any) -> Path:
    from warroom.drill.report import report_path, score_drill, to_markdown, write_report

    result = score_drill(events, scenario, settings.policy)
    text = to_markdown(events, scenario, result)
    return write_report(report_path(settings.data_dir, result.incident_id), text)


def report_command(settings: Settings, incident_id: str) -> int:
    """`warroom drill --report ID`: score a finished (or running) drill from its timeline."""
    from warroom.cli import CliError, open_store
    from warroom.drill.scenario import ScenarioError, load_scenario
    from warroom.projection import project

    store = open_store(settings, incident_id, read_only=True)
    try:
        events = store.events()
    finally:
        store.close()
    state = project(events)
    if not state.drill or not state.scenario:
        raise CliError(f"{incident_id} is not a drill (no scenario on its declaration)")
    try:
        scenario = load_scenario(state.scenario)
    except ScenarioError as exc:
        raise CliError(str(exc), 2) from None
    path = write_drill_report(settings, events, scenario)
    print(path)
    return 0
