"""Drill scenarios: YAML files in `warroom.config/scenarios`, parsed into frozen dataclasses.

A scenario describes a small cluster, the Prometheus series and alerts it serves, a timeline of
actions relative to drill start, and reactions: actions run when the responder does something.
Times are scenario seconds (wall seconds * speed). Errors are one line, `file:line: key:
problem`, raised as ScenarioError; counts and times are bounded (the limits below) so that a
typo such as `replicas: 100000000` is an error, not a drill that never starts.

Format (every key but name/nodes/workloads is optional):

    name: crashloop-after-deploy        # the file's stem; a Kubernetes-style name
    title: ...                          # one line for `warroom drill --list`
    description: ...
    category: security                  # the drill incident's (default application)
    namespace: shop
    nodes: [{name: n1, ip: 10.0.1.17, zone: a}, ...]        # or plain names
    workloads:                          # Deployment (default) | StatefulSet | DaemonSet
      - {kind: Deployment, name: web, replicas: 3, image: "web:1", port: 8080, logs: web,
         strategy: RollingUpdate|Recreate, behavior: healthy, age: 86400, paused: false,
         labels: {app: web}, cpu: 100m, memory: 256Mi}
      - {name: pay, containers: [{name: pay, image: ..., logs: ...}, {name: envoy, ...}]}
    behaviors:                          # how a pod's first container behaves; "healthy" is built in
      panic: {crash: {reason: Error|OOMKilled, exit_code: 2, after: 6}, logs: panic-logs}
      slow: {ready: false}              # runs, readiness probe fails
    logs:                               # log profiles; lines take $placeholders (see logs.py)
      web: {startup: [...], lines: [...], every: 2, crash: "block with\na stack trace"}
    metrics:                            # served at /api/v1/query(_range) for exactly this expr
      - {id: errors, expr: "sum(rate(...))", labels: {}, value: 0.002, noise: 0.1, min: 0, max: 1}
    checks:                             # health checks for warroom; expr must be a metric's
      - {name: Error ratio, expr: ..., warn: 0.01, crit: 0.05, direction: above|below, unit: ratio}
    alerts: [{name: HighErrors, expr: ..., labels: {severity: critical}, annotations: {...}}]
    timeline:
      - at: 50
        note: what happens
        unless: fixed                    # flags (if: / unless:) as for reactions
        impact: true                     # the failure starts here: the post-mortem's impact
                                         # start; detection is the first signal from then on
        do: [ACTION, ...]
    reactions:                          # fire on responder actions through the API
      - name: ...
        when: {restart: deployment/web}  # or delete: (a pod of it, +force: true for grace 0),
                                         #    patch:, scale: (+min_replicas), image: (+image_is),
                                         #    quarantine: (a pod of it isolated by a NetworkPolicy
                                         #    that denies all egress)
        if: broken                       # flags that must be set (unless: must not)
        once: true
        do: [ACTION, ...]
    timings: {schedule: 0.5, pull: 3, ready: 4, terminate: 2, crash_display: 1, backoff: 10,
              backoff_max: 300, eviction: 40}
    objectives: {...}                   # what the responder is scored on: see objectives.py

ACTION is a mapping with one of these keys, plus an optional `after: seconds`:
    rollout: {workload: deployment/web, image: "web:2", container: web, behavior: panic}
    behavior: {workload: deployment/web, set: panic, running: true}   # running: existing pods too
    scale: {workload: deployment/web, replicas: 5}
    node: {name: n1, ready: false}      # NotReady: pods go Unknown after `eviction`, rescheduled
    metric: {id: errors, to: 0.4, over: 45}                           # linear ramp
    alert: {name: HighErrors, state: firing|pending|resolved}
    event: {workload: deployment/web, type: Warning, reason: X, message: Y}
    set: flagname / clear: flagname
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from warroom.drill.objectives import Objectives
from warroom.drill.yaml_fields import shown

WORKLOAD_KINDS = {
    "deployment": "Deployment",
    "statefulset": "StatefulSet",
    "daemonset": "DaemonSet",
}
ACTION_KINDS = (
    "rollout",
    "behavior",
    "scale",
    "node",
    "metric",
    "alert",
    "event",
    "set",
    "clear",
)
TRIGGER_KINDS = ("restart", "delete", "patch", "scale", "image", "quarantine")


# Limits. Measured here: 1000 replicas of one workload populate in 0.15 s, 5000 pods in 1.3 s,
# 50000 extra pods in 16 s (`python -m warroom.drill.serve --extra-pods`, the benches use 10000;
# bench/pods_100k.py inflates to 100,000).
MAX_NODES = 500
MAX_WORKLOADS = 200
MAX_REPLICAS = 1000  # per workload, and for a `scale` action or trigger
MAX_CONTAINERS = 10  # per pod
MAX_SCENARIO_PODS = 5000  # all workloads' pods together (a DaemonSet has one per node)
MAX_EXTRA_PODS = 200_000
MAX_SECONDS = 10 * 365 * 86400.0  # any time or duration in a scenario or script: ten years
MIN_LOG_EVERY = 0.1  # seconds between periodic log lines
MIN_SPEED, MAX_SPEED = 0.01, 1000.0


class DrillInputError(ValueError):
    """Bad input to a drill (a scenario, a script, a run option): one line for the user."""


class ScenarioError(DrillInputError):
    """A scenario is malformed or cannot be found; the message reads `file:line: key: problem`
    (no line where none applies: a missing file, an unknown scenario name)."""


class RunOptionError(ScenarioError):
    """A run option (speed, extra pods) is out of range; a ScenarioError, so callers that report
    scenario errors report it the same way."""


def check_speed(value: object) -> float:
    """The drill speed, a finite number in [MIN_SPEED, MAX_SPEED]; RunOptionError otherwise."""
    speed = math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            speed = float(value)
        except OverflowError:  # an int beyond any float
            speed = math.inf
    if not MIN_SPEED <= speed <= MAX_SPEED:  # also false for NaN
        raise RunOptionError(
            f"speed: must be a number from {MIN_SPEED:g} to {MAX_SPEED:g}, got {shown(value)}"
        )
    return speed


def check_extra_pods(value: object) -> int:
    """Pods added to inflate the cluster, 0..MAX_EXTRA_PODS; RunOptionError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_EXTRA_PODS:
        raise RunOptionError(
            f"extra pods: must be a whole number from 0 to {MAX_EXTRA_PODS}, got {shown(value)}"
        )
    return value


