"""What the parts of the drill cluster (kubelet, controllers, revisions, disruption, endpoints,
system objects) may ask of the cluster that owns them. Cluster implements it; the parts type
their back-reference with it, so they do not import the cluster that imports them."""

from __future__ import annotations

from typing import Any, Protocol

from warroom.drill.clock import Scheduler, WorldClock
from warroom.drill.events import EventRecorder
from warroom.drill.scenario_types import Scenario, Timings
from warroom.drill.store import ObjectStore


class ClusterApi(Protocol):
    scenario: Scenario
    namespace: str
    clock: WorldClock
    scheduler: Scheduler
    timings: Timings
    store: ObjectStore
    events: EventRecorder
    nodes: dict[str, Any]  # name -> NodeState
    kubelet: Any  # Kubelet
    revisions: Any  # Revisions
    disruption: Any  # Disruption
    endpoints: Any  # Endpoints

    def new_uid(self) -> str: ...

    def aux_uid(self) -> str: ...

    def suffix_for(self, key: str, n: int = 5) -> str: ...

    def jitter(self, key: str, low: float, high: float) -> float: ...

    def cluster_ip(self) -> str: ...

    def node_ip(self, node: str) -> str: ...

    def next_pod_ip(self, node: str) -> str: ...

    def owner_uid(self, obj: dict[str, Any]) -> str: ...

    def owned_pods(self, uid: str) -> list[Any]: ...

    def pod_label(self, sim: Any, key: str) -> str: ...

    def new_pod_from(self, owner: dict[str, Any], template: dict[str, Any], **kw: Any) -> Any: ...

    def node_load(self, sim: Any, delta: int) -> None: ...

    def pick_node(self, sim: Any) -> str | None: ...

    def pod_removed(self, sim: Any) -> None: ...

    def kick(self) -> None: ...

    def disown(self, owner_uid: str, key: tuple[str, str]) -> None: ...

    def adopt(self, owner_uid: str, key: tuple[str, str]) -> None: ...

    def _trigger(self, kind: str, ref: str, info: dict[str, Any], namespace: str) -> None: ...
