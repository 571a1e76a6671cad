"""The drill API server's OpenAPI: `/openapi/v2`, the `/openapi/v3` index and one document per
group version, built from Kubernetes' published definitions (vendored by openapi_gen.py) and
the served paths; and the schema walk behind `fieldValidation` (unknown fields are dropped, or
warned about, or refused, as the API server's decoder does).
"""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

from warroom.drill import openapi_proto
from warroom.drill.kube_http import VERSION
from warroom.drill.openapi_paths import PRODUCES, all_paths, group_paths, gv_key
from warroom.drill.resources import GROUPS

MINOR = f"{VERSION['major']}.{VERSION['minor']}"
DATA = Path(__file__).with_name("openapi") / f"v{MINOR}.json"
V2_REF, V3_REF = "#/definitions/", "#/components/schemas/"
INFO = {"title": "Kubernetes", "version": VERSION["gitVersion"]}
BEARER = {
    "description": "Bearer Token authentication",
    "type": "apiKey",
    "name": "authorization",
    "in": "header",
}


@functools.cache
def definitions() -> dict[str, Any]:
    return dict(json.loads(DATA.read_text(encoding="utf-8"))["definitions"])


def dumps(doc: Any) -> bytes:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


@functools.cache
def v2_protobuf() -> bytes:
    return openapi_proto.document(json.loads(v2_document()))


@functools.cache
def v2_document() -> bytes:
    doc = {
        "swagger": "2.0",
        "info": INFO,
        "paths": all_paths(),
        "definitions": definitions(),
        "securityDefinitions": {"BearerToken": BEARER},
        "security": [{"BearerToken": []}],
    }
    return dumps(doc)


# --- v3 --------------------------------------------------------------------------------------


def _refs(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str):
                found.add(v.rsplit("/", 1)[-1])
            else:
                found |= _refs(v)
    elif isinstance(node, list):
        for v in node:
            found |= _refs(v)
    return found


def _closure(names: set[str]) -> list[str]:
    defs, seen, todo = definitions(), set(), list(names)
    while todo:
        n = todo.pop()
        if n not in seen and n in defs:
            seen.add(n)
            todo.extend(_refs(defs[n]))
    return sorted(seen)


def _schema3(node: Any) -> Any:
    """A v2 schema in v3 spelling: refs under components, a ref with siblings wrapped in allOf."""
    if isinstance(node, list):
        return [_schema3(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _schema3(v) for k, v in node.items() if k != "$ref"}
    if "$ref" in node:
        ref = {"$ref": V3_REF + node["$ref"][len(V2_REF) :]}
        if not out:
            return ref
        out["allOf"] = [ref]
    return out


def _param3(p: dict[str, Any]) -> dict[str, Any]:
    schema = {k: p[k] for k in ("type", "uniqueItems") if k in p}
    out = {k: p[k] for k in ("name", "in", "description", "required") if k in p}
    out["schema"] = schema
    return out


def _op3(op: dict[str, Any]) -> dict[str, Any]:
    out = {
        k: v for k, v in op.items() if k not in ("consumes", "produces", "schemes", "parameters")
    }
    params = []
    for p in op.get("parameters", []):
        if p["in"] == "body":
            out["requestBody"] = {
                "content": {mt: {"schema": _schema3(p["schema"])} for mt in op["consumes"]},
                "required": bool(p.get("required")),
            }
        else:
            params.append(_param3(p))
    if params:
        out["parameters"] = params
    responses = {}
    for code, r in op["responses"].items():
        r3: dict[str, Any] = {"description": r["description"]}
        if "schema" in r:
            media = op.get("produces") or list(PRODUCES)
            r3["content"] = {mt: {"schema": _schema3(r["schema"])} for mt in media}
        responses[code] = r3
    out["responses"] = responses
    return out


def _paths3(paths: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, item in paths.items():
        out[path] = {
            k: ([_param3(p) for p in v] if k == "parameters" else _op3(v)) for k, v in item.items()
        }
    return out


@functools.cache
def v3_documents() -> dict[str, tuple[bytes, str]]:
    """gv key (`api/v1`, `apis/apps/v1`) -> (document, hash)."""
    defs = definitions()
    out = {}
    for group in GROUPS:
        paths = group_paths(group)
        schemas = {n: _schema3(defs[n]) for n in _closure(_refs(paths))}
        doc = {
            "openapi": "3.0.0",
            "info": INFO,
            "paths": _paths3(paths),
            "components": {"schemas": schemas, "securitySchemes": {"BearerToken": BEARER}},
        }
        raw = dumps(doc)
        out[gv_key(group)] = (raw, hashlib.sha512(raw).hexdigest().upper())
    return out


def v3_index() -> bytes:
    paths = {
        key: {"serverRelativeURL": f"/openapi/v3/{key}?hash={digest}"}
        for key, (_, digest) in v3_documents().items()
    }
    return dumps({"paths": paths})


# --- fieldValidation ---------------------------------------------------------------------------


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    defs = definitions()
    while "$ref" in schema:
        schema = defs.get(schema["$ref"][len(V2_REF) :], {})
    return schema


def unknown_fields(obj: Any, definition: str, *, drop: bool = True) -> list[str]:
    """Paths of fields the kind's schema does not declare (`spec.template.spec.containers[0].x`),
    removed from `obj` when `drop` (what the API server's decoder does with them)."""
    found: list[str] = []
    _walk(obj, {"$ref": V2_REF + definition}, "", found, drop)
    return found


def _walk(value: Any, schema: dict[str, Any], path: str, found: list[str], drop: bool) -> None:
    schema = _resolve(schema)
    if isinstance(value, dict):
        props = schema.get("properties")
        extra = schema.get("additionalProperties")
        if props is not None:
            for k in list(value):
                sub = f"{path}.{k}" if path else k
                if k in props:
                    _walk(value[k], props[k], sub, found, drop)
                else:
                    found.append(sub)
                    if drop:
                        del value[k]
        elif isinstance(extra, dict):
            for k, v in value.items():
                _walk(v, extra, f"{path}.{k}" if path else k, found, drop)
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            _walk(v, schema["items"], f"{path}[{i}]", found, drop)
