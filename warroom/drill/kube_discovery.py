"""Discovery of the drill API server (`/version`, `/api`, `/apis`, one list per group version) and
its OpenAPI endpoints (`/openapi/v2`, `/openapi/v3`, `/openapi/v3/<group version>`)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from warroom.drill import openapi
from warroom.drill.kube_http import VERSION, json_response
from warroom.drill.resources import GROUPS, RESOURCES, SUBRESOURCES, sub_kind

OPENAPI_V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
OPENAPI_V2_PROTOBUF_OLD = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"


def _gv(group: str) -> dict[str, str]:
    return {"groupVersion": f"{group}/v1", "version": "v1"}


def api_group(group: str) -> dict[str, Any]:
    return {"name": group, "versions": [_gv(group)], "preferredVersion": _gv(group)}


def resource_list(group: str) -> dict[str, Any]:
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
            sgroup, kind = sub_kind(r, sub)
            s: dict[str, Any] = {
                "name": f"{r.plural}/{sub}",
                "singularName": "",
                "namespaced": r.namespaced,
                "kind": kind,
                "verbs": list(SUBRESOURCES[sub].verbs),
            }
            if sgroup != r.group:  # Scale is autoscaling/v1, Eviction policy/v1
                s.update(group=sgroup, version="v1")
            out.append(s)
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/v1" if group else "v1",
        "resources": out,
    }


class DiscoveryHandlers:
    def add_discovery_routes(self, r: web.UrlDispatcher) -> None:
        r.add_get("/version", self.version)
        r.add_get("/version/", self.version)
        for p in ("/healthz", "/livez", "/readyz"):
            r.add_get(p, self.health)
        # The generated clients ask for discovery with a trailing slash: serve both spellings.
        for path, handler in (("/api", self.api_versions), ("/apis", self.api_groups)):
            r.add_get(path, handler)
            r.add_get(path + "/", handler)
        for group in GROUPS:
            base = "/apis/" + group if group else ""
            if group:
                r.add_get(base, self.group_handler(group))
                r.add_get(base + "/", self.group_handler(group))
            path = f"{base}/v1" if group else "/api/v1"
            r.add_get(path, self.resources_handler(group))
            r.add_get(path + "/", self.resources_handler(group))
        r.add_get("/openapi/v2", self.openapi_v2)
        r.add_get("/openapi/v3", self.openapi_v3_index)
        r.add_get("/openapi/v3/", self.openapi_v3_index)
        r.add_get("/openapi/v3/{gv:.+}", self.openapi_v3)

    async def version(self, request: web.Request) -> web.Response:
        return json_response(VERSION)

    async def health(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def api_versions(self, request: web.Request) -> web.Response:
        return json_response(
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [
                    {"clientCIDR": "0.0.0.0/0", "serverAddress": request.host}
                ],
            }
        )

    async def api_groups(self, request: web.Request) -> web.Response:
        groups = [api_group(g) for g in GROUPS if g]
        return json_response({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})

    def group_handler(self, group: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            return json_response({"kind": "APIGroup", "apiVersion": "v1", **api_group(group)})

        return handler

    def resources_handler(self, group: str) -> Any:
        body = resource_list(group)

        async def handler(request: web.Request) -> web.Response:
            return json_response(body)

        return handler

    # --- OpenAPI ---------------------------------------------------------------------------

    async def openapi_v2(self, request: web.Request) -> web.Response:
        """JSON, or the gnostic protobuf client-go's discovery client asks for. As kube-openapi
        does, the answer's Content-Type spells the version with a dot: Go's mime parser (and so
        client-go) rejects the `@` of the Accept spelling."""
        accept = request.headers.get("Accept", "")
        ranges = [a.split(";")[0].strip() for a in accept.split(",") if a.strip()]
        for r in ranges:
            if r in (OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_OLD):
                return web.Response(
                    body=openapi.v2_protobuf(), headers={"Content-Type": OPENAPI_V2_PROTOBUF_OLD}
                )
            if r in ("application/json", "*/*", "application/*"):
                break
        return web.Response(body=openapi.v2_document(), content_type="application/json")

    async def openapi_v3_index(self, request: web.Request) -> web.Response:
        return web.Response(body=openapi.v3_index(), content_type="application/json")

    async def openapi_v3(self, request: web.Request) -> web.Response:
        key = request.match_info["gv"].strip("/")
        found = openapi.v3_documents().get(key)
        if found is None:
            raise web.HTTPNotFound()
        raw, digest = found
        asked = request.query.get("hash")
        if asked and asked != digest:  # an outdated link: point at the current document
            raise web.HTTPMovedPermanently(f"/openapi/v3/{key}?hash={digest}")
        headers = {"Etag": f'"{digest}"', "Vary": "Accept"}
        headers["Cache-Control"] = "public, immutable" if asked else "no-cache, private"
        return web.Response(body=raw, content_type="application/json", headers=headers)
