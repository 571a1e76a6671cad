"""Write handlers of the drill API server: pod delete, workload patch/update, scale."""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from warroom.drill.kube_http import (
    ApiError,
    HandlerBase,
    Target,
    int_param,
    json_response,
    not_found,
    read_body,
)
from warroom.drill.openapi import unknown_fields
from warroom.drill.patch import APPLY, PatchError, apply_patch

VALIDATION = ("Ignore", "Warn", "Strict")


def field_validation(request: web.Request, obj: Any, definition: str) -> list[str]:
    """Drop the fields the kind does not declare, as the API server's decoder does; with
    `fieldValidation=Strict` refuse them instead, with `Warn` (the default) name them in
    Warning headers."""
    mode = request.query.get("fieldValidation") or "Warn"
    if mode not in VALIDATION:
        raise ApiError(
            400,
            "BadRequest",
            f'fieldValidation "{mode}" is not a valid value: must be one of '
            + ", ".join(VALIDATION),
        )
    unknown = unknown_fields(obj, definition) if isinstance(obj, dict) else []
    texts = [f'unknown field "{u}"' for u in unknown]
    if texts and mode == "Strict":
        raise ApiError(400, "BadRequest", "strict decoding error: " + ", ".join(texts))
    return texts if mode == "Warn" else []


def with_warnings(resp: web.Response, warnings: list[str]) -> web.Response:
    for w in warnings:
        resp.headers.add("Warning", '299 - "' + w.replace('"', '\\"') + '"')
    return resp


