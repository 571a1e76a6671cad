"""Every object the drill API server serves, in every state a scenario takes it through, is valid
against Kubernetes' own published schemas (1.30, and 1.31 which the server claims, strict: no
field the API does not declare) and loads into the official client's typed models.

Each scenario runs its whole timeline while a responder restarts, scales, evicts, cordons,
rolls a StatefulSet and force-deletes through the API; every version of every object the store
holds (what list, get and watch serve) is checked, and so are the bodies only the API builds
(lists, Scale, reviews, eviction and error Status).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import re
import threading
import time
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import httpx
import jsonschema
import pytest
import referencing
from kubernetes import client, config
from kubernetes.client import models
from kubernetes.client.rest import ApiException

from tests.support import wait_for
from warroom.drill import openapi_gen
from warroom.drill.resources import RESOURCES, STORED
from warroom.drill.scenario import (
    ContainerSpec,
    Scenario,
    Workload,
    list_scenarios,
    load_scenario,
)

pytestmark = pytest.mark.integration
SPEED = 40.0
VERSIONS = ("1.30", openapi_gen.MINOR)
# The official client's model of each kind (core/v1 Event is CoreV1Event there).
MODELS = {
    "Event": "CoreV1Event",
    "EventList": "CoreV1EventList",
    **{r.kind: f"V1{r.kind}" for r in RESOURCES.values() if r.kind != "Event"},
    "Scale": "V1Scale",
    "Status": "V1Status",
}


def test_vendored_openapi_is_what_the_generator_makes_of_the_published_schemas():
    """Nothing in warroom/drill/openapi/ is written by hand: regenerating it changes nothing."""
    fresh = openapi_gen.render(openapi_gen.build(openapi_gen.source_definitions()))
    assert openapi_gen.OUT.read_text(encoding="utf-8") == fresh


@functools.cache
def validator(version: str, api_version: str, kind: str) -> jsonschema.Draft202012Validator:
    """kubernetes-validate's strict schema of a kind, compiled once."""
    base = resources.files("kubernetes_validate").joinpath(
        "kubernetes-json-schema", f"v{version}.0-local-strict"
    )
    slug = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    if kind == "Status":  # meta/v1, served under every group version
        slug = "meta-v1"
    schema = json.loads(base.joinpath(f"{kind.lower()}-{slug}.json").read_text())
    defs = json.loads(base.joinpath("_definitions.json").read_text())
    registry = referencing.Registry().with_resources(
        [
            (r.id(), r)
            for r in (
                referencing.Resource.from_contents(schema),
                referencing.Resource.from_contents(defs),
            )
            if r.id()
        ]
    )
    return jsonschema.Draft202012Validator(schema, registry=registry)


def violations(obj: dict[str, Any]) -> list[str]:
    out = []
    for version in VERSIONS:
        v = validator(version, obj["apiVersion"], obj["kind"])
        for e in v.iter_errors(obj):
            where = ".".join(str(p) for p in e.absolute_path)
            out.append(
                f"{version} {obj['kind']}/{obj['metadata'].get('name')}: {where}: {e.message}"
            )
    model = MODELS.get(obj["kind"]) or f"V1{obj['kind']}"
    try:
        getattr(models, model).from_dict(obj)
    except Exception as e:  # pydantic's ValidationError: what list_node raised
        out.append(f"client {model} {obj['metadata'].get('name')}: {str(e).splitlines()[0]}")
    return out


class Collector:
    """Every distinct state of every stored object, from the store's change feed."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: dict[str, bytes] = {}
        self.kinds: set[str] = set()

    def __call__(self, ch: Any) -> None:
        entry = ch.new or ch.old
        obj = json.loads(entry.raw)
        obj["metadata"].pop("resourceVersion", None)  # states, not versions
        raw = json.dumps(obj, sort_keys=True).encode()
        with self.lock:
            self.kinds.add(ch.resource)
            self.seen.setdefault(hashlib.sha256(raw).hexdigest(), raw)


def respond(api: client.ApiClient, ns: str) -> None:
    """What a responder does through the API, after the scenario's timeline has played."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    now = datetime.now(UTC).isoformat()
    for d in apps.list_namespaced_deployment(ns).items:
        patch = {"spec": {"template": {"metadata": {"annotations": {"x/restartedAt": now}}}}}
        apps.patch_namespaced_deployment(d.metadata.name, ns, patch)
    first = apps.list_namespaced_deployment(ns).items[0].metadata.name
    apps.patch_namespaced_deployment_scale(first, ns, {"spec": {"replicas": 4}})
    image = {"containers": [{"name": "redis-cart", "image": "redis:7.2.5-alpine"}]}
    apps.patch_namespaced_stateful_set("redis-cart", ns, {"spec": {"template": {"spec": image}}})
    node = core.list_node().items[0].metadata.name
    core.patch_node(node, {"spec": {"unschedulable": True}})
    pods = core.list_namespaced_pod(ns).items
    victim = next(p for p in pods if not p.metadata.name.startswith("redis-cart"))
    body = client.V1Eviction(metadata=client.V1ObjectMeta(name=victim.metadata.name))
    try:
        core.create_namespaced_pod_eviction(victim.metadata.name, ns, body)
    except ApiException as e:
        assert e.status == 429, e.body  # its budget may be spent already: refused, validly
    core.delete_namespaced_pod("redis-cart-0", ns, grace_period_seconds=0)
    core.patch_node(node, {"spec": {"unschedulable": None}})
    # A quarantine: a deny-all policy, and a pod relabelled out of its ReplicaSet and back.
    q = "warroom.io/quarantine"
    spec = client.V1NetworkPolicySpec(
        pod_selector=client.V1LabelSelector(match_labels={q: "x"}),
        policy_types=["Ingress", "Egress"],
    )
    client.NetworkingV1Api(api).create_namespaced_network_policy(
        ns, client.V1NetworkPolicy(metadata=client.V1ObjectMeta(name="quarantine"), spec=spec)
    )
    pod = next(
        p for p in core.list_namespaced_pod(ns).items if "pod-template-hash" in p.metadata.labels
    )
    held = {
        k: pod.metadata.labels[k] for k in ("app", "pod-template-hash") if k in pod.metadata.labels
    }
    out = {q: "x", **dict.fromkeys(held)}
    core.patch_namespaced_pod(pod.metadata.name, ns, {"metadata": {"labels": out}})
    core.patch_namespaced_pod(pod.metadata.name, ns, {"metadata": {"labels": {**held, q: None}}})


