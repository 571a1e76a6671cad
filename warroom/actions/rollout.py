"""Rollout history, undo, pause and resume, as kubectl 1.32 does them.

History: a Deployment's revisions are its ReplicaSets (annotation deployment.kubernetes.io/
revision); a StatefulSet's and a DaemonSet's are ControllerRevisions. Both are listed with
the workload's selector and kept only when the workload controls them.

Undo (`kubectl rollout undo [--to-revision=N]`): to the previous revision (the second
highest) or the one asked for. A Deployment gets kubectl's JSON patch: the revision's pod
template (without pod-template-hash) and annotations (the revision's, minus the ones the
controller keeps for itself); a StatefulSet or DaemonSet gets the revision's data as a
strategic merge patch. kubectl's refusals and words: a paused Deployment, a revision that is
not in the history, a template that already matches ("skipped rollback").

Pause and resume: `{"spec":{"paused":true}}` / `{"spec":{"paused":null}}`, strategic merge;
only a Deployment can be paused.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from warroom.actions.kube_call import (
    JSON_PATCH,
    STRATEGIC,
    TIMEOUT,
    ActionResult,
    ApiGetter,
    Refused,
    Step,
    client,
)
from warroom.sources.kube_api import WORKLOADS, read_json
from warroom.workloads import KIND_REFS, REVISION, images_of

if TYPE_CHECKING:
    from kubernetes.aio.client import ApiClient

HASH_LABEL = "pod-template-hash"
CHANGE_CAUSE = "kubernetes.io/change-cause"
# Annotations a Deployment keeps for itself: never copied from a revision (kubectl's list).
SKIP_ANNOTATIONS = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
}


@dataclass(frozen=True)
class Revision:
    number: int
    images: tuple[str, ...]
    cause: str  # kubernetes.io/change-cause, "" if none
    template: dict[str, Any]  # the pod template (Deployment: without pod-template-hash)
    annotations: dict[str, str]  # the ReplicaSet's (Deployments)
    current: bool  # the revision running now

    def words(self) -> str:
        return f"revision {self.number} ({', '.join(self.images) or 'no image'})"


@dataclass(frozen=True)
class History:
    kind: str
    namespace: str
    name: str
    workload: dict[str, Any]  # as read now
    revisions: tuple[Revision, ...]  # oldest first

    @property
    def current(self) -> Revision | None:
        return next((r for r in reversed(self.revisions) if r.current), None)

    def target(self, to_revision: int = 0) -> Revision:
        """The revision `rollout undo` goes to; Refused in kubectl's words when there is none."""
        ref = f'{WORKLOADS[self.kind][0]}.apps "{self.name}"'
        if to_revision:
            found = next((r for r in self.revisions if r.number == to_revision), None)
            if found is None:
                raise Refused(f"unable to find specified revision {to_revision} in history")
            return found
        if len(self.revisions) < 2:
            if self.kind == "Deployment":
                raise Refused(f'no rollout history found for deployment "{self.name}"')
            raise Refused(f"{ref}: no last revision to roll back to")
        return self.revisions[-2]


def command(kind: str, name: str, namespace: str, to_revision: int = 0, context: str = "") -> str:
    to = f" --to-revision={to_revision}" if to_revision else ""
    ctx = f" --context {context}" if context else ""
    return f"kubectl rollout undo {KIND_REFS[kind]}/{name}{to} -n {namespace}{ctx}"


def _controlled_by(obj: dict[str, Any], uid: str) -> bool:
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    return any(r.get("uid") == uid and r.get("controller") for r in refs)