class WriteHandlers(HandlerBase):
    async def delete(self, request: web.Request, t: Target) -> web.Response:
        e = self._entry(t)
        opts = await read_body(request) or {}
        grace = int_param(request.query, "gracePeriodSeconds")
        if isinstance(opts, dict) and opts.get("gracePeriodSeconds") is not None:
            grace = int(opts["gracePeriodSeconds"])
        pre = (opts.get("preconditions") or {}) if isinstance(opts, dict) else {}
        meta = e.obj["metadata"]
        for k, mine in (("uid", meta["uid"]), ("resourceVersion", meta["resourceVersion"])):
            if pre.get(k) and pre[k] != mine:
                raise ApiError(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on {t.res.plural} "{t.name}": Precondition '
                    f"failed: {k}: {pre[k]}, ObjectMeta.{k[0].upper() + k[1:]}: {mine}",
                )
        if request.query.get("dryRun") or (isinstance(opts, dict) and opts.get("dryRun")):
            return web.Response(body=e.raw, content_type="application/json")
        obj = self.c.delete_pod(t.namespace or "", t.name or "", grace)
        if obj is None:
            raise not_found(t)
        return json_response(obj)

    async def update(self, request: web.Request, t: Target, verb: str) -> web.Response:
        e = self._entry(t)
        body = await read_body(request)
        old = copy.deepcopy(e.obj)
        ctype = request.headers.get("Content-Type", "")
        if verb == "patch":
            if ctype.startswith(APPLY):
                raise ApiError(
                    415,
                    "UnsupportedMediaType",
                    "server-side apply is not supported by the drill server",
                )
            try:
                new = apply_patch(ctype, copy.deepcopy(e.obj), body)
            except PatchError as err:
                code = 415 if "unsupported" in str(err) else 422
                raise ApiError(
                    code, "UnsupportedMediaType" if code == 415 else "Invalid", str(err)
                ) from None
        else:
            if not isinstance(body, dict):
                raise ApiError(400, "BadRequest", "the body of the request must be an object")
            new = body
        warnings = field_validation(request, new, t.res.definition)
        self._validate(t, old, new, verb)
        if t.sub == "status":
            return json_response(old)  # status is the controllers' business here
        if "status" in old:
            new["status"] = old["status"]
        if request.query.get("dryRun"):
            return with_warnings(json_response(new), warnings)
        kind = t.res.plural
        if kind in ("deployments", "statefulsets", "daemonsets"):
            self.c.update_workload(kind, old, new)
        elif kind == "networkpolicies":  # the whole object is the responder's
            live = e.obj
            live["metadata"]["labels"] = new["metadata"].get("labels") or {}
            if new.get("spec") != live.get("spec"):
                live["spec"] = new.get("spec") or {}
                live["metadata"]["generation"] = live["metadata"].get("generation", 1) + 1
            self.c.store.put(kind, live)
            self.c.isolation.policy_changed(live)
        else:  # pods, nodes, replicasets: metadata (and node cordon) only
            live = e.obj
            live["metadata"]["labels"] = new["metadata"].get("labels") or {}
            if new["metadata"].get("annotations"):
                live["metadata"]["annotations"] = new["metadata"]["annotations"]
            else:
                live["metadata"].pop("annotations", None)
            if kind == "nodes":
                live["spec"]["unschedulable"] = bool((new.get("spec") or {}).get("unschedulable"))
                if not live["spec"]["unschedulable"]:
                    del live["spec"]["unschedulable"]
                self.c.node_taints(live)
            if kind == "replicasets" and new["spec"].get("replicas") != old["spec"].get("replicas"):
                live["spec"]["replicas"] = new["spec"]["replicas"]
            self.c.store.put(kind, live)
            if kind == "pods" and old["metadata"].get("labels") != live["metadata"]["labels"]:
                self.c.isolation.relabelled(live)  # out of (or back into) its ReplicaSet
            self.c.kick()
        current = self.c.store.get(kind, t.namespace or "", t.name or "")
        return with_warnings(json_response(current), warnings)

    def _validate(self, t: Target, old: dict[str, Any], new: dict[str, Any], verb: str) -> None:
        meta = new.get("metadata") if isinstance(new.get("metadata"), dict) else None
        if meta is None:
            raise ApiError(
                422, "Invalid", f'{t.res.kind} "{t.name}" is invalid: metadata: Required value'
            )
        om = old["metadata"]
        for k in ("name", "namespace", "uid"):
            if meta.get(k, om.get(k)) != om.get(k):
                raise ApiError(
                    422,
                    "Invalid",
                    f'{t.res.kind} "{t.name}" is invalid: metadata.{k}: '
                    f'Invalid value: "{meta.get(k)}": field is immutable',
                )
        rv = meta.get("resourceVersion")
        if rv and rv != om["resourceVersion"]:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {t.res.group_resource} "{t.name}": the object '
                "has been modified; please apply your changes to the latest version and try again",
                {"name": t.name, "kind": t.res.plural},
            )
        for k in ("uid", "creationTimestamp", "resourceVersion", "ownerReferences", "generation"):
            if k in om:
                meta[k] = om[k]
        new.setdefault("apiVersion", old["apiVersion"])
        new.setdefault("kind", old["kind"])
        spec = new.get("spec")
        if t.res.plural in ("deployments", "statefulsets", "daemonsets"):
            if not isinstance(spec, dict) or not isinstance(spec.get("template"), dict):
                raise ApiError(
                    422,
                    "Invalid",
                    f'{t.res.kind}.apps "{t.name}" is invalid: spec.template: Required value',
                )
            if spec.get("selector") != old["spec"].get("selector"):
                raise ApiError(
                    422,
                    "Invalid",
                    f'{t.res.kind}.apps "{t.name}" is invalid: '
                    "spec.selector: Invalid value: field is immutable",
                )
            r = spec.get("replicas", 1)
            if isinstance(r, bool) or not isinstance(r, int) or r < 0:
                raise ApiError(
                    422,
                    "Invalid",
                    f'{t.res.kind}.apps "{t.name}" is invalid: spec.replicas: '
                    f"Invalid value: {r}: must be greater than or equal to 0",
                )
            if spec.get("paused") is False:
                del spec["paused"]

    async def scale(self, request: web.Request, t: Target, verb: str) -> web.Response:
        e = self._entry(t)
        obj = e.obj

        def as_scale(o: dict[str, Any]) -> dict[str, Any]:
            m = o["metadata"]
            ml = o["spec"].get("selector", {}).get("matchLabels", {})
            return {
                "kind": "Scale",
                "apiVersion": "autoscaling/v1",
                "metadata": {
                    k: m[k]
                    for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                    if k in m
                },
                "spec": {"replicas": o["spec"].get("replicas", 1)},
                "status": {
                    "replicas": (o.get("status") or {}).get("replicas", 0),
                    "selector": ",".join(f"{k}={v}" for k, v in ml.items()),
                },
            }

        current = as_scale(obj)
        if verb == "get":
            return json_response(current)
        body = await read_body(request)
        if verb == "patch":
            try:
                new = apply_patch(request.headers.get("Content-Type", ""), current, body)
            except PatchError as err:
                raise ApiError(422, "Invalid", str(err)) from None
        else:
            new = body if isinstance(body, dict) else {}
        warnings = field_validation(request, new, "io.k8s.api.autoscaling.v1.Scale")
        replicas = (new.get("spec") or {}).get("replicas")
        if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 0:
            raise ApiError(
                422,
                "Invalid",
                f'Scale.autoscaling "{t.name}" is invalid: spec.replicas: '
                f"Invalid value: {replicas}: must be greater than or equal to 0",
            )
        old = copy.deepcopy(obj)
        updated = copy.deepcopy(obj)
        updated["spec"]["replicas"] = replicas
        if t.res.plural == "replicasets":
            obj["spec"]["replicas"] = replicas
            self.c.store.put("replicasets", obj)
            self.c.kick()
        else:
            self.c.update_workload(t.res.plural, old, updated)
        current = self.c.store.get(t.res.plural, t.namespace or "", t.name or "") or obj
        return with_warnings(json_response(as_scale(current)), warnings)
