"""What every cluster has besides the scenario's workloads: CoreDNS behind the `kube-dns`
Service in kube-system (what `kubectl cluster-info` lists), the `kubernetes` Service in default
(the API server itself), and per scenario workload its Service and PodDisruptionBudget."""

from __future__ import annotations

import hashlib
from typing import Any

from warroom.drill import services
from warroom.drill.cluster_api import ClusterApi
from warroom.drill.scenario_types import ContainerSpec, LogProfile, Workload

COREDNS_IMAGE = "registry.k8s.io/coredns/coredns:v1.11.3"
COREDNS = Workload(
    "Deployment",
    "coredns",
    2,
    (ContainerSpec("coredns", COREDNS_IMAGE, "coredns", 53, cpu="100m", memory="70Mi"),),
    {"k8s-app": "kube-dns"},
    age=45 * 86400.0,
)
WORKLOADS = {COREDNS.ref: COREDNS}
COREDNS_PORTS = [
    {"containerPort": 53, "name": "dns", "protocol": "UDP"},
    {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
    {"containerPort": 9153, "name": "metrics", "protocol": "TCP"},
]
# kubeadm's default Corefile; CoreDNS logs the SHA512 of the configuration it loaded.
COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
"""
LOGS = {
    "coredns": LogProfile(
        "coredns",
        startup=(
            ".:53",
            "[INFO] plugin/reload: Running configuration SHA512 = "
            + hashlib.sha512(COREFILE.encode()).hexdigest(),
            "CoreDNS-1.11.3",
            "linux/amd64, go1.21.11, a6338e9",
        ),
    )
}


def coredns_template(obj: dict[str, Any]) -> None:
    """CoreDNS's pod template as kubeadm ships it: three named ports, /ready on 8181."""
    spec = obj["spec"]["template"]["spec"]
    c = spec["containers"][0]
    c["args"] = ["-conf", "/etc/coredns/Corefile"]
    c["ports"] = [dict(p) for p in COREDNS_PORTS]
    c["readinessProbe"] = {
        "httpGet": {"path": "/ready", "port": 8181, "scheme": "HTTP"},
        "periodSeconds": 10,
        "timeoutSeconds": 1,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    spec["priorityClassName"] = "system-cluster-critical"
    spec["dnsPolicy"] = "Default"
    spec["serviceAccountName"] = spec["serviceAccount"] = "coredns"


def populate(c: ClusterApi, at: Any) -> None:
    """Services (and so EndpointSlices and Endpoints) and budgets; call after the workloads."""
    kube = c.endpoints
    created = at(-180 * 86400)
    kube.add(
        services.service(
            "kubernetes",
            "default",
            c.aux_uid(),
            created,
            "10.96.0.1",
            [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
            None,
            {"component": "apiserver", "provider": "kubernetes"},
        )
    )
    kube.add(
        services.service(
            "kube-dns",
            "kube-system",
            c.aux_uid(),
            created,
            "10.96.0.10",
            [
                {"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53},
                {"name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153},
            ],
            {"k8s-app": "kube-dns"},
            {
                "k8s-app": "kube-dns",
                "kubernetes.io/cluster-service": "true",
                "kubernetes.io/name": "CoreDNS",
            },
        )
    )
    for w in c.scenario.workloads:
        resource = {"Deployment": "deployments", "StatefulSet": "statefulsets"}.get(w.kind)
        obj = c.store.get(resource, c.namespace, w.name) if resource else None
        if obj is None:
            continue
        workload_created = obj["metadata"]["creationTimestamp"]
        ports = services.ports_of(obj["spec"]["template"])
        if ports:
            headless = w.kind == "StatefulSet"
            kube.add(
                services.service(
                    obj["spec"].get("serviceName", w.name) if headless else w.name,
                    c.namespace,
                    c.aux_uid(),
                    workload_created,
                    "None" if headless else c.cluster_ip(),
                    ports,
                    dict(obj["spec"]["selector"]["matchLabels"]),
                    dict(w.labels),
                )
            )
        c.disruption.populate(obj, workload_created)
