"""Runs a scenario: the timeline on the scenario clock, and reactions to responder actions."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from warroom.drill.clock import Scheduler, WorldClock
from warroom.drill.cluster import Cluster
from warroom.drill.metrics import AlertState, MetricSeries
from warroom.drill.scenario_types import Action, Reaction, Scenario, TimelineEntry, normalize_expr

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Happening:
    """Something that happened in the drill: a responder action or a scripted step."""

    t: float  # scenario seconds
    source: str  # "responder" | "timeline" | "reaction"
    kind: str
    target: str
    detail: str = ""


class Engine:
    def __init__(
        self, scenario: Scenario, cluster: Cluster, clock: WorldClock, scheduler: Scheduler
    ) -> None:
        self.scenario, self.cluster, self.clock, self.scheduler = (
            scenario,
            cluster,
            clock,
            scheduler,
        )
        self.flags: set[str] = set()
        self.series = {m.id: MetricSeries(m) for m in scenario.metrics}
        self.by_expr: dict[str, list[MetricSeries]] = {}
        for s in self.series.values():
            self.by_expr.setdefault(normalize_expr(s.spec.expr), []).append(s)
        self.alerts = {a.name: AlertState(a) for a in scenario.alerts}
        self.log: list[Happening] = []
        self.impact_at: float | None = None  # scenario second the impact began (if it did)
        self._spent: set[int] = set()

    def start(self) -> None:
        self.cluster.on_trigger.append(self.on_trigger)
        for entry in self.scenario.timeline:
            self.scheduler.at(entry.at, self._run_entry, entry)

    def _flags_allow(self, if_flags: tuple[str, ...], unless_flags: tuple[str, ...]) -> bool:
        return all(f in self.flags for f in if_flags) and not any(
            f in self.flags for f in unless_flags
        )

    def _run_entry(self, entry: TimelineEntry) -> None:
        if not self._flags_allow(entry.if_flags, entry.unless_flags):
            self.log.append(Happening(self.clock.elapsed(), "timeline", "skipped", "", entry.note))
            return
        if entry.note:
            self.log.append(Happening(self.clock.elapsed(), "timeline", "note", "", entry.note))
        if entry.impact and self.impact_at is None:
            self.impact_at = self.clock.elapsed()
        self._run(entry.actions, "timeline")

    def _run(self, actions: tuple[Action, ...], source: str) -> None:
        for a in actions:
            if a.after > 0:
                self.scheduler.after(a.after, self.apply, a, source)
            else:
                self.apply(a, source)

    # --- reactions -------------------------------------------------------------------------

    def on_trigger(self, kind: str, ref: str, info: dict[str, Any]) -> None:
        detail = " ".join(f"{k}={v}" for k, v in info.items())
        self.log.append(Happening(self.clock.elapsed(), "responder", kind, ref, detail))
        for i, r in enumerate(self.scenario.reactions):
            if i in self._spent or not self._matches(r, kind, ref, info):
                continue
            if r.once:
                self._spent.add(i)
            self.log.append(Happening(self.clock.elapsed(), "reaction", "react", ref, r.name))
            self._run(r.actions, "reaction")

    def _matches(self, r: Reaction, kind: str, ref: str, info: dict[str, Any]) -> bool:
        w = r.when
        if w.kind != kind or w.workload != ref:
            return False
        if kind == "image" and info.get("image") != w.image:
            return False
        too_few = w.min_replicas is not None and int(info.get("replicas") or 0) < w.min_replicas
        if kind == "scale" and too_few:
            return False
        if kind == "delete" and w.force and info.get("grace") != 0:
            return False  # a graceful delete of a pod on a lost node never completes
        return self._flags_allow(r.if_flags, r.unless_flags)

    # --- actions ---------------------------------------------------------------------------

    def apply(self, a: Action, source: str = "timeline") -> None:
        t, args, c = self.clock.elapsed(), a.args, self.cluster
        target = str(args.get("workload") or args.get("id") or args.get("name") or "")
        self.log.append(Happening(t, source, a.kind, target, _brief(args)))
        if a.kind == "rollout":
            c.rollout(
                args["workload"], args.get("image"), args.get("container"), args.get("behavior")
            )
        elif a.kind == "behavior":
            c.set_behavior(args["workload"], args["set"], args["running"])
        elif a.kind == "scale":
            c.scale(args["workload"], args["replicas"])
        elif a.kind == "node":
            c.set_node_ready(args["name"], args["ready"])
        elif a.kind == "metric":
            self.series[args["id"]].ramp(t, args["to"], args["over"])
        elif a.kind == "alert":
            self.alerts[args["name"]].set(t, args["state"])
        elif a.kind == "event":
            c.workload_event(args["workload"], args["type"], args["reason"], args["message"])
        elif a.kind == "set":
            self.flags.add(args["flag"])
        elif a.kind == "clear":
            self.flags.discard(args["flag"])
        else:  # pragma: no cover - the loader rejects unknown kinds
            log.error("%s: unknown action %s", a.where, a.kind)

    # --- queries ---------------------------------------------------------------------------

    def lookup(self, expr: str) -> list[MetricSeries] | None:
        return self.by_expr.get(normalize_expr(expr))

    def series_for_alert(self, alert: AlertState) -> MetricSeries | None:
        """The series an alert's expression is built on, for its `value`."""
        norm = normalize_expr(alert.spec.expr)
        for key, series in self.by_expr.items():
            if key and key in norm:
                return series[0]
        return None


def _brief(args: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in args.items() if k not in ("workload", "id", "name"))
