"""meta.k8s.io/v1 Table output, with the columns and cell logic of the API server's printers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from warroom.drill.table_cells import AGE, NAME, age, col, doc
from warroom.drill.table_cells import human_duration as human_duration  # re-exported
from warroom.drill.tables_services import SERVICE_COLUMNS

Row = Callable[[dict[str, Any], datetime], list[Any]]


def pod_status(pod: dict[str, Any]) -> tuple[str, int, int, int, str]:
    """(STATUS, ready containers, total containers, restarts, last restart) like kubectl."""
    st = pod.get("status") or {}
    meta = pod.get("metadata") or {}
    reason = st.get("reason") or st.get("phase") or "Unknown"
    statuses = st.get("containerStatuses") or []
    total = len((pod.get("spec") or {}).get("containers") or []) or len(statuses)
    ready = restarts = 0
    last_restart = ""
    has_running = False
    for cs in reversed(statuses):
        restarts += int(cs.get("restartCount") or 0)
        last = (cs.get("lastState") or {}).get("terminated")
        if last and last.get("finishedAt") and last["finishedAt"] > last_restart:
            last_restart = last["finishedAt"]
        state = cs.get("state") or {}
        waiting, term = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif term and term.get("reason"):
            reason = term["reason"]
        elif term is not None:
            sig = term.get("signal")
            reason = f"Signal:{sig}" if sig else f"ExitCode:{term.get('exitCode', 0)}"
        elif cs.get("ready") and state.get("running") is not None:
            has_running = True
            ready += 1
    if reason == "Completed" and has_running:
        conds = {c.get("type"): c.get("status") for c in st.get("conditions") or []}
        reason = "Running" if conds.get("Ready") == "True" else "NotReady"
    if meta.get("deletionTimestamp") and st.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and st.get("phase") not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return reason, ready, total, restarts, last_restart


def _pod_row(p: dict[str, Any], now: datetime) -> list[Any]:
    reason, ready, total, restarts, last = pod_status(p)
    r = str(restarts)
    if restarts and last:
        r = f"{restarts} ({age(last, now)} ago)"
    st = p.get("status") or {}
    return [
        p["metadata"]["name"],
        f"{ready}/{total}",
        reason,
        r,
        age(p["metadata"].get("creationTimestamp"), now),
        st.get("podIP") or "<none>",
        (p.get("spec") or {}).get("nodeName") or "<none>",
        st.get("nominatedNodeName") or "<none>",
        "<none>",
    ]


def _images(obj: dict[str, Any]) -> tuple[str, str]:
    cs = (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers", [])
    return ",".join(c["name"] for c in cs), ",".join(c.get("image", "") for c in cs)


def _selector(obj: dict[str, Any]) -> str:
    ml = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return ",".join(f"{k}={v}" for k, v in ml.items()) or "<none>"


def _deploy_row(d: dict[str, Any], now: datetime) -> list[Any]:
    st, spec = d.get("status") or {}, d.get("spec") or {}
    names, images = _images(d)
    return [
        d["metadata"]["name"],
        f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        st.get("updatedReplicas", 0),
        st.get("availableReplicas", 0),
        age(d["metadata"].get("creationTimestamp"), now),
        names,
        images,
        _selector(d),
    ]


def _rs_row(rs: dict[str, Any], now: datetime) -> list[Any]:
    st, spec = rs.get("status") or {}, rs.get("spec") or {}
    names, images = _images(rs)
    return [
        rs["metadata"]["name"],
        spec.get("replicas", 0),
        st.get("replicas", 0),
        st.get("readyReplicas", 0),
        age(rs["metadata"].get("creationTimestamp"), now),
        names,
        images,
        _selector(rs),
    ]


def _sts_row(s: dict[str, Any], now: datetime) -> list[Any]:
    st, spec = s.get("status") or {}, s.get("spec") or {}
    names, images = _images(s)
    return [
        s["metadata"]["name"],
        f"{st.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        age(s["metadata"].get("creationTimestamp"), now),
        names,
        images,
    ]


def _ds_row(ds: dict[str, Any], now: datetime) -> list[Any]:
    st = ds.get("status") or {}
    names, images = _images(ds)
    node_sel = ((ds.get("spec") or {}).get("template") or {}).get("spec", {}).get("nodeSelector")
    return [
        ds["metadata"]["name"],
        st.get("desiredNumberScheduled", 0),
        st.get("currentNumberScheduled", 0),
        st.get("numberReady", 0),
        st.get("updatedNumberScheduled", 0),
        st.get("numberAvailable", 0),
        ",".join(f"{k}={v}" for k, v in (node_sel or {}).items()) or "<none>",
        age(ds["metadata"].get("creationTimestamp"), now),
        names,
        images,
        _selector(ds),
    ]


def _node_row(n: dict[str, Any], now: datetime) -> list[Any]:
    st = n.get("status") or {}
    conds = {c["type"]: c["status"] for c in st.get("conditions") or []}
    status = "Ready" if conds.get("Ready") == "True" else "NotReady"
    if (n.get("spec") or {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    roles = [
        k.split("/", 1)[1]
        for k in (n["metadata"].get("labels") or {})
        if k.startswith("node-role.kubernetes.io/")
    ]
    addrs = {a["type"]: a["address"] for a in st.get("addresses") or []}
    info = st.get("nodeInfo") or {}
    return [
        n["metadata"]["name"],
        status,
        ",".join(roles) or "<none>",
        age(n["metadata"].get("creationTimestamp"), now),
        info.get("kubeletVersion", ""),
        addrs.get("InternalIP", "<none>"),
        addrs.get("ExternalIP", "<none>"),
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


def _ns_row(ns: dict[str, Any], now: datetime) -> list[Any]:
    return [
        ns["metadata"]["name"],
        (ns.get("status") or {}).get("phase", "Active"),
        age(ns["metadata"].get("creationTimestamp"), now),
    ]


def _event_row(e: dict[str, Any], now: datetime) -> list[Any]:
    inv = e.get("involvedObject") or {}
    last = e.get("lastTimestamp") or e.get("eventTime") or e["metadata"].get("creationTimestamp")
    first = e.get("firstTimestamp") or last
    src = e.get("source") or {}
    source = src.get("component", "")
    if src.get("host"):
        source += f", {src['host']}"
    return [
        age(last, now),
        e.get("type", ""),
        e.get("reason", ""),
        f"{inv.get('kind', '').lower()}/{inv.get('name', '')}",
        inv.get("fieldPath", ""),
        source,
        (e.get("message") or "").strip(),
        age(first, now),
        e.get("count", 1),
        e["metadata"]["name"],
    ]


COLUMNS: dict[str, tuple[list[dict[str, Any]], Row]] = {
    "pods": (
        [
            NAME,
            col("Ready", desc="The aggregate readiness state of this pod for accepting traffic."),
            col("Status", desc="The aggregate status of the containers in this pod."),
            col(
                "Restarts",
                desc="The number of times the containers in this pod have been restarted and "
                "when the last container in this pod has restarted.",
            ),
            AGE,
            col(
                "IP",
                priority=1,
                desc="IP address allocated to the pod. Routable at least within the cluster. "
                "Empty if not yet allocated.",
            ),
            col(
                "Node",
                priority=1,
                desc="NodeName is a request to schedule this pod onto a specific node.",
            ),
            col(
                "Nominated Node",
                priority=1,
                desc="nominatedNodeName is set only when this pod preempts other pods on the node.",
            ),
            col(
                "Readiness Gates",
                priority=1,
                desc="If specified, all readiness gates will be evaluated for pod readiness.",
            ),
        ],
        _pod_row,
    ),
    "deployments": (
        [
            NAME,
            col("Ready", desc="Number of the pod with ready state"),
            col(
                "Up-to-date",
                "integer",
                desc="Total number of non-terminated pods targeted by this deployment that have "
                "the desired template spec.",
            ),
            col(
                "Available",
                "integer",
                desc="Total number of available pods (ready for at least minReadySeconds) "
                "targeted by this deployment.",
            ),
            AGE,
            col("Containers", priority=1, desc="Names of each container in the template."),
            col("Images", priority=1, desc="Images referenced by each container in the template."),
            col(
                "Selector",
                priority=1,
                desc="Label query over pods that should match the replicas count.",
            ),
        ],
        _deploy_row,
    ),
    "replicasets": (
        [
            NAME,
            col("Desired", "integer", desc="Replicas is the number of desired replicas."),
            col(
                "Current",
                "integer",
                desc="Replicas is the most recently observed number of replicas.",
            ),
            col("Ready", "integer", desc="The number of ready replicas for this replica set."),
            AGE,
            col("Containers", priority=1, desc="Names of each container in the template."),
            col("Images", priority=1, desc="Images referenced by each container in the template."),
            col(
                "Selector",
                priority=1,
                desc="Selector is a label query over pods that should match the replica count.",
            ),
        ],
        _rs_row,
    ),
    "statefulsets": (
        [
            NAME,
            col("Ready", desc="Number of the pod with ready state"),
            AGE,
            col("Containers", priority=1, desc="Names of each container in the template."),
            col("Images", priority=1, desc="Images referenced by each container in the template."),
        ],
        _sts_row,
    ),
    "daemonsets": (
        [
            NAME,
            col("Desired", "integer"),
            col("Current", "integer"),
            col("Ready", "integer"),
            col("Up-to-date", "integer"),
            col("Available", "integer"),
            col("Node Selector"),
            AGE,
            col("Containers", priority=1),
            col("Images", priority=1),
            col("Selector", priority=1),
        ],
        _ds_row,
    ),
    "nodes": (
        [
            NAME,
            col("Status", desc="The status of the node"),
            col("Roles", desc="The roles of the node"),
            AGE,
            col("Version", desc="Kubelet Version reported by the node."),
            col("Internal-IP", priority=1),
            col("External-IP", priority=1),
            col("OS-Image", priority=1),
            col("Kernel-Version", priority=1),
            col("Container-Runtime", priority=1),
        ],
        _node_row,
    ),
    "namespaces": (
        [NAME, col("Status", desc="The status of the namespace"), AGE],
        _ns_row,
    ),
    "events": (
        [
            col("Last Seen"),
            col("Type"),
            col("Reason"),
            col("Object"),
            col("Subobject", priority=1),
            col("Source", priority=1),
            col("Message"),
            col("First Seen", priority=1),
            col("Count", "integer", priority=1),
            col("Name", priority=1, fmt="name"),
        ],
        _event_row,
    ),
}


def _pdb_row(p: dict[str, Any], now: datetime) -> list[Any]:
    spec = p.get("spec") or {}
    return [
        p["metadata"]["name"],
        str(spec["minAvailable"]) if spec.get("minAvailable") is not None else "N/A",
        str(spec["maxUnavailable"]) if spec.get("maxUnavailable") is not None else "N/A",
        (p.get("status") or {}).get("disruptionsAllowed", 0),
        age(p["metadata"].get("creationTimestamp"), now),
    ]


def _revision_row(r: dict[str, Any], now: datetime) -> list[Any]:
    ref = next((o for o in r["metadata"].get("ownerReferences") or [] if o.get("controller")), None)
    controller = "<none>"
    if ref is not None:
        group = ref.get("apiVersion", "").rpartition("/")[0]
        controller = f"{ref['kind'].lower()}{'.' + group if group else ''}/{ref['name']}"
    return [
        r["metadata"]["name"],
        controller,
        r.get("revision", 0),
        age(r["metadata"].get("creationTimestamp"), now),
    ]


COLUMNS.update(SERVICE_COLUMNS)
COLUMNS["poddisruptionbudgets"] = (
    [
        NAME,
        col("Min Available", desc="The minimum number of pods that must be available."),
        col("Max Unavailable", desc="The maximum number of pods that may be unavailable."),
        col(
            "Allowed Disruptions",
            "integer",
            desc="Calculated number of pods that may be disrupted at this time.",
        ),
        AGE,
    ],
    _pdb_row,
)
COLUMNS["controllerrevisions"] = (
    [
        NAME,
        col("Controller", desc="Controller of the object"),
        col("Revision", desc=doc("io.k8s.api.apps.v1.ControllerRevision", "revision")),
        AGE,
    ],
    _revision_row,
)


def partial_meta(obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj["metadata"],
    }


def table(
    resource: str,
    objs: list[dict[str, Any]],
    now: datetime,
    resource_version: str,
    include_object: str = "Metadata",
    continue_token: str = "",
    remaining: int | None = None,
    with_columns: bool = True,
) -> dict[str, Any]:
    cols, row = COLUMNS[resource]
    rows = []
    for o in objs:
        r: dict[str, Any] = {"cells": row(o, now)}
        if include_object == "Object":
            r["object"] = o
        elif include_object != "None":
            r["object"] = partial_meta(o)
        rows.append(r)
    meta: dict[str, Any] = {"resourceVersion": resource_version}
    if continue_token:
        meta["continue"] = continue_token
    if remaining is not None:
        meta["remainingItemCount"] = remaining
    out: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta}
    out["columnDefinitions"] = cols if with_columns else []
    out["rows"] = rows
    return out