def _selector(workload: dict[str, Any]) -> str:
    labels = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def _without_hash(template: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(template)
    labels = (t.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(HASH_LABEL, None)
    return t


async def history(api: ApiClient | ApiGetter, namespace: str, kind: str, name: str) -> History:
    """The workload and its revisions, oldest first. KubeError/Refused when it cannot be read."""
    from kubernetes.aio import client as k8s

    apps = k8s.AppsV1Api(await client(api))
    method = WORKLOADS[kind][1]
    read = getattr(apps, f"read_namespaced_{method}_without_preload_content")
    obj = await read_json(await read(name, namespace, _request_timeout=TIMEOUT))
    uid = (obj.get("metadata") or {}).get("uid")
    selector = _selector(obj)
    revisions = []
    if kind == "Deployment":
        listed = await read_json(
            await apps.list_namespaced_replica_set_without_preload_content(
                namespace, label_selector=selector, _request_timeout=TIMEOUT
            )
        )
        now = str(((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION) or "")
        for rs in listed.get("items") or []:
            ann = (rs.get("metadata") or {}).get("annotations") or {}
            if not _controlled_by(rs, uid) or not str(ann.get(REVISION, "")).isdigit():
                continue
            template = _without_hash((rs.get("spec") or {}).get("template") or {})
            revisions.append(
                Revision(
                    int(ann[REVISION]),
                    images_of(template),
                    str(ann.get(CHANGE_CAUSE) or ""),
                    template,
                    {str(k): str(v) for k, v in ann.items()},
                    current=str(ann[REVISION]) == now,
                )
            )
    else:
        listed = await read_json(
            await apps.list_namespaced_controller_revision_without_preload_content(
                namespace, label_selector=selector, _request_timeout=TIMEOUT
            )
        )
        live = _sorted_json((obj.get("spec") or {}).get("template") or {})
        for cr in listed.get("items") or []:
            if not _controlled_by(cr, uid):
                continue
            template = ((cr.get("data") or {}).get("spec") or {}).get("template") or {}
            template = {k: v for k, v in template.items() if k != "$patch"}
            ann = (cr.get("metadata") or {}).get("annotations") or {}
            revisions.append(
                Revision(
                    int(cr.get("revision") or 0),
                    images_of(template),
                    str(ann.get(CHANGE_CAUSE) or ""),
                    template,
                    {},
                    current=_sorted_json(template) == live,
                )
            )
    revisions.sort(key=lambda r: r.number)
    return History(kind, namespace, name, obj, tuple(revisions))


def _sorted_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _same_template(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return _sorted_json(_without_hash(a)) == _sorted_json(_without_hash(b))


async def undo(
    api: ApiClient | ApiGetter,
    namespace: str,
    kind: str,
    name: str,
    to_revision: int = 0,
    *,
    known: History | None = None,
) -> ActionResult:
    """`kubectl rollout undo`. `known`: the history the confirmation showed; the target is
    looked up again in a fresh read, so a revision gone meanwhile is refused, not guessed."""
    resource = WORKLOADS.get(kind, (kind.lower(), ""))[0]
    step = Step(namespace, "get", resource, name)
    try:
        if kind not in WORKLOADS:
            raise Refused("refused: rollout undo applies to Deployments, StatefulSets, DaemonSets")
        h = await history(api, namespace, kind, name)
        wanted = to_revision or (known.target().number if known is not None else 0)
        target = h.target(wanted)
        spec = h.workload.get("spec") or {}
        ref = f"{KIND_REFS[kind]}/{name}"
        if kind == "Deployment" and spec.get("paused"):
            raise Refused(
                "you cannot rollback a paused deployment; resume it first with "
                "'kubectl rollout resume' and try again"
            )
        if _same_template(target.template, spec.get("template") or {}):
            raise Refused(
                f"{ref} skipped rollback (current template already matches revision "
                f"{target.number})"
            )
        before = h.current
        from kubernetes.aio import client as k8s

        apps = k8s.AppsV1Api(await client(api))
        method = WORKLOADS[kind][1]
        patch = getattr(apps, f"patch_namespaced_{method}_without_preload_content")
        step.at("patch", resource, name)
        if kind == "Deployment":
            now = (h.workload.get("metadata") or {}).get("annotations") or {}
            annotations = {k: v for k, v in now.items() if k in SKIP_ANNOTATIONS}
            annotations.update(
                {k: v for k, v in target.annotations.items() if k not in SKIP_ANNOTATIONS}
            )
            body: Any = [
                {"op": "replace", "path": "/spec/template", "value": target.template},
                {"op": "replace", "path": "/metadata/annotations", "value": annotations},
            ]
            ctype = JSON_PATCH
        else:
            body = {"spec": {"template": {**target.template, "$patch": "replace"}}}
            ctype = STRATEGIC
        patched = await read_json(
            await patch(name, namespace, body, _content_type=ctype, _request_timeout=TIMEOUT)
        )
    except Exception as e:
        return step.failed(e)
    generation = int((patched.get("metadata") or {}).get("generation") or 0)
    was = before.words() if before else "the current revision"
    text = f"rolled back {ref} in {namespace} from {was} to {target.words()}"
    revert = command(kind, name, namespace, before.number) if before else ""
    return step.result(
        True,
        text,
        revert,
        seen={"kind": kind, "generation": generation, "images": list(target.images)},
        record={
            "to_revision": target.number,
            "from_revision": before.number if before else None,
            "image": target.images[0] if target.images else None,
            "images": list(target.images),
            "from_images": list(before.images) if before else [],
        },
    )


async def set_paused(
    api: ApiClient | ApiGetter, namespace: str, kind: str, name: str, paused: bool
) -> ActionResult:
    """`kubectl rollout pause` (paused=True) or `resume`, with kubectl's refusals."""
    resource = WORKLOADS.get(kind, (kind.lower(), ""))[0]
    word = "pausing" if paused else "resuming"
    step = Step(namespace, "get", resource, name)
    try:
        if kind != "Deployment":
            raise Refused(f'{resource}.apps "{name}" {word} is not supported')
        from kubernetes.aio import client as k8s

        apps = k8s.AppsV1Api(await client(api))
        obj = await read_json(
            await apps.read_namespaced_deployment_without_preload_content(
                name, namespace, _request_timeout=TIMEOUT
            )
        )
        if bool((obj.get("spec") or {}).get("paused")) == paused:
            state = "already paused" if paused else "not paused"
            raise Refused(f'deployments.apps "{name}" is {state}')
        step.at("patch", resource, name)
        body = {"spec": {"paused": True if paused else None}}
        patched = await read_json(
            await apps.patch_namespaced_deployment_without_preload_content(
                name, namespace, body, _content_type=STRATEGIC, _request_timeout=TIMEOUT
            )
        )
    except Exception as e:
        return step.failed(e)
    ref = f"deployment/{name}"
    generation = int((patched.get("metadata") or {}).get("generation") or 0)
    verb, back = ("paused", "resume") if paused else ("resumed", "pause")
    return step.result(
        True,
        f"rollout of {ref} in {namespace} {verb}",
        f"kubectl rollout {back} {ref} -n {namespace}",
        seen={"kind": kind, "generation": generation, "paused": paused},
        record={"paused": paused},
    )
