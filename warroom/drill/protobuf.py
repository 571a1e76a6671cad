"""Kubernetes protobuf request bodies (`application/vnd.kubernetes.protobuf`), decoded to JSON.

kubectl 1.32+ sends built-in kinds to typed clients as protobuf (`auth can-i` its
SelfSubjectAccessReview, `drain` its Evictions and DeleteOptions), and client-go does not fall
back to JSON on a 415 for protobuf (only for CBOR), so a server must read them. A body is the
magic `k8s\\x00` and a runtime.Unknown {typeMeta, raw}; `raw` is the kind's message. Field
numbers are those of the kinds' generated.proto in k8s.io/api and k8s.io/apimachinery; only
the kinds below are known, anything else is the caller's 415.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

MAGIC = b"k8s\x00"

# A message: field number -> (JSON name, type, repeated). Types: "str", "bool", "int" (dropped
# when zero, as omitempty does), "ptrint"/"ptrbool" (pointers: kept when present), "time",
# "map" (map<string,string>) or the name of another message.
Message = dict[int, tuple[str, str, bool]]

SCHEMAS: dict[str, Message] = {
    "TypeMeta": {1: ("apiVersion", "str", False), 2: ("kind", "str", False)},
    "Unknown": {
        1: ("typeMeta", "TypeMeta", False),
        2: ("raw", "bytes", False),
        3: ("contentEncoding", "str", False),
        4: ("contentType", "str", False),
    },
    "ObjectMeta": {
        1: ("name", "str", False),
        2: ("generateName", "str", False),
        3: ("namespace", "str", False),
        5: ("uid", "str", False),
        6: ("resourceVersion", "str", False),
        7: ("generation", "int", False),
        8: ("creationTimestamp", "time", False),
        9: ("deletionTimestamp", "time", False),
        10: ("deletionGracePeriodSeconds", "ptrint", False),
        11: ("labels", "map", False),
        12: ("annotations", "map", False),
        13: ("ownerReferences", "OwnerReference", True),
        14: ("finalizers", "str", True),
    },
    "OwnerReference": {
        1: ("kind", "str", False),
        3: ("name", "str", False),
        4: ("uid", "str", False),
        5: ("apiVersion", "str", False),
        6: ("controller", "ptrbool", False),
        7: ("blockOwnerDeletion", "ptrbool", False),
    },
    "Preconditions": {1: ("uid", "str", False), 2: ("resourceVersion", "str", False)},
    "DeleteOptions": {
        1: ("gracePeriodSeconds", "ptrint", False),
        2: ("preconditions", "Preconditions", False),
        3: ("orphanDependents", "ptrbool", False),
        4: ("propagationPolicy", "str", False),
        5: ("dryRun", "str", True),
        6: ("ignoreStoreReadErrorWithClusterBreakingPotential", "ptrbool", False),
    },
    "Eviction": {
        1: ("metadata", "ObjectMeta", False),
        2: ("deleteOptions", "DeleteOptions", False),
    },
    "SelfSubjectAccessReview": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "SelfSubjectAccessReviewSpec", False),
    },
    "SelfSubjectAccessReviewSpec": {
        1: ("resourceAttributes", "ResourceAttributes", False),
        2: ("nonResourceAttributes", "NonResourceAttributes", False),
    },
    "ResourceAttributes": {
        1: ("namespace", "str", False),
        2: ("verb", "str", False),
        3: ("group", "str", False),
        4: ("version", "str", False),
        5: ("resource", "str", False),
        6: ("subresource", "str", False),
        7: ("name", "str", False),
        8: ("fieldSelector", "SelectorAttributes", False),
        9: ("labelSelector", "SelectorAttributes", False),
    },
    "SelectorAttributes": {
        1: ("rawSelector", "str", False),
        2: ("requirements", "SelectorRequirement", True),
    },
    "SelectorRequirement": {
        1: ("key", "str", False),
        2: ("operator", "str", False),
        3: ("values", "str", True),
    },
    "NonResourceAttributes": {1: ("path", "str", False), 2: ("verb", "str", False)},
    "SelfSubjectRulesReview": {
        1: ("metadata", "ObjectMeta", False),
        2: ("spec", "SelfSubjectRulesReviewSpec", False),
    },
    "SelfSubjectRulesReviewSpec": {1: ("namespace", "str", False)},
}
# (group, kind) of the bodies a client may send; DeleteOptions comes in any group's version.
KINDS = {
    ("policy", "Eviction"),
    ("authorization.k8s.io", "SelfSubjectAccessReview"),
    ("authorization.k8s.io", "SelfSubjectRulesReview"),
}


class ProtobufError(ValueError):
    """Not a protobuf body this server can read; `unsupported`: a kind it does not know."""

    def __init__(self, message: str, unsupported: bool = False) -> None:
        super().__init__(message)
        self.unsupported = unsupported


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    shift = value = 0
    while True:
        if i >= len(buf) or shift > 63:
            raise ProtobufError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def _fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
            yield num, value
        elif wire == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise ProtobufError("truncated field")
            yield num, buf[i : i + n]
            i += n
        elif wire in (1, 5):  # fixed64 / fixed32: no field of ours, skip
            i += 8 if wire == 1 else 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")


def _int64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _time(buf: bytes) -> str:
    secs = nanos = 0
    for num, v in _fields(buf):
        if num == 1 and isinstance(v, int):
            secs = _int64(v)
        elif num == 2 and isinstance(v, int):
            nanos = v
    return datetime.fromtimestamp(secs + nanos / 1e9, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _str(v: int | bytes) -> str:
    if not isinstance(v, bytes):
        raise ProtobufError("expected a length-delimited field")
    return v.decode("utf-8")


def decode_message(buf: bytes, name: str) -> dict[str, Any]:
    schema = SCHEMAS[name]
    out: dict[str, Any] = {}
    for num, v in _fields(buf):
        spec = schema.get(num)
        if spec is None:
            continue  # a field newer than this table: ignored, as an old server would
        key, typ, repeated = spec
        if typ == "str":
            value: Any = _str(v)
        elif typ == "bytes":
            value = v
        elif typ in ("bool", "ptrbool"):
            value = bool(v)
        elif typ in ("int", "ptrint"):
            if not isinstance(v, int):
                raise ProtobufError(f"{name}.{key}: expected a varint")
            value = _int64(v)
        elif typ == "time":
            if not v:
                continue  # Go marshals a zero Time as an empty message: JSON null
            value = _time(v if isinstance(v, bytes) else b"")
        elif typ == "map":
            entry = dict(_fields(v if isinstance(v, bytes) else b""))
            out.setdefault(key, {})[_str(entry.get(1, b""))] = _str(entry.get(2, b""))
            continue
        else:
            value = decode_message(v if isinstance(v, bytes) else b"", typ)
        if repeated:
            out.setdefault(key, []).append(value)
        else:
            out[key] = value
    # omitempty: Go's JSON drops the zero values of non-pointer fields; the wire carries them.
    return {
        k: v
        for k, v in out.items()
        if not (v in ("", 0, False) and _type(schema, k) in ("str", "int", "bool"))
    }


def _type(schema: Message, key: str) -> str:
    return next(t for k, t, _ in schema.values() if k == key)


def decode(body: bytes) -> dict[str, Any]:
    """A protobuf body as the JSON object it stands for (apiVersion and kind included)."""
    if not body.startswith(MAGIC):
        raise ProtobufError("the protobuf body does not start with the Kubernetes magic number")
    unknown = decode_message(body[len(MAGIC) :], "Unknown")
    tm = unknown.get("typeMeta") or {}
    api_version, kind = tm.get("apiVersion", ""), tm.get("kind", "")
    group = api_version.rpartition("/")[0]
    if kind != "DeleteOptions" and (group, kind) not in KINDS:
        raise ProtobufError(f"{api_version or 'v1'}, Kind={kind}", unsupported=True)
    obj = decode_message(unknown.get("raw", b""), kind)
    return {"kind": kind, "apiVersion": api_version, **obj}
