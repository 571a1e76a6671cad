"""`/openapi/v2` in protobuf: the gnostic openapi_v2.Document client-go asks for
(`application/com.github.proto-openapi.spec.v2@v1.0+protobuf`, the only type its
DiscoveryClient.OpenAPISchema accepts), encoded from the JSON document. Field numbers are
gnostic's openapiv2/OpenAPIv2.proto; vendor extensions travel as YAML text (JSON is YAML).
"""

from __future__ import annotations

import json
from typing import Any

MEDIA = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _bytes(num: int, data: bytes) -> bytes:
    return _varint(num << 3 | 2) + _varint(len(data)) + data


def _str(num: int, s: str) -> bytes:
    return _bytes(num, s.encode()) if s else b""


def _bool(num: int, v: bool) -> bytes:
    return _varint(num << 3) + b"\x01" if v else b""


def _named(num: int, name: str, value: bytes) -> bytes:
    """A gnostic Named* pair: {name = 1, value = 2}."""
    return _bytes(num, _str(1, name) + _bytes(2, value))


def _any_yaml(value: Any) -> bytes:
    return _str(2, json.dumps(value, separators=(",", ":")))  # Any.yaml


def _extensions(num: int, obj: dict[str, Any]) -> bytes:
    return b"".join(_named(num, k, _any_yaml(v)) for k, v in obj.items() if k.startswith("x-"))


def schema(s: dict[str, Any]) -> bytes:
    out = (
        _str(1, s.get("$ref", ""))
        + _str(2, s.get("format", ""))
        + _str(4, s.get("description", ""))
    )
    out += b"".join(_str(19, r) for r in s.get("required", []))
    out += b"".join(_bytes(20, _any_yaml(e)) for e in s.get("enum", []))
    extra = s.get("additionalProperties")
    if isinstance(extra, dict):
        out += _bytes(21, _bytes(1, schema(extra)))
    elif isinstance(extra, bool):
        out += _bytes(21, _varint(2 << 3) + (b"\x01" if extra else b"\x00"))
    if "type" in s:
        types = s["type"] if isinstance(s["type"], list) else [s["type"]]
        out += _bytes(22, b"".join(_str(1, t) for t in types))
    if isinstance(s.get("items"), dict):
        out += _bytes(23, _bytes(1, schema(s["items"])))
    out += b"".join(_bytes(24, schema(x)) for x in s.get("allOf", []))
    if "properties" in s:
        props = b"".join(_named(1, k, schema(v)) for k, v in s["properties"].items())
        out += _bytes(25, props)
    out += _bool(27, bool(s.get("readOnly")))
    return out + _extensions(31, s)


def _parameter(p: dict[str, Any]) -> bytes:
    if p["in"] == "body":  # Parameter.body_parameter
        body = _str(1, p.get("description", "")) + _str(2, p["name"]) + _str(3, "body")
        body += _bool(4, bool(p.get("required"))) + _bytes(5, schema(p["schema"]))
        return _bytes(1, _bytes(1, body))
    common = _bool(1, bool(p.get("required"))) + _str(2, p["in"])
    common += _str(3, p.get("description", "")) + _str(4, p["name"])
    if p["in"] == "path":  # NonBodyParameter.path_parameter_sub_schema
        sub = _bytes(
            4, common + _str(5, p.get("type", "")) + _bool(19, p.get("uniqueItems", False))
        )
    else:  # query_parameter_sub_schema
        sub = _bytes(
            3, common + _str(6, p.get("type", "")) + _bool(20, p.get("uniqueItems", False))
        )
    return _bytes(1, _bytes(2, sub))


def _operation(op: dict[str, Any]) -> bytes:
    out = b"".join(_str(1, t) for t in op.get("tags", []))
    out += _str(3, op.get("description", "")) + _str(5, op.get("operationId", ""))
    out += b"".join(_str(6, m) for m in op.get("produces", []))
    out += b"".join(_str(7, m) for m in op.get("consumes", []))
    out += b"".join(_bytes(8, _parameter(p)) for p in op.get("parameters", []))
    codes = b""
    for code, r in op.get("responses", {}).items():
        resp = _str(1, r["description"])
        if "schema" in r:
            resp += _bytes(2, _bytes(1, schema(r["schema"])))  # SchemaItem.schema
        codes += _named(1, code, _bytes(1, resp))  # ResponseValue.response
    out += _bytes(9, codes)
    out += b"".join(_str(10, s) for s in op.get("schemes", []))
    return out + _extensions(13, op)


METHODS = {"get": 2, "put": 3, "post": 4, "delete": 5, "patch": 8}


def document(doc: dict[str, Any]) -> bytes:
    info = _str(1, doc["info"]["title"]) + _str(2, doc["info"]["version"])
    paths = b""
    for path, item in doc["paths"].items():
        body = b"".join(
            _bytes(METHODS[m], _operation(op)) for m, op in item.items() if m in METHODS
        )
        body += b"".join(_bytes(9, _parameter(p)) for p in item.get("parameters", []))
        paths += _named(2, path, body)
    defs = b"".join(_named(1, k, schema(v)) for k, v in doc["definitions"].items())
    security = b"".join(
        _bytes(12, b"".join(_named(1, k, b"".join(_str(1, x) for x in v)) for k, v in req.items()))
        for req in doc.get("security", [])
    )
    secdefs = b""
    for name, d in doc.get("securityDefinitions", {}).items():
        key = _str(1, d["type"]) + _str(2, d["name"]) + _str(3, d["in"]) + _str(4, d["description"])
        secdefs += _named(1, name, _bytes(2, key))  # SecurityDefinitionsItem.api_key_security
    return (
        _str(1, doc["swagger"])
        + _bytes(2, info)
        + _bytes(8, paths)
        + _bytes(9, defs)
        + security
        + _bytes(13, secdefs)
    )