def api_bodies(h: Any, ns: str) -> list[dict[str, Any]]:
    """What only the API server builds: lists, Scale, reviews, errors."""
    http = httpx.Client(
        base_url=h.kube_url,
        verify=h.world.ssl_context(),
        headers={"Authorization": f"Bearer {h.token}"},
        timeout=30,
    )
    out = []
    with http:
        for r in RESOURCES.values():
            if r.stored:
                base = f"/apis/{r.group}/v1" if r.group else "/api/v1"
                out.append(http.get(f"{base}/{r.plural}").json())
        out.append(http.get(f"/apis/apps/v1/namespaces/{ns}/deployments/cart/scale").json())
        out.append(http.get(f"/api/v1/namespaces/{ns}/pods/nope").json())
        spec = {"resourceAttributes": {"verb": "delete", "resource": "pods", "namespace": ns}}
        for kind, body in (
            ("selfsubjectaccessreviews", {"kind": "SelfSubjectAccessReview", "spec": spec}),
            ("selfsubjectrulesreviews", {"kind": "SelfSubjectRulesReview", "spec": {}}),
        ):
            out.append(http.post(f"/apis/authorization.k8s.io/v1/{kind}", json=body).json())
    return out


def with_daemonset() -> Scenario:
    """No shipped scenario runs a DaemonSet (drain would need --ignore-daemonsets): add one."""
    sc = load_scenario("crashloop-after-deploy")
    c = ContainerSpec("node-exporter", "quay.io/prometheus/node-exporter:v1.8.1", None, 9100)
    ds = Workload("DaemonSet", "node-exporter", 0, (c,), {"app": "node-exporter"})
    return dataclasses.replace(sc, name="with-daemonset", workloads=(*sc.workloads, ds))


@pytest.mark.parametrize("scenario", [*(n for n, _, _ in list_scenarios()), "with-daemonset"])
def test_every_served_object_in_every_state_is_valid(drill_factory, scenario):
    sc = with_daemonset() if scenario == "with-daemonset" else load_scenario(scenario)
    h = drill_factory(scenario=sc, speed=SPEED)
    seen = Collector()
    h.call(lambda: h.world.cluster.store.on_change.append(seen))
    # what populate created before the hook: the current state of everything
    initial = h.call(
        lambda: [e.raw for r in STORED for e in h.world.cluster.store.entries(r)], timeout=30
    )
    api = config.new_client_from_config(config_file=str(h.kubeconfig_path))
    end = max(e.at for e in sc.timeline) + 5
    wait_for(lambda: h.call(h.world.clock.elapsed) > end, timeout=60, what="the timeline")
    respond(api, sc.namespace)
    settled = h.call(h.world.clock.elapsed) + 60
    wait_for(lambda: h.call(h.world.clock.elapsed) > settled, timeout=30, what="settling")
    bodies = [json.loads(r) for r in initial]
    with seen.lock:
        bodies += [json.loads(r) for r in seen.seen.values()]
    kinds = {b["kind"] for b in bodies}
    expected = {RESOURCES[r].kind for r in STORED}
    if not any(w.kind == "DaemonSet" for w in sc.workloads):
        expected.discard("DaemonSet")
    assert expected <= kinds, f"kinds never seen: {expected - kinds}"
    extra = api_bodies(h, sc.namespace)
    assert {b["kind"] for b in extra} >= {"PodList", "Scale", "Status", "SelfSubjectAccessReview"}
    started = time.monotonic()
    problems = [p for b in [*bodies, *extra] for p in violations(b)]
    assert not problems, f"{len(problems)} problems in {len(bodies) + len(extra)} objects: " + (
        "\n".join(problems[:20])
    )
    print(
        f"{scenario}: {len(bodies) + len(extra)} objects valid ({time.monotonic() - started:.1f}s)"
    )
