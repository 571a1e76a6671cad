"""Eviction and disruption budgets, Services that follow their pods, request body formats,
fieldValidation and the OpenAPI endpoints of the drill API server, through the official client
and plain HTTP."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tests.support import wait_for
from warroom.drill.scenario import load_scenario

pytestmark = pytest.mark.integration
# `kubectl auth can-i delete pods` as kubectl 1.32 sends it (captured with -v=9).
SSAR_PROTOBUF = bytes.fromhex(
    "6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a6563"
    "744163636573735265766965771"
    "23c0a100a0012001a0022002a00320038004200121e0a1c0a0473686f70120664656c6574651a0022002a04"
    "706f647332003a001a08080012001a0020001a002200"
)


@pytest.fixture
def world(drill_factory, quiet_scenario):
    return drill_factory(scenario=quiet_scenario, speed=20.0)


def api(handle, context: str | None = None) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(handle.kubeconfig_path), context=context)


def http(handle, token: str | None = None) -> httpx.Client:
    return httpx.Client(
        base_url=handle.kube_url,
        verify=handle.world.ssl_context(),
        headers={"Authorization": f"Bearer {token or handle.token}"},
        timeout=30,
    )


def evict(core: client.CoreV1Api, name: str, **opts) -> None:
    body = client.V1Eviction(
        metadata=client.V1ObjectMeta(name=name, namespace="shop"),
        delete_options=client.V1DeleteOptions(**opts) if opts else None,
    )
    core.create_namespaced_pod_eviction(name, "shop", body)


def test_eviction_takes_a_disruption_then_the_budget_refuses(world):
    core, policy = client.CoreV1Api(api(world)), client.PolicyV1Api(api(world))
    first, second = [
        p.metadata.name
        for p in core.list_namespaced_pod("shop", label_selector="app=frontend").items
    ][:2]
    evict(core, first, dry_run=["All"])  # a dry run checks the budget and changes nothing
    assert core.read_namespaced_pod(first, "shop").metadata.deletion_timestamp is None
    assert (
        policy.read_namespaced_pod_disruption_budget("frontend", "shop").status.disruptions_allowed
        == 1
    )
    evict(core, first)
    pdb = policy.read_namespaced_pod_disruption_budget("frontend", "shop")
    assert pdb.status.disruptions_allowed == 0  # the pod is going: one fewer healthy
    gone = core.read_namespaced_pod(first, "shop").metadata.deletion_timestamp
    assert gone is not None, "the evicted pod is being deleted"
    with pytest.raises(ApiException) as e:  # maxUnavailable 1 is spent until a replacement is ready
        evict(core, second)
    assert e.value.status == 429
    status = json.loads(e.value.body)
    assert status["reason"] == "TooManyRequests"
    assert status["message"] == "Cannot evict pod as it would violate the pod's disruption budget."
    assert status["details"]["causes"] == [
        {
            "reason": "DisruptionBudget",
            "message": "The disruption budget frontend needs 2 healthy pods and has 2 currently",
        }
    ]
    # Once the replacement is ready the budget allows one disruption again.
    wait_for(
        lambda: (
            policy.read_namespaced_pod_disruption_budget(
                "frontend", "shop"
            ).status.disruptions_allowed
            == 1
        ),
        what="the budget to recover",
    )
    evict(core, second)


def test_eviction_refusals(world):
    core = client.CoreV1Api(api(world))
    with pytest.raises(ApiException) as e:
        evict(core, "redis-cart-0")
    assert e.value.status == 429 and "needs 1 healthy pods and has 1 currently" in e.value.body
    with pytest.raises(ApiException) as e:
        evict(core, "no-such-pod")
    assert e.value.status == 404
    with http(world) as h:
        r = h.post(
            "/api/v1/namespaces/shop/pods/redis-cart-0/eviction",
            json={"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "other"}},
        )
    assert r.status_code == 400
    assert r.json()["message"] == "name in URL does not match name in Eviction object"
    ro = client.CoreV1Api(api(world, "warroom-drill-readonly"))
    cart = core.list_namespaced_pod("shop", label_selector="app=cart").items[0].metadata.name
    with pytest.raises(ApiException) as e:
        evict(ro, cart)
    assert e.value.status == 403
    assert json.loads(e.value.body)["message"] == (
        f'pods "{cart}" is forbidden: User "ro" cannot create resource "pods/eviction" '
        'in API group "" in the namespace "shop"'
    )


def broken_checkout():
    sc = load_scenario("crashloop-after-deploy")
    workloads = tuple(
        dataclasses.replace(w, behavior="promo-panic") if w.name == "checkout-api" else w
        for w in sc.workloads
    )
    return dataclasses.replace(sc, workloads=workloads, timeline=(), reactions=())


def test_endpoint_slices_follow_pod_readiness(drill_factory):
    h = drill_factory(scenario=broken_checkout(), speed=20.0)
    c = api(h)
    core, disc = client.CoreV1Api(c), client.DiscoveryV1Api(c)
    sel = "kubernetes.io/service-name=checkout-api"

    def slice_conditions():
        (sl,) = disc.list_namespaced_endpoint_slice("shop", label_selector=sel).items
        return {ep.target_ref.name: ep.conditions for ep in sl.endpoints or []}

    # The pods start ready, then crash: their endpoints turn not ready, and leave Endpoints'
    # ready addresses for its notReadyAddresses.
    wait_for(
        lambda: (conds := slice_conditions()) and not any(c.ready for c in conds.values()),
        what="checkout endpoints not ready",
    )
    ep = core.read_namespaced_endpoints("checkout-api", "shop")
    assert not ep.subsets[0].addresses and len(ep.subsets[0].not_ready_addresses) == 3
    # A deleted pod stays in the slice while it terminates, then leaves it.
    cart = client.DiscoveryV1Api(c)
    pod = core.list_namespaced_pod("shop", label_selector="app=cart").items[0].metadata.name
    core.delete_namespaced_pod(pod, "shop", grace_period_seconds=30)

    def cart_endpoint():
        (sl,) = cart.list_namespaced_endpoint_slice(
            "shop", label_selector="kubernetes.io/service-name=cart"
        ).items
        return {e.target_ref.name: e.conditions for e in sl.endpoints}

    conds = cart_endpoint()[pod]
    assert (conds.ready, conds.serving, conds.terminating) == (False, False, True)
    wait_for(lambda: pod not in cart_endpoint(), what="the deleted pod to leave the slice")
    wait_for(lambda: len(cart_endpoint()) == 2, what="its replacement in the slice")


def test_field_validation(world):
    apps = client.AppsV1Api(api(world))
    path = "/apis/apps/v1/namespaces/shop/deployments/cart"
    patch = {"spec": {"replicas": 3, "replicaz": 4}}
    headers = {"Content-Type": "application/merge-patch+json"}
    with http(world) as h:
        r = h.patch(path + "?fieldValidation=Strict", json=patch, headers=headers)
        assert r.status_code == 400
        assert r.json()["message"] == 'strict decoding error: unknown field "spec.replicaz"'
        assert apps.read_namespaced_deployment("cart", "shop").spec.replicas == 2
        r = h.patch(path, json=patch, headers=headers)  # Warn: the default
        assert r.status_code == 200
        assert r.headers.get_list("warning") == ['299 - "unknown field \\"spec.replicaz\\""']
        assert "replicaz" not in r.json()["spec"] and r.json()["spec"]["replicas"] == 3
        r = h.patch(path + "?fieldValidation=Ignore", json=patch, headers=headers)
        assert r.status_code == 200 and "warning" not in r.headers
        r = h.patch(path + "?fieldValidation=Loose", json=patch, headers=headers)
        assert r.status_code == 400


def test_request_body_formats(world):
    reviews = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    with http(world) as h:
        r = h.post(
            reviews,
            content=SSAR_PROTOBUF,
            headers={"Content-Type": "application/vnd.kubernetes.protobuf"},
        )
        assert r.status_code == 201, r.text
        assert r.json()["spec"] == {
            "resourceAttributes": {"namespace": "shop", "verb": "delete", "resource": "pods"}
        }
        assert r.json()["status"]["allowed"] is True
        yaml_body = "kind: SelfSubjectAccessReview\nspec:\n  resourceAttributes: {verb: get}\n"
        r = h.post(reviews, content=yaml_body, headers={"Content-Type": "application/yaml"})
        assert r.status_code == 201 and r.json()["status"]["allowed"] is True
        r = h.post(reviews, content=b"\xa1\x00", headers={"Content-Type": "application/cbor"})
        assert r.status_code == 415
        assert r.json()["message"] == (
            "the body of the request was in an unknown format - accepted media types include: "
            "application/json, application/yaml, application/vnd.kubernetes.protobuf"
        )
        garbage = b"k8s\x00\x0a\xff\xff"
        r = h.post(
            reviews,
            content=garbage,
            headers={"Content-Type": "application/vnd.kubernetes.protobuf"},
        )
        assert r.status_code == 400 and "\n" not in r.json()["message"]
        r = h.post(reviews, content=b"{not json", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["reason"] == "BadRequest"
        assert "line 1 column 2" in r.json()["message"]
        bad_yaml = "kind: SelfSubjectAccessReview\nspec: [unclosed\n"
        r = h.post(reviews, content=bad_yaml, headers={"Content-Type": "application/yaml"})
        msg = r.json()["message"]
        assert r.status_code == 400 and "\n" not in msg and "line 3" in msg


def test_openapi_endpoints(world):
    with http(world) as h:
        index = h.get("/openapi/v3").json()["paths"]
        assert set(index) == {
            "api/v1",
            "apis/apps/v1",
            "apis/authorization.k8s.io/v1",
            "apis/networking.k8s.io/v1",
            "apis/policy/v1",
            "apis/discovery.k8s.io/v1",
        }
        url = index["apis/policy/v1"]["serverRelativeURL"]
        r = h.get(url)
        assert r.status_code == 200 and r.headers["cache-control"] == "public, immutable"
        doc = r.json()
        assert "io.k8s.api.policy.v1.PodDisruptionBudget" in doc["components"]["schemas"]
        core = h.get(index["api/v1"]["serverRelativeURL"]).json()
        evict = core["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/eviction"]["post"]
        assert evict["x-kubernetes-group-version-kind"]["kind"] == "Eviction"
        assert "io.k8s.api.policy.v1.Eviction" in core["components"]["schemas"]
        stale = h.get("/openapi/v3/apis/policy/v1?hash=0")
        assert stale.status_code == 301 and stale.headers["location"] == url
        v2 = h.get("/openapi/v2", headers={"Accept": "application/json"}).json()
        assert v2["swagger"] == "2.0" and "io.k8s.api.core.v1.Pod" in v2["definitions"]
        media = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
        pb = h.get("/openapi/v2", headers={"Accept": media})
        assert pb.status_code == 200
        # Go's mime parser refuses the "@": kube-openapi answers with a dot, as here
        assert pb.headers["content-type"] == media.replace("@", ".")
        assert pb.content.startswith(b"\x0a\x032.0\x12")  # Document.swagger, then info
        assert h.get("/openapi/v3/apis/batch/v1").status_code == 404


def test_only_the_scenario_namespace_triggers_reactions(world):
    """Refs carry no namespace: a CoreDNS pod deleted in kube-system is not the scenario's."""
    seen: list[tuple[str, str]] = []
    world.call(world.world.cluster.on_trigger.append, lambda k, ref, info: seen.append((k, ref)))
    core = client.CoreV1Api(api(world))
    dns = core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items[0]
    core.delete_namespaced_pod(dns.metadata.name, "kube-system")
    cart = core.list_namespaced_pod("shop", label_selector="app=cart").items[0]
    core.delete_namespaced_pod(cart.metadata.name, "shop")
    assert world.call(lambda: list(seen)) == [("delete", "deployment/cart")]


