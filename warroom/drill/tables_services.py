"""Table printers of Services, Endpoints and EndpointSlices, as the API server prints them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warroom.drill.table_cells import AGE, NAME, age, col, doc, first_three

SPEC = "io.k8s.api.core.v1.ServiceSpec"
SLICE = "io.k8s.api.discovery.v1.EndpointSlice"


def _service_row(s: dict[str, Any], now: datetime) -> list[Any]:
    spec = s.get("spec") or {}
    ports = []
    for p in spec.get("ports") or []:
        node = f":{p['nodePort']}" if p.get("nodePort") else ""
        ports.append(f"{p['port']}{node}/{p.get('protocol', 'TCP')}")
    selector = spec.get("selector")
    return [
        s["metadata"]["name"],
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or "<none>",
        ",".join(spec.get("externalIPs") or []) or "<none>",
        ",".join(ports) or "<none>",
        age(s["metadata"].get("creationTimestamp"), now),
        ",".join(f"{k}={v}" for k, v in sorted(selector.items())) if selector else "<none>",
    ]


def _endpoints_row(e: dict[str, Any], now: datetime) -> list[Any]:
    items = []
    for subset in e.get("subsets") or []:
        addrs = [a["ip"] for a in subset.get("addresses") or []]
        ports = subset.get("ports") or []
        if not ports:  # a headless service without ports
            items += addrs
        for p in ports:  # port by port, then address by address, as the printer goes
            items += [f"{ip}:{p['port']}" for ip in addrs]
    return [
        e["metadata"]["name"],
        first_three(items),
        age(e["metadata"].get("creationTimestamp"), now),
    ]


def _slice_row(s: dict[str, Any], now: datetime) -> list[Any]:
    ports = [
        str(p["port"]) if p.get("port") is not None else "<unset>" for p in s.get("ports") or []
    ]
    addrs = [a for ep in s.get("endpoints") or [] for a in ep.get("addresses") or []]
    return [
        s["metadata"]["name"],
        s.get("addressType", ""),
        ",".join(ports) or "<unset>",
        first_three(addrs) if addrs else "<unset>",
        age(s["metadata"].get("creationTimestamp"), now),
    ]


SERVICE_COLUMNS: dict[str, Any] = {
    "services": (
        [
            NAME,
            col("Type", desc=doc(SPEC, "type")),
            col("Cluster-IP", desc=doc(SPEC, "clusterIP")),
            col("External-IP", desc=doc(SPEC, "externalIPs")),
            col("Port(s)", desc=doc(SPEC, "ports")),
            AGE,
            col("Selector", priority=1, desc=doc(SPEC, "selector")),
        ],
        _service_row,
    ),
    "endpoints": (
        [NAME, col("Endpoints", desc=doc("io.k8s.api.core.v1.Endpoints", "subsets")), AGE],
        _endpoints_row,
    ),
    "endpointslices": (
        [
            NAME,
            col("AddressType", desc=doc(SLICE, "addressType")),
            col("Ports", desc=doc(SLICE, "ports")),
            col("Endpoints", desc=doc(SLICE, "endpoints")),
            AGE,
        ],
        _slice_row,
    ),
}
