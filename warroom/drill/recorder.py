"""The drill's own entries on the incident timeline, so that scoring needs nothing but the store.

- At the start: a SYSTEM event with the drill clock (scenario, speed, wall t0 of scenario second
  0) and the kubeconfig of the drill cluster, for kubectl in a second terminal.
- While it runs: changes made to the drill cluster by anything but the console (kubectl scale,
  set image, rollout restart, delete, a NetworkPolicy that isolates a pod) become ACTION
  events, as the console's own changes already are: in a real incident the scribe would note
  them; here the API server sees them. The console is recognised by its client's User-Agent
  and skipped, so nothing is doubled.
- At the end: a SYSTEM event carrying the scenario's log (what it did, how it reacted), which
  the drill report shows beside the responder's timeline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from warroom.drill.scoring import DRILL_END, DRILL_START
from warroom.model import Kind, format_ts

log = logging.getLogger(__name__)
CONSOLE_AGENT = "OpenAPI-Generator/"  # the kubernetes Python client the console uses
# Engine log kinds worth showing in the report (metric ramps and flags are internals).
SHOWN = {"note", "react", "alert", "node", "rollout", "behavior", "scale", "event"}
SHOWN_RESPONDER = {"restart", "delete", "scale", "image", "quarantine"}
MAX_HAPPENINGS = 300
_RESOURCES = {"deployment": "deployments", "statefulset": "statefulsets", "daemonset": "daemonsets"}


class DrillRecorder:
    def __init__(
        self, room: Any, world: Any, on_recorded: Callable[[], None] | None = None
    ) -> None:
        """`world`: a DrillHandle (world on its own thread). `on_recorded` runs after each
        event written from the world's thread (the console uses it to redraw)."""
        self.room, self.world, self.on_recorded = room, world, on_recorded
        self._pending: dict[str, dict[str, Any]] = {}

    def start(self) -> None:
        w = self.world
        self.room.record(
            Kind.SYSTEM,
            f"Drill started: scenario {w.scenario.name} at speed x{w.speed:g}; kubectl works with "
            f"KUBECONFIG={w.kubeconfig_path}",
            {
                "drill": DRILL_START,
                "scenario": w.scenario.name,
                "speed": w.speed,
                "t0": format_ts(w.world.clock.start),
                "kubeconfig": str(w.kubeconfig_path),
            },
            source="drill",
        )
        w.call(w.world.cluster.on_trigger.append, self._on_trigger)

    def finish(self) -> None:
        """Record the scenario's log; call once, after the console has closed."""
        impact_at: float | None = None
        try:
            engine = self.world.world.engine
            log_, impact_at = self.world.call(lambda: (list(engine.log), engine.impact_at))
        except Exception:  # the world already stopped: the report just lacks that section
            log.exception("drill log unavailable")
            log_ = []
        shown = [
            {
                "t": round(h.t, 1),
                "source": h.source,
                "kind": h.kind,
                "target": h.target,
                "detail": h.detail,
            }
            for h in log_
            if (h.kind in SHOWN_RESPONDER if h.source == "responder" else h.kind in SHOWN)
        ][:MAX_HAPPENINGS]
        data: dict[str, Any] = {"drill": DRILL_END, "happenings": shown}
        text = f"Drill ended: {len(shown)} scenario steps and reactions recorded"
        if impact_at is not None:  # the post-mortem's impact start (and so its MTTD)
            # On the timeline's (wall) clock, as the drill start event's t0 and speed say.
            clock = self.world.world.clock
            started = clock.start + timedelta(seconds=impact_at / clock.speed)
            data["impact_started"] = format_ts(started)
            text += f"; impact began {started.strftime('%H:%M:%S')} (scenario t+{impact_at:.0f}s)"
        self.room.record(Kind.SYSTEM, text, data, source="drill")

    # ----- on the world's thread -----------------------------------------------------------
    def _on_trigger(self, kind: str, ref: str, info: dict[str, Any]) -> None:
        from warroom.drill.kube_server import REQUEST_AGENT

        agent = REQUEST_AGENT.get()
        if not agent or agent.startswith(CONSOLE_AGENT):
            return
        # One PATCH fires "patch" then restart/image/scale: gather them, write one event.
        first = ref not in self._pending
        entry = self._pending.setdefault(ref, {"kinds": [], "info": {}, "agent": agent})
        entry["kinds"].append(kind)
        entry["info"].update(info)
        if first:
            asyncio.get_running_loop().call_soon(self._flush, ref)

    def _flush(self, ref: str) -> None:
        entry = self._pending.pop(ref, None)
        if entry is None:
            return
        kinds, info = entry["kinds"], entry["info"]
        ns = self.world.world.scenario.namespace
        tool = entry["agent"].split("/", 1)[0] or "a client"
        kind, _, name = ref.partition("/")
        target = f"{_RESOURCES.get(kind, kind)}/{ns}/{name}"
        data: dict[str, Any] = {"workload": ref, "via": tool, "user_agent": entry["agent"][:200]}
        if "quarantine" in kinds:
            verb = "quarantine-isolate"
            text = f"isolated pod {info.get('pod')} of {ref} (NetworkPolicy {info.get('policy')})"
            target = f"pods/{ns}/{info.get('pod')}"
        elif "delete" in kinds:
            forced = "force-deleted" if info.get("grace") == 0 else "deleted"
            verb, text = "delete-pod", f"{forced} pod {info.get('pod')} of {ref}"
            target = f"pods/{ns}/{info.get('pod')}"
            data["grace"] = info.get("grace")
        elif "restart" in kinds:
            verb, text = "rollout-restart", f"rollout restart {ref}"
        elif "image" in kinds:
            verb, text = "set-image", f"set image of {ref} to {info.get('image')}"
            data["image"] = info.get("image")
        elif "scale" in kinds:
            verb, text = "scale", f"scaled {ref} to {info.get('replicas')} replicas"
            data["replicas"] = info.get("replicas")
        else:
            verb, text = "patch", f"patched {ref}"
        try:
            self.room.record_action(
                f"{text} in {ns} (via {tool}, seen by the drill cluster)",
                verb=verb,
                target=target,
                ok=True,
                **data,
            )
        except Exception:
            log.exception("could not record %s", text)
            return
        if self.on_recorded is not None:
            try:
                self.on_recorded()
            except Exception:  # the console may be closing
                log.debug("on_recorded failed", exc_info=True)
