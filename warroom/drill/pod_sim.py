"""The kubelet's view of a pod and its containers: runs, states, readiness."""

from __future__ import annotations

from dataclasses import dataclass, field

from warroom.drill.scenario_types import Behavior

Key = tuple[str, str]


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String() for whole seconds: 10s, 1m20s, 5m0s."""
    s = int(seconds)
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m{s}s"
    h, m = divmod(m, 60)
    return f"{h}h{m}m{s}s"


@dataclass
class Run:
    """One run of a container (what the runtime calls a container)."""

    id: str
    started: float
    finished: float | None = None
    reason: str = ""
    exit_code: int = 0


@dataclass
class ContainerSim:
    name: str
    image: str
    behavior: Behavior
    log_profile: str | None
    state: str = "waiting"  # waiting | running | terminated
    waiting_reason: str = "ContainerCreating"
    waiting_message: str = ""
    ready: bool = False
    restarts: int = 0
    crashes: int = 0
    run: Run | None = None  # current or most recent run
    last: Run | None = None  # lastState.terminated
    epoch: int = 0  # bumps invalidate timers of an older run

    @property
    def profile(self) -> str | None:
        return self.behavior.logs or self.log_profile


@dataclass
class PodSim:
    namespace: str
    name: str
    uid: str
    workload: str  # "deployment/name"
    containers: list[ContainerSim]
    node: str | None = None
    pinned: str | None = None  # a DaemonSet pod's node, before it is bound
    ip: str = ""
    host_ip: str = ""
    phase: str = "Pending"
    scheduled_at: float | None = None
    sandbox_ready: bool = False
    deleting: bool = False
    gone: bool = False
    node_lost: bool = False
    unschedulable: str = ""
    transitions: dict[str, tuple[str, float]] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        return (self.namespace, self.name)

    @property
    def ready(self) -> bool:
        return (
            not self.deleting
            and not self.node_lost
            and self.phase == "Running"
            and all(c.ready for c in self.containers)
        )
