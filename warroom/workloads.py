"""Workloads as warroom sees them: Deployment, StatefulSet and DaemonSet JSON -> WorkloadRow
(READY, UP-TO-DATE, AVAILABLE as kubectl prints them), their rollout status in the words of
`kubectl rollout status`, and what changed between two looks at one. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warroom.pods import parse_time

REVISION = "deployment.kubernetes.io/revision"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
KIND_REFS = {"Deployment": "deployment", "StatefulSet": "statefulset", "DaemonSet": "daemonset"}
RESOURCES = {"Deployment": "deployments", "StatefulSet": "statefulsets", "DaemonSet": "daemonsets"}
KINDS = {**{v: k for k, v in KIND_REFS.items()}, **{v: k for k, v in RESOURCES.items()}}
KINDS.update({"deploy": "Deployment", "sts": "StatefulSet", "ds": "DaemonSet"})


@dataclass(frozen=True, slots=True)
class WorkloadRow:
    uid: str
    kind: str  # Deployment | StatefulSet | DaemonSet
    namespace: str
    name: str
    desired: int
    ready: int
    updated: int
    available: int
    images: tuple[str, ...]  # of the pod template's containers, in order
    revision: str  # a Deployment's revision number; a StatefulSet's/DaemonSet's template hash
    rollout: str  # "complete", "paused", "progressing: ...", "failed: ...", "pending: ..."
    paused: bool
    generation: int
    observed: int  # status.observedGeneration
    created_at: datetime | None
    restarted_at: str  # the template's kubectl.kubernetes.io/restartedAt
    selector: tuple[tuple[str, str], ...]  # spec.selector.matchLabels
    healthy: bool  # every replica ready and the rollout not stuck

    @property
    def ref(self) -> str:
        """`deployment/checkout-api`, as kubectl takes it."""
        return f"{KIND_REFS.get(self.kind, self.kind.lower())}/{self.name}"

    @property
    def resource(self) -> str:
        return RESOURCES.get(self.kind, self.kind.lower() + "s")

    @property
    def scalable(self) -> bool:
        return self.kind in ("Deployment", "StatefulSet")


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def images_of(template: dict[str, Any]) -> tuple[str, ...]:
    containers = (template.get("spec") or {}).get("containers") or []
    return tuple(str(c.get("image") or "") for c in containers)


def workload_row(obj: dict[str, Any], kind: str | None = None) -> WorkloadRow:
    """One workload as the deployments view shows it. `kind` when the object lacks it (items
    of a list carry none)."""
    meta, spec, st = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    kind = kind or str(obj.get("kind") or "Deployment")
    template = spec.get("template") or {}
    annotations = meta.get("annotations") or {}
    tmeta = template.get("metadata") or {}
    if kind == "DaemonSet":
        desired = _int(st.get("desiredNumberScheduled"))
        ready = _int(st.get("numberReady"))
        updated = _int(st.get("updatedNumberScheduled"))
        available = _int(st.get("numberAvailable"))
        revision = ""
    else:
        desired = _int(spec.get("replicas"), 1) if spec.get("replicas") is not None else 1
        ready = _int(st.get("readyReplicas"))
        updated = _int(st.get("updatedReplicas"))
        available = _int(st.get("availableReplicas"))
        revision = str(annotations.get(REVISION) or "")
    if kind == "StatefulSet":
        revision = str(st.get("updateRevision") or "").rpartition("-")[2]
    generation = _int(meta.get("generation"))
    rollout = rollout_status(kind, obj)
    return WorkloadRow(
        uid=str(meta.get("uid") or f"{meta.get('namespace', '')}/{kind}/{meta.get('name', '')}"),
        kind=kind,
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        desired=desired,
        ready=ready,
        updated=updated,
        available=available,
        images=images_of(template),
        revision=revision,
        rollout=rollout,
        paused=bool(spec.get("paused")),
        generation=generation,
        observed=_int(st.get("observedGeneration")),
        created_at=parse_time(meta.get("creationTimestamp")),
        restarted_at=str((tmeta.get("annotations") or {}).get(RESTARTED_AT) or ""),
        selector=tuple(sorted(((spec.get("selector") or {}).get("matchLabels") or {}).items())),
        healthy=ready >= desired and not rollout.startswith(("failed", "progressing")),
    )


def rollout_status(kind: str, obj: dict[str, Any]) -> str:
    """What `kubectl rollout status` would say, in a few words."""
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    generation = _int((obj.get("metadata") or {}).get("generation"))
    if spec.get("paused"):
        return "paused"
    if _int(st.get("observedGeneration")) < generation:
        return "pending: the controller has not seen the change yet"
    if kind == "Deployment":
        for c in st.get("conditions") or []:
            if c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded":
                return "failed: progress deadline exceeded"
    done, progress = rollout_progress(kind, obj, generation)
    return "complete" if done else f"progressing: {progress}"


def rollout_progress(kind: str, obj: dict[str, Any] | None, generation: int) -> tuple[str, str]:
    """(what "complete" reads as, or "" if not complete; the progress in words)."""
    if obj is None:
        return "", "it is gone"
    spec, st = obj.get("spec") or {}, obj.get("status") or {}
    observed = _int(st.get("observedGeneration"))
    if observed < generation:
        return "", "the controller has not seen the change yet"
    if kind == "DaemonSet":
        want = _int(st.get("desiredNumberScheduled"))
        updated = _int(st.get("updatedNumberScheduled"))
        available = _int(st.get("numberAvailable"))
    else:
        want = _int(spec.get("replicas"), 1) if spec.get("replicas") is not None else 1
        updated = _int(st.get("updatedReplicas"))
        available = _int(st.get("availableReplicas") or st.get("readyReplicas"))
        if kind == "StatefulSet" and st.get("updateRevision") != st.get("currentRevision"):
            updated = min(updated, want - 1) if want else updated
    progress = f"{updated} of {want} updated, {available} available"
    replicas = _int(st.get("replicas"))
    complete = updated >= want and available >= want and replicas <= want
    noun = "replica" if want == 1 else "replicas"
    return (f"{want} {noun} updated and available" if complete else ""), progress


def parse_ref(text: str) -> tuple[str, str] | None:
    """("Deployment", "x") from "deployment/x", "deploy/x", "sts/x"...; None otherwise."""
    kind, sep, name = text.strip().partition("/")
    kind = KINDS.get(kind.lower(), "")
    return (kind, name) if sep and kind and name else None


# ----- what changed -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SpecChange:
    """One look at a workload that differs in what people change: the desired replicas, the
    images, paused, a restart, a new revision (a new ReplicaSet)."""

    verb: str  # scale | set-image | rollout-restart | pause | resume | rollout | patch
    fields: dict[str, tuple[str, str]]  # field -> (before, after)


def change_words(fields: dict[str, tuple[str, str]]) -> str:
    """ "replicas 2 -> 4, generation 3 -> 4"."""
    return ", ".join(f"{k} {a or '-'} -> {b or '-'}" for k, (a, b) in fields.items())


def spec_change(old: WorkloadRow, new: WorkloadRow) -> SpecChange | None:
    """What a person would call the change from `old` to `new`, or None when only status (or
    nothing we show) moved."""
    fields: dict[str, tuple[str, str]] = {}
    if old.desired != new.desired and new.kind != "DaemonSet":
        fields["replicas"] = (str(old.desired), str(new.desired))
    if old.images != new.images:
        fields["image"] = (", ".join(old.images), ", ".join(new.images))
    if old.paused != new.paused:
        fields["paused"] = (str(old.paused).lower(), str(new.paused).lower())
    if old.restarted_at != new.restarted_at:
        fields["restartedAt"] = (old.restarted_at, new.restarted_at)
    if old.revision != new.revision and old.revision and new.revision:
        fields["revision"] = (old.revision, new.revision)
    moved = new.generation != old.generation
    if not fields and not moved:
        return None
    if not fields:
        fields["generation"] = (str(old.generation), str(new.generation))
    verb = _verb(fields)
    if moved and "generation" not in fields:
        fields["generation"] = (str(old.generation), str(new.generation))
    return SpecChange(verb, fields)


def _verb(fields: dict[str, tuple[str, str]]) -> str:
    order: Iterable[tuple[str, str]] = (
        ("image", "set-image"),
        ("replicas", "scale"),
        ("restartedAt", "rollout-restart"),
        ("revision", "rollout"),
    )
    for name, verb in order:
        if name in fields:
            return verb
    if "paused" in fields:
        return "pause" if fields["paused"][1] == "true" else "resume"
    return "patch"
