"""The OpenAPI paths (operations) of what the drill API server serves, in the API server's shape.

Generated from the resource table, so the published operations are exactly the served ones:
kubectl reads them (openapi v3) to learn that PATCH takes `fieldValidation` and leaves
validation to the server, and `kubectl explain` finds kinds through them.
"""

from __future__ import annotations

from typing import Any

from warroom.drill.resources import GROUPS, PACKAGE, RESOURCES, Resource, sub_kind

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
PRODUCES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")
ACTION = {"get": "get", "list": "list", "patch": "patch", "update": "put", "delete": "delete"}
OP_VERB = {"get": "read", "update": "replace"}
WRITE_QUERY = ("dryRun", "fieldManager", "fieldValidation")
LIST_QUERY = (
    "allowWatchBookmarks",
    "continue",
    "fieldSelector",
    "labelSelector",
    "limit",
    "resourceVersion",
    "resourceVersionMatch",
    "sendInitialEvents",
    "timeoutSeconds",
    "watch",
)


def group_prefix(group: str) -> str:
    """`/api/v1` or `/apis/<group>/v1`."""
    return f"/apis/{group}/v1" if group else "/api/v1"


def gv_key(group: str) -> str:
    """The key of a group version in the /openapi/v3 index: `api/v1`, `apis/apps/v1`."""
    return group_prefix(group).lstrip("/")


def _camel_group(group: str) -> str:
    name = group.split(".")[0] if group else "core"
    return name[:1].upper() + name[1:] + "V1"


def _gvk(group: str, kind: str) -> dict[str, str]:
    return {"group": group, "kind": kind, "version": "v1"}


def _param(name: str, where: str = "query") -> dict[str, Any]:
    p: dict[str, Any] = {"name": name, "in": where, "type": "string", "uniqueItems": True}
    if where == "path":
        p["required"] = True
    if name in ("limit", "timeoutSeconds"):
        p["type"] = "integer"
    if name in ("allowWatchBookmarks", "sendInitialEvents", "watch", "force"):
        p["type"] = "boolean"
    return p


# The API server's operation descriptions: "read status of the specified Pod", ...
DESCRIBE = {
    "get": "read {of}the specified {kind}",
    "list": "list or watch objects of kind {kind}",
    "patch": "partially update {of}the specified {kind}",
    "update": "replace {of}the specified {kind}",
    "delete": "delete a {kind}",
    "create": "create {of}a {kind}",
}


def _describe(verb: str, kind: str, sub: str) -> str:
    return DESCRIBE[verb].format(of=f"{sub} of " if sub else "", kind=kind)


def _op(
    verb: str,
    res: Resource,
    ref: str,
    group: str,
    kind: str,
    *,
    sub: str = "",
    all_ns: bool = False,
) -> dict[str, Any]:
    scope = "" if all_ns or not res.namespaced else "Namespaced"
    suffix = "ForAllNamespaces" if all_ns else ""
    op_id = (
        f"{OP_VERB.get(verb, verb)}{_camel_group(res.group)}{scope}{res.kind}"
        f"{sub[:1].upper() + sub[1:]}{suffix}"
    )
    code = "201" if verb == "create" else "200"
    out: dict[str, Any] = {
        "description": _describe(verb, res.kind, sub),
        "consumes": ["*/*"] if verb != "patch" else list(PATCH_TYPES),
        "produces": list(PRODUCES) if sub != "log" else ["text/plain"],
        "schemes": ["https"],
        "tags": [f"{_camel_group(res.group)[:-2].lower()}_v1"],
        "operationId": op_id,
        "responses": {
            code: {"description": "OK" if code == "200" else "Created", "schema": {"$ref": ref}},
            "401": {"description": "Unauthorized"},
        },
        "x-kubernetes-action": ACTION.get(verb, "post"),
        "x-kubernetes-group-version-kind": _gvk(group, kind),
    }
    params: list[dict[str, Any]] = []
    if verb in ("patch", "update", "create"):
        body = META + "Patch" if verb == "patch" else ref.rsplit("/", 1)[-1]
        params.append(
            {
                "name": "body",
                "in": "body",
                "required": True,
                "schema": {"$ref": "#/definitions/" + body},
            }
        )
        params += [_param(q) for q in WRITE_QUERY]
        if verb == "patch":
            params.append(_param("force"))
    elif verb == "list":
        params += [_param(q) for q in LIST_QUERY]
    elif verb == "delete":
        params.append(
            {"name": "body", "in": "body", "schema": {"$ref": f"#/definitions/{META}DeleteOptions"}}
        )
        params += [_param(q) for q in ("dryRun", "gracePeriodSeconds", "propagationPolicy")]
    elif sub == "log":
        params += [
            _param(q)
            for q in ("container", "follow", "limitBytes", "previous", "sinceSeconds", "tailLines")
        ]
    if params:
        out["parameters"] = params
    return out


