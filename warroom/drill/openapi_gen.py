"""Regenerate the vendored OpenAPI definitions the drill API server serves.

    python -m warroom.drill.openapi_gen          # rewrites warroom/drill/openapi/<version>.json

The source is Kubernetes' own published schemas as the `kubernetes-validate` package carries
them (kubernetes-json-schema, `v<minor>.0-local/_definitions.json`, a test dependency). That
file is the API server's swagger `definitions` run through openapi2jsonschema; this script
undoes the conversion (JSON Schema `$defs` refs, `[type, "null"]` unions, the `enum` pinned on
every kind's `apiVersion`/`kind`, int-or-string and quantity spelled as `oneOf`) and keeps only
what the definitions of the kinds the drill serves reach. Nothing here is written by hand.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from warroom.drill.kube_http import VERSION

MINOR = f"{VERSION['major']}.{VERSION['minor']}"
OUT = Path(__file__).with_name("openapi") / f"v{MINOR}.json"
_REF = "#/$defs/"

# The kinds served (objects, their lists, subresource bodies) and the meta types the paths use.
ROOTS = [
    *(
        f"io.k8s.api.core.v1.{k}"
        for k in (
            "Pod",
            "PodList",
            "Node",
            "NodeList",
            "Namespace",
            "NamespaceList",
            "Event",
            "EventList",
            "Service",
            "ServiceList",
            "Endpoints",
            "EndpointsList",
        )
    ),
    *(
        f"io.k8s.api.apps.v1.{k}{s}"
        for k in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "ControllerRevision")
        for s in ("", "List")
    ),
    "io.k8s.api.autoscaling.v1.Scale",
    "io.k8s.api.policy.v1.PodDisruptionBudget",
    "io.k8s.api.policy.v1.PodDisruptionBudgetList",
    "io.k8s.api.policy.v1.Eviction",
    "io.k8s.api.discovery.v1.EndpointSlice",
    "io.k8s.api.discovery.v1.EndpointSliceList",
    "io.k8s.api.networking.v1.NetworkPolicy",
    "io.k8s.api.networking.v1.NetworkPolicyList",
    "io.k8s.api.authorization.v1.SelfSubjectAccessReview",
    "io.k8s.api.authorization.v1.SelfSubjectRulesReview",
    *(
        f"io.k8s.apimachinery.pkg.apis.meta.v1.{k}"
        for k in ("Status", "DeleteOptions", "WatchEvent", "Patch", "APIResourceList")
    ),
]

# openapi2jsonschema rewrote these two as `oneOf` and dropped their descriptions; this is the
# type the API server's swagger gives them (the descriptions cannot be recovered from the source).
ORIGINAL = {
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
        "format": "int-or-string",
        "type": "string",
    },
    "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
}


def source_definitions(minor: str = MINOR) -> dict[str, Any]:
    """The `$defs` of kubernetes-validate's schemas for that Kubernetes minor version."""
    base = resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")
    path = base.joinpath(f"v{minor}.0-local", "_definitions.json")
    return dict(json.loads(path.read_text(encoding="utf-8"))["$defs"])


def _restore(node: Any, parent_key: str = "") -> Any:
    if isinstance(node, list):
        return [_restore(x) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k == "$ref" and isinstance(v, str) and v.startswith(_REF):
            out[k] = "#/definitions/" + v[len(_REF) :]
        elif k == "type" and isinstance(v, list):
            types = [t for t in v if t != "null"]
            out[k] = types[0] if len(types) == 1 else types
        elif k == "enum" and parent_key in ("apiVersion", "kind"):
            continue  # pinned by the converter; the API server's schema has no such enum
        elif k == "properties" and isinstance(v, dict):
            out[k] = {name: _restore(p, name) for name, p in v.items()}
        else:
            out[k] = _restore(v)
    return out


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


def build(defs: dict[str, Any]) -> dict[str, Any]:
    """The swagger-2.0 definitions reachable from ROOTS, as the API server publishes them."""
    keep: dict[str, Any] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        if name not in defs:
            raise KeyError(f"{name}: not in the Kubernetes {MINOR} schemas")
        keep[name] = ORIGINAL.get(name) or _restore(defs[name])
        todo.extend(_refs(keep[name]) - keep.keys())
    return {
        "kubernetesVersion": MINOR,
        "source": f"kubernetes-validate: kubernetes-json-schema/v{MINOR}.0-local/_definitions.json",
        "definitions": dict(sorted(keep.items())),
    }


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(render(build(source_definitions())), encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
