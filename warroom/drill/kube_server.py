"""A loopback Kubernetes API server (aiohttp) over the simulated cluster.

Enough of the real API for kubectl and the official clients: discovery and OpenAPI, list/get/
watch with selectors, pagination and Table output, pod delete, eviction and logs, events,
workload patch and scale, bearer-token auth with a read-only user that gets RBAC-shaped 403s.
Request bodies may be JSON, YAML or (for the kinds kubectl sends that way) protobuf.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

from aiohttp import web

from warroom.drill.cluster import Cluster
from warroom.drill.kube_authz import AuthzHandlers
from warroom.drill.kube_create import CreateHandlers
from warroom.drill.kube_discovery import DiscoveryHandlers
from warroom.drill.kube_evict import EvictionHandlers
from warroom.drill.kube_http import (
    PUBLIC,
    READ_VERBS,
    USER,
    ApiError,
    Target,
    User,
    json_response,
    status_body,
    truthy,
)
from warroom.drill.kube_logs import LogHandlers
from warroom.drill.kube_read import ReadHandlers
from warroom.drill.kube_write import WriteHandlers
from warroom.drill.openapi_paths import group_prefix
from warroom.drill.resources import GROUPS, SUBRESOURCES, find

# The User-Agent of the request being served: trigger hooks run inside the handler, so they can
# tell the console's own changes (which it records itself) from kubectl's (drill/recorder.py).
REQUEST_AGENT: contextvars.ContextVar[str] = contextvars.ContextVar("request_agent", default="")

__all__ = ["KubeServer", "User"]
METHOD_VERB = {
    "GET": "get",
    "DELETE": "delete",
    "PATCH": "patch",
    "PUT": "update",
    "POST": "create",
}


class KubeServer(
    DiscoveryHandlers,
    AuthzHandlers,
    ReadHandlers,
    WriteHandlers,
    CreateHandlers,
    EvictionHandlers,
    LogHandlers,
):
    def __init__(
        self,
        cluster: Cluster,
        tokens: dict[str, User],
        *,
        bookmark_interval: float = 60.0,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self.c = cluster
        self.tokens = tokens
        self.bookmark_interval = bookmark_interval
        self.stopping = stopping or asyncio.Event()
        self.url = ""

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        self.add_discovery_routes(r)
        for group in GROUPS:
            r.add_route("*", group_prefix(group) + "/{tail:.+}", self._dispatcher(group))
        return app

    # --- middleware: errors and auth -------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        REQUEST_AGENT.set(request.headers.get("User-Agent", ""))
        try:
            if request.path not in PUBLIC:
                request[USER] = self._authenticate(request)
            return await handler(request)
        except ApiError as e:
            return json_response(status_body(e.code, e.reason, e.message, e.details), e.code)
        except web.HTTPException as e:
            if e.status == 404:
                body = status_body(
                    404, "NotFound", "the server could not find the requested resource", {}
                )
                return json_response(body, 404)
            if e.status == 405:
                body = status_body(
                    405,
                    "MethodNotAllowed",
                    "the server does not allow this method on the requested resource",
                    {},
                )
                return json_response(body, 405)
            raise

    def _authenticate(self, request: web.Request) -> User:
        auth = request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        user = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if user is None:
            raise ApiError(401, "Unauthorized", "Unauthorized")
        return user

    # --- dispatch --------------------------------------------------------------------------

    def _target(self, group: str, tail: str) -> Target:
        parts = [p for p in tail.split("/") if p]
        ns: str | None = None
        if len(parts) >= 3 and parts[0] == "namespaces":
            ns, parts = parts[1], parts[2:]
        res = find(group, parts[0]) if parts else None
        if res is None or len(parts) > 3:
            raise web.HTTPNotFound()
        if ns is not None and not res.namespaced:
            raise web.HTTPNotFound()
        name = parts[1] if len(parts) > 1 else None
        sub = parts[2] if len(parts) > 2 else None
        if sub is not None and sub not in res.subresources:
            raise web.HTTPNotFound()
        if res.namespaced and ns is None and name is not None:
            raise web.HTTPNotFound()
        # A namespace that does not exist holds nothing: lists are empty and gets are 404s of
        # the object, as on a real server.
        return Target(res, ns, name, sub)

    def _dispatcher(self, group: str) -> Any:
        async def dispatch(request: web.Request) -> web.StreamResponse:
            return await self._dispatch(request, self._target(group, request.match_info["tail"]))

        return dispatch

    @staticmethod
    def _not_allowed(m: str) -> web.HTTPMethodNotAllowed:
        return web.HTTPMethodNotAllowed(m, ["GET"])

    async def _dispatch(self, request: web.Request, t: Target) -> web.StreamResponse:
        m = request.method
        verb = METHOD_VERB.get(m)
        if verb is None:
            raise self._not_allowed(m)
        if t.name is None:
            if m == "POST" and not t.res.stored:
                self._authorize(request, verb, t)
                return await self.review(request, t)
            if m == "POST" and "create" in t.res.verbs:
                self._authorize(request, verb, t)
                return await self.create(request, t)
            if m != "GET" or not t.res.stored:
                raise self._not_allowed(m)
            verb = "watch" if truthy(request.query.get("watch")) else "list"
            self._authorize(request, verb, t)
            if verb == "watch":
                return await self.watch(request, t)
            return self.list(request, t)
        if t.sub is not None:
            if verb not in SUBRESOURCES[t.sub].verbs:
                raise self._not_allowed(m)
        elif verb not in READ_VERBS and verb not in t.res.verbs:
            raise self._not_allowed(m)
        self._authorize(request, verb, t)
        if t.sub == "log":
            return await self.pod_log(request, t)
        if t.sub == "eviction":
            return await self.evict(request, t)
        if t.sub == "scale":
            return await self.scale(request, t, verb)
        if verb == "get":
            return self.get(request, t)
        if verb == "delete":
            if t.res.plural != "pods":
                return self.delete_object(request, t)
            return await self.delete(request, t)
        return await self.update(request, t, verb)