def test_budgets_slices_and_services_can_be_watched(world):
    c = api(world)
    core, policy, disc = client.CoreV1Api(c), client.PolicyV1Api(c), client.DiscoveryV1Api(c)
    rv_pdb = policy.list_namespaced_pod_disruption_budget("shop").metadata.resource_version
    rv_slice = disc.list_namespaced_endpoint_slice("shop").metadata.resource_version
    pod = core.list_namespaced_pod("shop", label_selector="app=cart").items[0].metadata.name
    evict(core, pod)

    def changed(fn, rv: str, name: str) -> bool:
        for ev in watch.Watch().stream(fn, "shop", resource_version=rv, timeout_seconds=2):
            if ev["type"] == "MODIFIED" and ev["object"].metadata.name.startswith(name):
                return True
        return False

    assert changed(policy.list_namespaced_pod_disruption_budget, rv_pdb, "cart")
    assert changed(disc.list_namespaced_endpoint_slice, rv_slice, "cart-")
    events = list(watch.Watch().stream(core.list_namespaced_service, "shop", timeout_seconds=1))
    assert {e["object"].metadata.name for e in events} >= {"cart", "redis-cart"}


def test_the_kubernetes_service_points_at_the_drill_api_server(world):
    core = client.CoreV1Api(api(world))
    port = int(world.kube_url.rsplit(":", 1)[1])
    svc = core.read_namespaced_service("kubernetes", "default")
    assert (svc.spec.cluster_ip, svc.spec.ports[0].port) == ("10.96.0.1", 443)
    assert svc.spec.ports[0].target_port == port
    ep = core.read_namespaced_endpoints("kubernetes", "default")
    assert [a.ip for a in ep.subsets[0].addresses] == ["127.0.0.1"]
    assert ep.subsets[0].ports[0].port == port