def _ref(name: str) -> str:
    return "#/definitions/" + name


def resource_paths(res: Resource) -> dict[str, dict[str, Any]]:
    base = group_prefix(res.group)
    coll = (
        f"{base}/namespaces/{{namespace}}/{res.plural}"
        if res.namespaced
        else f"{base}/{res.plural}"
    )
    ns_param = [_param("namespace", "path")] if res.namespaced else []
    paths: dict[str, dict[str, Any]] = {}
    ref = _ref(res.definition)
    if not res.stored:  # a review: create only
        paths[coll] = {"post": _op("create", res, ref, res.group, res.kind)}
        return paths
    list_ref = _ref(res.definition + "List")
    paths[coll] = {
        "get": _op("list", res, list_ref, res.group, res.kind),
        "parameters": [*ns_param, _param("pretty")],
    }
    if "create" in res.verbs:
        paths[coll]["post"] = _op("create", res, ref, res.group, res.kind)
    if res.namespaced:
        paths[f"{base}/{res.plural}"] = {
            "get": _op("list", res, list_ref, res.group, res.kind, all_ns=True),
            "parameters": [_param("pretty")],
        }
    item: dict[str, Any] = {}
    for verb, method in (
        ("get", "get"),
        ("update", "put"),
        ("delete", "delete"),
        ("patch", "patch"),
    ):
        if verb in res.verbs:
            item[method] = _op(verb, res, ref, res.group, res.kind)
    item["parameters"] = [_param("name", "path"), *ns_param, _param("pretty")]
    paths[f"{coll}/{{name}}"] = item
    for sub in res.subresources:
        group, kind = sub_kind(res, sub)
        sref = _ref(f"io.k8s.api.{PACKAGE[group]}.v1.{kind}")
        ops: dict[str, Any] = {}
        if sub == "eviction":
            ops["post"] = _op("create", res, _ref(META + "Status"), group, kind, sub=sub)
            ops["post"]["parameters"][0]["schema"] = {"$ref": sref}
        elif sub == "log":
            ops["get"] = _op("get", res, ref, group, kind, sub=sub)
            ops["get"]["responses"]["200"]["schema"] = {"type": "string"}
        else:
            ops["get"] = _op("get", res, sref, group, kind, sub=sub)
            ops["put"] = _op("update", res, sref, group, kind, sub=sub)
            ops["patch"] = _op("patch", res, sref, group, kind, sub=sub)
        ops["parameters"] = [_param("name", "path"), *ns_param, _param("pretty")]
        paths[f"{coll}/{{name}}/{sub}"] = ops
    return paths


def group_paths(group: str) -> dict[str, dict[str, Any]]:
    """Every path of one group version, discovery included."""
    base = group_prefix(group)
    paths: dict[str, dict[str, Any]] = {
        base + "/": {
            "get": {
                "description": "get available resources",
                "consumes": list(PRODUCES),
                "produces": list(PRODUCES),
                "schemes": ["https"],
                "tags": [f"{_camel_group(group)[:-2].lower()}_v1"],
                "operationId": f"get{_camel_group(group)}APIResources",
                "responses": {
                    "200": {
                        "description": "OK",
                        "schema": {"$ref": _ref(META + "APIResourceList")},
                    },
                    "401": {"description": "Unauthorized"},
                },
            }
        }
    }
    for res in RESOURCES.values():
        if res.group == group:
            paths.update(resource_paths(res))
    return dict(sorted(paths.items()))


def all_paths() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for g in GROUPS:
        out.update(group_paths(g))
    return dict(sorted(out.items()))
