"""`warroom` (the console): open the named incident, else the newest open one, else ask to
declare one."""

from __future__ import annotations

from typing import Any

from warroom.bootstrap import open_room, repository, setup_logging
from warroom.console.app import WarRoomApp
from warroom.room import WarRoom
from warroom.settings import Settings
from warroom.store import IncidentRepository


def run_console(settings: Settings, incident_id: str | None, started: float) -> int:
    setup_logging(settings)
    repo = repository(settings)
    room = open_room(settings, incident_id, repo)
    app = WarRoomApp(settings, repo=repo, room=room, started=started)
    try:
        code = app.run()
    finally:
        if app.room is not None:
            app.signing.last_chance()
            app.room.store.close()
    return code or 0


def run_drill_console(
    settings: Settings,
    repo: IncidentRepository,
    room: WarRoom,
    world: Any,
    started: float,
    script: Any = None,
) -> tuple[int, Any]:
    """The console against a drill world, with the recorder that puts kubectl's changes on
    the timeline; with a script, headless, played by its keys. Returns (exit code, the played
    ScriptRun or None)."""
    from warroom.drill.recorder import DrillRecorder

    app = WarRoomApp(settings, repo=repo, room=room, started=started, world=world)
    recorder = DrillRecorder(room, world, on_recorded=app.timeline_changed)
    recorder.start()
    try:
        if script is None:
            return app.run() or 0, None
        from warroom.console.drill_script import play_script

        result: list[Any] = []

        async def autopilot(pilot: Any) -> None:
            result.append(await play_script(app, pilot, script, world.world.clock.elapsed))

        code = app.run(headless=True, auto_pilot=autopilot)
        played = result[0] if result else None
        if played is not None and played.failed:
            code = 1
        return code or 0, played
    finally:
        recorder.finish()
        app.signing.last_chance()  # the drill's last entries, signed like the rest
