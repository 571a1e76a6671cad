"""The pods/eviction subresource (policy/v1 Eviction), as `kubectl drain` uses it: the pod's
disruption budget is checked (429 with the API server's message when it would break), then
the pod is deleted with the eviction's DeleteOptions; a dry run checks and changes nothing."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from warroom.drill.disruption import Refusal
from warroom.drill.kube_http import (
    ApiError,
    HandlerBase,
    Target,
    json_response,
    not_found,
    read_body,
)


class EvictionHandlers(HandlerBase):
    async def evict(self, request: web.Request, t: Target) -> web.Response:
        body = await read_body(request)
        if not isinstance(body, dict) or body.get("kind", "Eviction") != "Eviction":
            raise ApiError(400, "BadRequest", "the body of the request must be an Eviction")
        meta = body.get("metadata") or {}
        if meta.get("name") and meta["name"] != t.name:
            raise ApiError(400, "BadRequest", "name in URL does not match name in Eviction object")
        opts: dict[str, Any] = body.get("deleteOptions") or {}
        dry_run = bool(request.query.getall("dryRun", [])) or bool(opts.get("dryRun"))
        e = self._entry(t)
        pod = e.obj
        pre = opts.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != pod["metadata"]["uid"]:
            raise ApiError(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on Pod "{t.name}": The object might have been '
                "deleted and then recreated",
            )
        try:
            self.c.disruption.check(pod, dry_run)
        except Refusal as r:
            raise ApiError(r.code, r.reason, r.message, r.details) from None
        if not dry_run:
            grace = opts.get("gracePeriodSeconds")
            if self.c.delete_pod(t.namespace or "", t.name or "", grace) is None:
                raise not_found(t)
        success = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
        return json_response({**success, "code": 201}, 201)
