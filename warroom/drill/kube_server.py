"""A loopback Kubernetes API server (aiohttp) over the simulated cluster.

Enough of the real API for kubectl and the official clients: discovery, list/get/watch with
selectors, pagination and Table output, pod delete and logs, events, workload patch and scale,
bearer-token auth with a read-only user that gets RBAC-shaped 403s.
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import json
from typing import Any

from aiohttp import web

from warroom.drill import tables
from warroom.drill.cluster import Cluster
from warroom.drill.kube_http import (
    AUTHZ,
    PUBLIC,
    READ_VERBS,
    USER,
    VERSION,
    ApiError,
    Target,
    User,
    accept_mode,
    int_param,
    json_response,
    read_body,
    status_body,
    truthy,
)
from warroom.drill.kube_logs import LogHandlers
from warroom.drill.kube_write import WriteHandlers
from warroom.drill.resources import RESOURCES, Resource
from warroom.drill.selectors import SelectorError, field_matcher, label_matcher
from warroom.drill.store import Entry, Expired, dumps

# The User-Agent of the request being served: trigger hooks run inside the handler, so they can
# tell the console's own changes (which it records itself) from kubectl's (drill/recorder.py).
REQUEST_AGENT: contextvars.ContextVar[str] = contextvars.ContextVar("request_agent", default="")

__all__ = ["KubeServer", "User"]


class KubeServer(WriteHandlers, LogHandlers):
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
        r.add_get("/version", self.version)
        r.add_get("/version/", self.version)
        for p in ("/healthz", "/livez", "/readyz"):
            r.add_get(p, self.health)
        # The generated clients ask for discovery with a trailing slash: serve both spellings.
        for path, handler in (
            ("/api", self.api_versions),
            ("/apis", self.api_groups),
            ("/apis/apps", self.apps_group),
            ("/api/v1", self.resource_list_core),
            ("/apis/apps/v1", self.resource_list_apps),
        ):
            r.add_get(path, handler)
            r.add_get(path + "/", handler)
        r.add_route("*", "/api/v1/{tail:.+}", self.dispatch_core)
        r.add_route("*", "/apis/apps/v1/{tail:.+}", self.dispatch_apps)
        r.add_get(f"/apis/{AUTHZ}/v1", self.authz_resources)
        r.add_get(f"/apis/{AUTHZ}/v1/", self.authz_resources)
        r.add_post(f"/apis/{AUTHZ}/v1/selfsubjectaccessreviews", self.access_review)
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

    def _authorize(self, request: web.Request, verb: str, t: Target) -> None:
        user = request[USER]
        if not user.read_only or verb in READ_VERBS:
            return
        resource = f"{t.res.plural}/{t.sub}" if t.sub else t.res.plural
        who = f'{t.res.group_resource} "{t.name}"' if t.name else t.res.group_resource
        scope = f'in the namespace "{t.namespace}"' if t.namespace else "at the cluster scope"
        msg = (
            f'{who} is forbidden: User "{user.name}" cannot {verb} resource "{resource}" '
            f'in API group "{t.res.group}" {scope}'
        )
        details: dict[str, Any] = {"kind": t.res.plural}
        if t.name:
            details = {
                "name": t.name,
                **({"group": t.res.group} if t.res.group else {}),
                "kind": t.res.plural,
            }
        elif t.res.group:
            details["group"] = t.res.group
        raise ApiError(403, "Forbidden", msg, details)

    # --- discovery -------------------------------------------------------------------------

    async def version(self, request: web.Request) -> web.Response:
        return json_response(VERSION)

    async def health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def api_versions(self, request: web.Request) -> web.Response:
        host = request.host
        return json_response(
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}],
            }
        )

    @staticmethod
    def _group(name: str = "apps") -> dict[str, Any]:
        gv = {"groupVersion": f"{name}/v1", "version": "v1"}
        return {"name": name, "versions": [gv], "preferredVersion": gv}

    async def api_groups(self, request: web.Request) -> web.Response:
        groups = [self._group(), self._group(AUTHZ)]
        return json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})

    async def authz_resources(self, request: web.Request) -> web.Response:
        res = {
            "name": "selfsubjectaccessreviews",
            "singularName": "selfsubjectaccessreview",
            "namespaced": False,
            "kind": "SelfSubjectAccessReview",
            "verbs": ["create"],
        }
        body = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": f"{AUTHZ}/v1"}
        return json_response({**body, "resources": [res]})

    async def access_review(self, request: web.Request) -> web.Response:
        """SelfSubjectAccessReview, so `kubectl auth can-i` and clients can ask up front."""
        body = await read_body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the body of the request must be an object")
        attrs = (body.get("spec") or {}).get("resourceAttributes") or {}
        user = request[USER]
        allowed = not user.read_only or attrs.get("verb", "") in READ_VERBS
        status: dict[str, Any] = {"allowed": allowed}
        if allowed:
            role = "view" if user.read_only else "cluster-admin"
            status["reason"] = (
                f'RBAC: allowed by ClusterRoleBinding "{user.name}" of ClusterRole "{role}" '
                f'to User "{user.name}"'
            )
        out = {
            "kind": "SelfSubjectAccessReview",
            "apiVersion": f"{AUTHZ}/v1",
            "metadata": {"creationTimestamp": None},
            "spec": body.get("spec") or {},
            "status": status,
        }
        return json_response(out, 201)

    async def apps_group(self, request: web.Request) -> web.Response:
        return json_response({"kind": "APIGroup", "apiVersion": "v1", **self._group()})

    def _resource_list(self, group: str) -> dict[str, Any]:
        out = []
        for r in RESOURCES.values():
            if r.group != group:
                continue
            entry: dict[str, Any] = {
                "name": r.plural,
                "singularName": r.singular,
                "namespaced": r.namespaced,
                "kind": r.kind,
                "verbs": list(r.verbs),
            }
            if r.short_names:
                entry["shortNames"] = list(r.short_names)
            if r.categories:
                entry["categories"] = list(r.categories)
            out.append(entry)
            for sub in r.subresources:
                s: dict[str, Any] = {
                    "name": f"{r.plural}/{sub}",
                    "singularName": "",
                    "namespaced": r.namespaced,
                    "kind": r.kind,
                    "verbs": ["get"] if sub == "log" else ["get", "patch", "update"],
                }
                if sub == "scale":
                    s.update(kind="Scale", group="autoscaling", version="v1")
                out.append(s)
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{group}/v1" if group else "v1",
            "resources": out,
        }

    async def resource_list_core(self, request: web.Request) -> web.Response:
        return json_response(self._resource_list(""))

    async def resource_list_apps(self, request: web.Request) -> web.Response:
        return json_response(self._resource_list("apps"))

    # --- dispatch --------------------------------------------------------------------------

    def _target(self, group: str, tail: str) -> Target:
        parts = [p for p in tail.split("/") if p]
        ns: str | None = None
        if len(parts) >= 3 and parts[0] == "namespaces":
            ns, parts = parts[1], parts[2:]
        res = RESOURCES.get(parts[0]) if parts else None
        if res is None or res.group != group or len(parts) > 3:
            raise web.HTTPNotFound()
        if ns is not None and not res.namespaced:
            raise web.HTTPNotFound()
        if ns is not None and self.c.store.get("namespaces", "", ns) is None:
            raise ApiError(
                404, "NotFound", f'namespaces "{ns}" not found', {"name": ns, "kind": "namespaces"}
            )
        name = parts[1] if len(parts) > 1 else None
        sub = parts[2] if len(parts) > 2 else None
        if sub is not None and sub not in res.subresources:
            raise web.HTTPNotFound()
        if res.namespaced and ns is None and name is not None:
            raise web.HTTPNotFound()
        return Target(res, ns, name, sub)

    async def dispatch_core(self, request: web.Request) -> web.StreamResponse:
        return await self._dispatch(request, self._target("", request.match_info["tail"]))

    async def dispatch_apps(self, request: web.Request) -> web.StreamResponse:
        return await self._dispatch(request, self._target("apps", request.match_info["tail"]))

    async def _dispatch(self, request: web.Request, t: Target) -> web.StreamResponse:
        m = request.method
        if t.name is None:
            if m != "GET":
                raise web.HTTPMethodNotAllowed(m, ["GET"])
            verb = "watch" if truthy(request.query.get("watch")) else "list"
            self._authorize(request, verb, t)
            if verb == "watch":
                return await self.watch(request, t)
            return self.list(request, t)
        verb = {"GET": "get", "DELETE": "delete", "PATCH": "patch", "PUT": "update"}.get(m)
        if verb is None or (verb not in READ_VERBS and verb not in t.res.verbs and not t.sub):
            raise web.HTTPMethodNotAllowed(m, ["GET"])
        self._authorize(request, verb, t)
        if t.sub == "log":
            if verb != "get":
                raise web.HTTPMethodNotAllowed(m, ["GET"])
            return await self.pod_log(request, t)
        if t.sub == "scale":
            return await self.scale(request, t, verb)
        if verb == "get":
            return self.get(request, t)
        if verb == "delete":
            if t.res.plural != "pods" or t.sub:
                raise web.HTTPMethodNotAllowed(m, ["GET"])
            return await self.delete(request, t)
        return await self.update(request, t, verb)

    # --- read ------------------------------------------------------------------------------

    def _matchers(self, request: web.Request, res: Resource) -> tuple[Any, Any]:
        try:
            return (
                label_matcher(request.query.get("labelSelector")),
                field_matcher(request.query.get("fieldSelector"), res.fields),
            )
        except SelectorError as e:
            raise ApiError(400, "BadRequest", str(e)) from None

    def get(self, request: web.Request, t: Target) -> web.Response:
        e = self._entry(t)
        mode = accept_mode(request)
        if mode == "table" and t.res.plural in tables.COLUMNS:
            rv = e.obj["metadata"]["resourceVersion"]
            return json_response(
                tables.table(t.res.plural, [e.obj], self.c.clock.now(), rv, self._include(request))
            )
        if mode == "partial":
            return json_response(tables.partial_meta(e.obj))
        return web.Response(body=e.raw, content_type="application/json")

    @staticmethod
    def _include(request: web.Request) -> str:
        return request.query.get("includeObject", "Metadata")

    def list(self, request: web.Request, t: Target) -> web.Response:
        lm, fm = self._matchers(request, t.res)
        rv = str(self.c.store.resource_version)
        entries = [
            e
            for e in self.c.store.entries(t.res.plural, t.namespace)
            if lm(e.labels) and fm(e.fields)
        ]
        limit = int_param(request.query, "limit") or 0
        token = request.query.get("continue")
        if token:
            try:
                start = json.loads(base64.urlsafe_b64decode(token.encode()))
                rv = str(start["rv"])
                after = tuple(start["start"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(400, "BadRequest", "continue key is not valid") from None
            entries = [e for e in entries if self._key(e) > after]
        cont, remaining = "", None
        if limit and len(entries) > limit:
            last = self._key(entries[limit - 1])
            remaining = len(entries) - limit
            entries = entries[:limit]
            cont = base64.urlsafe_b64encode(
                json.dumps({"rv": int(rv), "start": list(last)}).encode()
            ).decode()
        mode = accept_mode(request)
        if mode == "table" and t.res.plural in tables.COLUMNS:
            body = tables.table(
                t.res.plural,
                [e.obj for e in entries],
                self.c.clock.now(),
                rv,
                self._include(request),
                cont,
                remaining,
            )
            return json_response(body)
        meta: dict[str, Any] = {"resourceVersion": rv}
        if cont:
            meta["continue"] = cont
            meta["remainingItemCount"] = remaining
        if mode == "partial":
            body = {
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": meta,
                "items": [tables.partial_meta(e.obj) for e in entries],
            }
            return json_response(body)
        head = dumps(
            {"kind": f"{t.res.kind}List", "apiVersion": t.res.api_version, "metadata": meta}
        )
        raw = head[:-1] + b',"items":[' + b",".join(e.raw for e in entries) + b"]}"
        return web.Response(body=raw, content_type="application/json")

    @staticmethod
    def _key(e: Entry) -> tuple[str, str]:
        meta = e.obj["metadata"]
        return (meta.get("namespace", ""), meta["name"])

    async def watch(self, request: web.Request, t: Target) -> web.StreamResponse:
        lm, fm = self._matchers(request, t.res)
        q = request.query
        timeout = int_param(q, "timeoutSeconds")
        if timeout is None:
            timeout = 1800  # the API server picks 30-60 min; a client re-watches after
        rv_param = q.get("resourceVersion", "")
        initial = truthy(q.get("sendInitialEvents"))
        try:
            since = None if rv_param in ("", "0") or initial else int(rv_param)
        except ValueError:
            raise ApiError(400, "BadRequest", f"invalid resourceVersion {rv_param!r}") from None
        bookmarks = truthy(q.get("allowWatchBookmarks"))
        as_table = accept_mode(request) == "table" and t.res.plural in tables.COLUMNS
        resp = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        resp.enable_chunked_encoding()
        try:
            w = self.c.store.watch(t.res.plural, t.namespace, lm, fm, since)
        except Expired as e:
            await resp.prepare(request)
            err = status_body(410, "Expired", str(e))
            await resp.write(dumps({"type": "ERROR", "object": err}) + b"\n")
            await resp.write_eof()
            return resp
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        next_bookmark = loop.time() + self.bookmark_interval
        try:
            await resp.prepare(request)
            if initial:  # WatchList: initial state, then a bookmark marking its end
                await resp.write(self._line_batch(w, t, as_table, request))
                await resp.write(self._bookmark(t, initial_end=True))
            while not self.stopping.is_set():
                now = loop.time()
                if now >= deadline:
                    break
                wait = deadline - now
                if bookmarks:
                    wait = min(wait, max(0.0, next_bookmark - now))
                try:
                    item = await asyncio.wait_for(w.queue.get(), wait)
                except TimeoutError:
                    if bookmarks and loop.time() >= next_bookmark:
                        await resp.write(self._bookmark(t))
                        next_bookmark = loop.time() + self.bookmark_interval
                    continue
                if item is None:
                    break
                # The item we woke on goes first: putting it back would send it to the end of
                # the queue and deliver events out of resourceVersion order.
                out = self._line_batch(w, t, as_table, request, first=item)
                if out:
                    await resp.write(out)
                if w.closed and w.queue.empty():
                    break
            await resp.write_eof()
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.c.store.unwatch(w)
        return resp

    def _line_batch(
        self, w: Any, t: Target, as_table: bool, request: web.Request, first: Any = None
    ) -> bytes:
        chunks = []
        pending = first
        while pending is not None or not w.queue.empty():
            item, pending = (pending, None) if pending is not None else (w.queue.get_nowait(), None)
            if item is None:
                w.closed = True
                break
            etype, raw = item
            if as_table:
                obj = json.loads(raw)
                tbl = tables.table(
                    t.res.plural,
                    [obj],
                    self.c.clock.now(),
                    obj["metadata"]["resourceVersion"],
                    self._include(request),
                )
                raw = dumps(tbl)
            chunks.append(b'{"type":"' + etype.encode() + b'","object":' + raw + b"}\n")
        return b"".join(chunks)

    def _bookmark(self, t: Target, initial_end: bool = False) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(self.c.store.resource_version)}
        if initial_end:
            meta["annotations"] = {"k8s.io/initial-events-end": "true"}
        obj = {"kind": t.res.kind, "apiVersion": t.res.api_version, "metadata": meta}
        return dumps({"type": "BOOKMARK", "object": obj}) + b"\n"
