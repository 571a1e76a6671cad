"""HTTP plumbing shared by the drill API server's handlers: users, errors, Status bodies."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml
from aiohttp import web

from warroom.drill import protobuf
from warroom.drill.patch import APPLY
from warroom.drill.resources import Resource
from warroom.drill.store import Entry, dumps

if TYPE_CHECKING:
    from warroom.drill.cluster import Cluster

VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.4",
    "gitCommit": "a78aa47129b8539636eb86a9d00e31b2720fe06b",
    "gitTreeState": "clean",
    "buildDate": "2024-12-10T11:37:53Z",
    "goVersion": "go1.22.9",
    "compiler": "gc",
    "platform": "linux/amd64",
}
PUBLIC = {"/version", "/version/", "/healthz", "/livez", "/readyz"}
READ_VERBS = {"get", "list", "watch"}


@dataclass(frozen=True, slots=True)
class User:
    name: str
    read_only: bool


USER = web.RequestKey("user", User)


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details


def status_body(
    code: int, reason: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
    }
    if details is not None:
        body["details"] = details
    body["code"] = code
    return body


def json_response(obj: Any, status: int = 200) -> web.Response:
    return web.Response(body=dumps(obj), status=status, content_type="application/json")


def truthy(v: str | None) -> bool:
    return (v or "").lower() in ("1", "true", "yes")


def int_param(q: Any, name: str) -> int | None:
    v = q.get(name)
    if v in (None, ""):
        return None
    try:
        return int(v)
    except ValueError:
        raise ApiError(400, "BadRequest", f"invalid {name}: {v!r}") from None


@dataclass(slots=True)
class Target:
    res: Resource
    namespace: str | None
    name: str | None
    sub: str | None


def accept_mode(request: web.Request) -> str:
    """'table', 'partial' or 'json' from the first acceptable media range."""
    for rng in request.headers.get("Accept", "").split(","):
        params = dict(p.strip().split("=", 1) for p in rng.split(";")[1:] if "=" in p)
        if params.get("g") == "meta.k8s.io" and params.get("as") == "Table":
            return "table"
        if params.get("g") == "meta.k8s.io" and params.get("as", "").startswith(
            "PartialObjectMetadata"
        ):
            return "partial"
        if rng.strip().startswith(("application/json", "*/*")):
            return "json"
    return "json"


JSON = "application/json"
YAML = "application/yaml"
PROTOBUF = "application/vnd.kubernetes.protobuf"
# What NegotiateInputSerializer offers for built-in kinds, in its order.
ACCEPTED = (JSON, YAML, PROTOBUF)


def unsupported_media_type(accepted: tuple[str, ...] = ACCEPTED) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


async def read_body(request: web.Request) -> Any:
    """The request body as JSON data, whichever of JSON, YAML or protobuf it came in."""
    raw = await request.read()
    if not raw:
        return None
    media = request.headers.get("Content-Type", JSON).split(";")[0].strip().lower()
    if media == PROTOBUF:
        try:
            return protobuf.decode(raw)
        except protobuf.ProtobufError as e:
            if e.unsupported:  # a kind we hold no message table for: as for a CRD
                raise unsupported_media_type((JSON, YAML)) from None
            raise ApiError(400, "BadRequest", f"unable to decode the protobuf body: {e}") from None
    try:
        if media in (YAML, APPLY):
            return yaml.safe_load(raw)
        if media == JSON or media.endswith("+json"):
            return json.loads(raw)
    except (ValueError, yaml.YAMLError) as e:  # one line, with the line and column it names
        why = " ".join(str(e).split())
        raise ApiError(400, "BadRequest", f"the body of the request is not valid: {why}") from None
    raise unsupported_media_type()


def not_found(t: Target) -> ApiError:
    details: dict[str, Any] = {"name": t.name, "kind": t.res.plural}
    if t.res.group:
        details = {"name": t.name, "group": t.res.group, "kind": t.res.plural}
    return ApiError(404, "NotFound", f'{t.res.group_resource} "{t.name}" not found', details)


class HandlerBase:
    """What the handler mixins share: the cluster, the stop signal, object lookup."""

    c: Cluster
    stopping: asyncio.Event

    def _entry(self, t: Target) -> Entry:
        e = self.c.store.entry(t.res.plural, t.namespace or "", t.name or "")
        if e is None:
            raise not_found(t)
        return e
