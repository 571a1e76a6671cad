"""Objects responders create and delete through the drill API server: NetworkPolicies (a
quarantine's deny-all policy). Create answers 201 with the stored object, or 409 AlreadyExists;
delete answers a Success Status, as the API server's generic registry does for kinds that do
not return the deleted object. The table printer is kubectl's (NAME, POD-SELECTOR, AGE).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from aiohttp import web

from warroom.drill.kube_http import (
    ApiError,
    HandlerBase,
    Target,
    json_response,
    not_found,
    read_body,
)
from warroom.drill.kube_write import field_validation, with_warnings
from warroom.drill.table_cells import AGE, NAME, age, col
from warroom.drill.tables import COLUMNS

# Kinds created here, with what the cluster hears about a change to them.
CREATABLE = ("networkpolicies",)


class CreateHandlers(HandlerBase):
    async def create(self, request: web.Request, t: Target) -> web.Response:
        body = await read_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the body of the request must be an object")
        res = t.res
        if body.get("kind", res.kind) != res.kind or body.get("apiVersion", res.api_version) != (
            res.api_version
        ):
            raise ApiError(
                400,
                "BadRequest",
                f"the API version in the data ({body.get('apiVersion')}) does not match the "
                f"expected API version ({res.api_version})",
            )
        warnings = field_validation(request, body, res.definition)
        meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        name = meta.get("name") or ""
        if not name and meta.get("generateName"):
            name = f"{meta['generateName']}{self.c.suffix()}"
        if not name:
            raise ApiError(
                422,
                "Invalid",
                f'{res.kind}.{res.group} "" is invalid: metadata.name: Required value',
            )
        ns = t.namespace or ""
        if meta.get("namespace") not in (None, ns):
            raise ApiError(
                400,
                "BadRequest",
                "the namespace of the provided object does not match the namespace sent on "
                "the request",
            )
        if self.c.store.get(res.plural, ns, name) is not None:
            raise ApiError(
                409,
                "AlreadyExists",
                f'{res.group_resource} "{name}" already exists',
                {"name": name, "group": res.group, "kind": res.plural},
            )
        obj = copy.deepcopy(body)
        keep = {k: meta[k] for k in ("labels", "annotations", "generateName") if meta.get(k)}
        obj["metadata"] = {"name": name, "namespace": ns, **keep, "generation": 1}
        obj.setdefault("spec", {})
        if request.query.get("dryRun"):
            return with_warnings(json_response(obj, 201), warnings)
        created = self.c.store.create(res.plural, obj)
        self.c.isolation.policy_changed(created)
        return with_warnings(json_response(created, 201), warnings)

    def delete_object(self, request: web.Request, t: Target) -> web.Response:
        e = self._entry(t)
        if request.query.get("dryRun"):
            return web.Response(body=e.raw, content_type="application/json")
        gone = self.c.store.delete(t.res.plural, t.namespace or "", t.name or "")
        if gone is None:
            raise not_found(t)
        self.c.isolation.policy_deleted(gone)
        details = {
            "name": t.name,
            "group": t.res.group,
            "kind": t.res.plural,
            "uid": gone["metadata"]["uid"],
        }
        return json_response(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": details,
            }
        )


def _netpol_row(p: dict[str, Any], now: datetime) -> list[Any]:
    sel = (p.get("spec") or {}).get("podSelector") or {}
    parts = [f"{k}={v}" for k, v in sorted((sel.get("matchLabels") or {}).items())]
    for e in sel.get("matchExpressions") or []:
        values = ",".join(e.get("values") or [])
        parts.append(f"{e.get('key')} {str(e.get('operator', '')).lower()} ({values})")
    return [
        p["metadata"]["name"],
        ",".join(parts) or "<none>",
        age(p["metadata"].get("creationTimestamp"), now),
    ]


COLUMNS["networkpolicies"] = (
    [NAME, col("Pod-Selector", desc="The pods the policy applies to"), AGE],
    _netpol_row,
)