@dataclass(frozen=True, slots=True)
class CrashSpec:
    reason: str = "Error"  # Error | OOMKilled | ...
    exit_code: int = 1
    after: float = 5.0  # seconds a container runs before it exits


@dataclass(frozen=True, slots=True)
class Behavior:
    """How a pod's main container behaves once started."""

    name: str
    crash: CrashSpec | None = None
    ready: bool = True  # False: runs but the readiness probe fails
    logs: str | None = None  # log profile overriding the container's own


HEALTHY = Behavior("healthy")


@dataclass(frozen=True, slots=True)
class LogProfile:
    name: str
    startup: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    every: float = 3.0  # seconds between periodic lines
    crash: tuple[str, ...] = ()  # printed just before a crash (stack trace)


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    name: str
    image: str
    logs: str | None = None
    port: int | None = 8080
    cpu: str = "100m"
    memory: str = "256Mi"


@dataclass(frozen=True, slots=True)
class Workload:
    kind: str  # Deployment | StatefulSet | DaemonSet
    name: str
    replicas: int
    containers: tuple[ContainerSpec, ...]
    labels: dict[str, str] = field(default_factory=dict)
    strategy: str = "RollingUpdate"  # or Recreate (Deployment only)
    behavior: str = "healthy"
    age: float = 3 * 86400.0  # how long before drill start its pods were created
    paused: bool = False

    @property
    def ref(self) -> str:
        return f"{self.kind.lower()}/{self.name}"


@dataclass(frozen=True, slots=True)
class NodeSpec:
    name: str
    ip: str
    zone: str = ""


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One sample of an expression's result; several specs may share an expression."""

    id: str
    expr: str
    labels: dict[str, str]
    value: float
    noise: float = 0.0  # relative jitter, deterministic per scrape interval
    min: float | None = 0.0
    max: float | None = None


@dataclass(frozen=True, slots=True)
class CheckSpec:
    name: str
    expr: str
    warn: float
    crit: float
    direction: str  # above | below: which side of the threshold is bad
    unit: str = ""


@dataclass(frozen=True, slots=True)
class AlertSpec:
    name: str
    labels: dict[str, str]
    annotations: dict[str, str]
    expr: str = ""


@dataclass(frozen=True, slots=True)
class Action:
    kind: str  # one of ACTION_KINDS
    args: dict[str, Any]
    after: float = 0.0
    where: str = ""  # key path for error messages at run time


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: float
    actions: tuple[Action, ...]
    note: str = ""
    if_flags: tuple[str, ...] = ()  # runs only if these flags are set ...
    unless_flags: tuple[str, ...] = ()  # ... and these are not (responders can pre-empt it)
    impact: bool = False  # the failure starts here: the post-mortem's "impact started"


@dataclass(frozen=True, slots=True)
class Trigger:
    kind: str  # one of TRIGGER_KINDS
    workload: str  # "deployment/name"
    image: str | None = None  # for kind image
    min_replicas: int | None = None  # for kind scale
    force: bool = False  # for kind delete: only a forced delete (grace period 0)


@dataclass(frozen=True, slots=True)
class Reaction:
    name: str
    when: Trigger
    actions: tuple[Action, ...]
    if_flags: tuple[str, ...] = ()
    unless_flags: tuple[str, ...] = ()
    once: bool = True


@dataclass(frozen=True, slots=True)
class Timings:
    """Scenario seconds the simulated kubelet and controllers take."""

    schedule: float = 0.5
    pull: float = 3.0
    ready: float = 4.0
    terminate: float = 2.0
    crash_display: float = 1.0  # how long "Error" shows before CrashLoopBackOff
    backoff: float = 10.0  # first crash-loop back-off, doubled up to backoff_max
    backoff_max: float = 300.0
    eviction: float = 40.0  # pods on a NotReady node are evicted after this


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    title: str
    description: str
    source: str
    namespace: str
    nodes: tuple[NodeSpec, ...]
    workloads: tuple[Workload, ...]
    behaviors: dict[str, Behavior]
    logs: dict[str, LogProfile]
    metrics: tuple[MetricSpec, ...]
    checks: tuple[CheckSpec, ...]
    alerts: tuple[AlertSpec, ...]
    timeline: tuple[TimelineEntry, ...]
    reactions: tuple[Reaction, ...]
    timings: Timings = Timings()
    objectives: Objectives = Objectives()  # noqa: RUF009 - frozen, shared safely like Timings
    category: str = "application"  # the drill incident's category (security: its playbook)

    def workload(self, ref: str) -> Workload:
        for w in self.workloads:
            if w.ref == ref:
                return w
        raise KeyError(ref)

    def expressions(self) -> list[str]:
        return list(dict.fromkeys(m.expr for m in self.metrics))


def normalize_expr(expr: str) -> str:
    """PromQL with whitespace outside string literals removed, for matching."""
    out: list[str] = []
    quote = ""
    escaped = False
    for ch in expr:
        if quote:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
            out.append(ch)
        elif not ch.isspace():
            out.append(ch)
    return "".join(out)
