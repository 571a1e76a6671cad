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

from warroom.bootstrap import open_store, repository, settings_from, setup_logging
from warroom.checks import CheckSpec, HealthConfig
from warroom.errors import UsageError, WarroomError
from warroom.model import Event
from warroom.room import WarRoom
from warroom.settings import AlertmanagerSettings, KubeSettings, PrometheusSettings, Settings
from warroom.store import IncidentRepository


def drill_settings(settings: Settings, world: Any) -> Settings:
    """The user's settings, pointed at the drill world instead of their real sources."""
    scenario = world.scenario
    checks = tuple(
        CheckSpec(c.name, c.expr, c.warn, c.crit, c.direction, c.unit) for c in scenario.checks
    )
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
            # The drill's clock runs `speed` times faster: so do its pods, so wait less.
            verify_delete=max(timedelta(seconds=3), settings.kube.verify_delete / world.speed),
            verify_rollout=max(timedelta(seconds=10), settings.kube.verify_rollout / world.speed),
            drain_timeout=max(timedelta(seconds=10), settings.kube.drain_timeout / world.speed),
        ),
        health=HealthConfig(
            checks, (), max(timedelta(seconds=10), settings.health.verify_after / world.speed)
        ),
    )


def run_drill(args: argparse.Namespace, started: float) -> int:
    from warroom.drill.scenario import list_scenarios

    if args.list:
        # Titles only: a description names the fix, which would spoil the drill; the drill
        # report shows it afterwards.
        for name, title, _ in list_scenarios():
            print(f"{name:28} {title}")
        return 0
    settings = settings_from(args)
    if getattr(args, "report", None):
        return report_command(settings, args.report)
    script = None
    if getattr(args, "script", None):
        from warroom.drill.script import ScriptError, load_script

        try:
            script = load_script(args.script)
        except ScriptError as exc:
            raise UsageError(str(exc)) from None
    names = [n for n, _, _ in list_scenarios()]
    wanted = args.scenario or (script.scenario if script else None) or (names[0] if names else None)
    if wanted is None:
        raise WarroomError("no drill scenarios are installed")
    speed = args.speed if args.speed is not None else (script.speed if script else None) or 1.0

    from warroom.console.run import run_drill_console
    from warroom.drill.prom_real import RealServersUnavailable
    from warroom.drill.scenario import DrillInputError, load_scenario
    from warroom.drill.script import check_read_only, check_script
    from warroom.drill.world import DrillStartError, run_in_thread

    try:
        scenario = load_scenario(wanted)  # a shipped name or a YAML path
        if script is not None:
            check_script(script, scenario)  # steps naming workloads the scenario lacks
            if settings.read_only:
                check_read_only(script)  # kubectl steps that would change the cluster
        # Wall-clock timestamps: ages and alert times read true while scenario time runs fast.
        world = run_in_thread(
            scenario,
            speed=speed,
            wall_timestamps=True,
            prometheus=getattr(args, "prometheus", "builtin"),
        )
    except (DrillInputError, RealServersUnavailable) as exc:  # scenario, script, speed
        raise UsageError(str(exc)) from None
    except DrillStartError as exc:  # a port, the temp dir: the machine, not the input
        raise WarroomError(str(exc)) from None
    try:
        dsettings = drill_settings(settings, world)
        setup_logging(dsettings)
        repo = repository(dsettings)
        room = declare_drill(repo, dsettings, world)
        code, played = run_drill_console(dsettings, repo, room, world, started, script)
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
    return code


def declare_drill(repo: IncidentRepository, settings: Settings, world: Any) -> WarRoom:
    """The drill's incident: declared low (P3) on purpose; judging severity is the exercise."""
    return WarRoom.declare(
        repo,
        settings,
        title=f"Drill: {world.scenario.title}",
        severity="P3",
        category=world.scenario.category,
        drill=True,
        scenario=world.scenario.name,
    )


def write_drill_report(settings: Settings, events: list[Event], scenario: Any) -> Path:
    from warroom.actions.redact import scrub
    from warroom.drill.report import report_path, score_drill, to_markdown, write_report

    result = score_drill(events, scenario, settings.policy)  # scored from the record as it is
    # Shown redacted, before Markdown's escapes (DB\_PASS) hide a key's name, and after.
    shown = [dataclasses.replace(e, text=scrub(e.text)) for e in events]
    text = scrub(to_markdown(shown, scenario, result))
    return write_report(report_path(settings.data_dir, result.incident_id), text)


def report_command(settings: Settings, incident_id: str) -> int:
    """`warroom drill --report ID`: score a finished (or running) drill from its timeline."""
    from warroom.drill.scenario import ScenarioError, load_scenario
    from warroom.projection import project

    with open_store(settings, incident_id, read_only=True) as store:
        events = store.events()
    state = project(events)
    if not state.drill or not state.scenario:
        raise WarroomError(f"{incident_id} is not a drill (no scenario on its declaration)")
    try:
        scenario = load_scenario(state.scenario)
    except ScenarioError as exc:
        raise UsageError(str(exc)) from None
    path = write_drill_report(settings, events, scenario)
    print(path)
    return 0
