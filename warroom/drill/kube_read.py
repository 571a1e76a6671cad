"""Read handlers of the drill API server: get, list (selectors, pagination, Table and
PartialObjectMetadata output) and watch (resourceVersion, bookmarks, WatchList, 410 Gone)."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from aiohttp import web

from warroom.drill import tables
from warroom.drill.kube_http import (
    ApiError,
    HandlerBase,
    Target,
    accept_mode,
    int_param,
    json_response,
    status_body,
    truthy,
)
from warroom.drill.resources import Resource
from warroom.drill.selectors import SelectorError, field_matcher, label_matcher
from warroom.drill.store import Entry, Expired, dumps


class ReadHandlers(HandlerBase):
    bookmark_interval: float

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
        limit = int_param(request.query, "limit") or 0
        token = request.query.get("continue")
        after: tuple[str, str] | None = None
        if token:
            try:
                start = json.loads(base64.urlsafe_b64decode(token.encode()))
                rv = str(start["rv"])
                after = (str(start["start"][0]), str(start["start"][1]))
            except (ValueError, KeyError, TypeError, IndexError):
                raise ApiError(400, "BadRequest", "continue key is not valid") from None
        q = request.query
        if q.get("labelSelector") or q.get("fieldSelector"):
            entries = self.c.store.entries(t.res.plural, t.namespace)
            entries = [
                e
                for e in entries
                if (after is None or self._key(e) > after) and lm(e.labels) and fm(e.fields)
            ]
            remaining = max(0, len(entries) - limit) if limit else 0
            entries = entries[:limit] if limit else entries
        else:  # the common case (kubectl get, informers): a page is a bisect of sorted keys
            entries, remaining = self.c.store.page(t.res.plural, t.namespace, after, limit)
        cont = ""
        if limit and remaining:
            last = self._key(entries[-1])
            cont = base64.urlsafe_b64encode(
                json.dumps({"rv": int(rv), "start": list(last)}).encode()
            ).decode()
        remaining_shown = remaining if cont else None
        mode = accept_mode(request)
        if mode == "table" and t.res.plural in tables.COLUMNS:
            body = tables.table(
                t.res.plural,
                [e.obj for e in entries],
                self.c.clock.now(),
                rv,
                self._include(request),
                cont,
                remaining_shown,
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
