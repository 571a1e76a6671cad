"""The drill Kubernetes API server driven by the official sync `kubernetes` client."""

from __future__ import annotations

import threading

import pytest
from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

from tests.support import wait_for
from warroom.drill.tables import pod_status

pytestmark = pytest.mark.integration


@pytest.fixture
def world(drill_factory, quiet_scenario):
    return drill_factory(scenario=quiet_scenario, speed=20.0)


def api(handle, context: str | None = None) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(handle.kubeconfig_path), context=context)


def test_discovery_and_version(world):
    c = api(world)
    assert client.VersionApi(c).get_code().git_version.startswith("v1.")
    groups = client.ApisApi(c).get_api_versions()
    assert [g.name for g in groups.groups] == [
        "apps",
        "authorization.k8s.io",
        "networking.k8s.io",
        "policy",
        "discovery.k8s.io",
    ]
    core = client.CoreV1Api(c).get_api_resources()
    names = {r.name for r in core.resources}
    assert {"pods", "pods/log", "events", "namespaces", "nodes"} <= names
    apps = client.AppsV1Api(c).get_api_resources()
    assert {"deployments", "replicasets", "statefulsets", "deployments/scale"} <= {
        r.name for r in apps.resources
    }


def test_list_node_in_the_typed_models(world):
    """The sync client's pydantic models require nodeInfo's machineID, systemUUID, bootID."""
    nodes = client.CoreV1Api(api(world)).list_node().items
    assert len(nodes) == 3
    ids = [(n.status.node_info.machine_id, n.status.node_info.system_uuid) for n in nodes]
    assert all(m and u for m, u in ids) and len(set(ids)) == 3
    assert all(n.status.node_info.boot_id for n in nodes)


def test_missing_namespace_lists_empty(world):
    core = client.CoreV1Api(api(world))
    assert core.list_namespaced_pod("no-such-namespace").items == []
    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod("cart", "no-such-namespace")
    assert e.value.status == 404 and 'pods \\"cart\\" not found' in e.value.body


def test_list_and_get_pods_with_owner_chain(world):
    core, apps = client.CoreV1Api(api(world)), client.AppsV1Api(api(world))
    pods = core.list_namespaced_pod("shop")
    assert len(pods.items) == 11
    assert int(pods.metadata.resource_version) > 0
    uids = {p.metadata.uid for p in pods.items}
    assert len(uids) == 11
    checkout = core.list_namespaced_pod("shop", label_selector="app=checkout-api").items
    assert len(checkout) == 3
    pod = core.read_namespaced_pod(checkout[0].metadata.name, "shop")
    assert pod.status.phase == "Running"
    assert pod.status.container_statuses[0].ready is True
    assert pod.spec.node_name and pod.status.start_time and pod.status.pod_ip
    assert {c.type for c in pod.status.conditions} >= {"Ready", "PodScheduled", "Initialized"}
    # Pod -> ReplicaSet -> Deployment, as in a real cluster.
    (rs_ref,) = pod.metadata.owner_references
    assert rs_ref.kind == "ReplicaSet" and rs_ref.controller
    rs = apps.read_namespaced_replica_set(rs_ref.name, "shop")
    assert rs.metadata.uid == rs_ref.uid
    assert rs.metadata.labels["pod-template-hash"] == pod.metadata.labels["pod-template-hash"]
    (d_ref,) = rs.metadata.owner_references
    dep = apps.read_namespaced_deployment(d_ref.name, "shop")
    assert (dep.kind, dep.metadata.name, dep.metadata.uid) == (
        "Deployment",
        "checkout-api",
        d_ref.uid,
    )
    assert dep.status.ready_replicas == 3
    sts = apps.read_namespaced_stateful_set("redis-cart", "shop")
    assert sts.status.ready_replicas == 1


def test_selectors(world):
    core = client.CoreV1Api(api(world))
    pods = core.list_namespaced_pod("shop").items
    name, node = pods[0].metadata.name, pods[0].spec.node_name
    by_name = core.list_namespaced_pod("shop", field_selector=f"metadata.name={name}").items
    assert [p.metadata.name for p in by_name] == [name]
    on_node = core.list_namespaced_pod("shop", field_selector=f"spec.nodeName={node}").items
    assert on_node and all(p.spec.node_name == node for p in on_node)
    not_in = core.list_namespaced_pod("shop", label_selector="app notin (checkout-api,frontend)")
    assert {p.metadata.labels["app"] for p in not_in.items} == {"cart", "payments", "redis-cart"}
    assert core.list_pod_for_all_namespaces(label_selector="app in (cart)").items
    with pytest.raises(ApiException) as e:
        core.list_namespaced_pod("shop", field_selector="spec.bogus=1")
    assert e.value.status == 400


def test_pagination(world):
    core = client.CoreV1Api(api(world))
    first = core.list_namespaced_pod("shop", limit=4)
    assert len(first.items) == 4 and first.metadata._continue
    assert first.metadata.remaining_item_count == 7
    rest = core.list_namespaced_pod("shop", limit=100, _continue=first.metadata._continue)
    names = [p.metadata.name for p in first.items + rest.items]
    assert len(names) == 11 == len(set(names))


def test_not_found_is_a_status(world):
    core = client.CoreV1Api(api(world))
    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod("nope", "shop")
    assert e.value.status == 404
    assert (
        '"pods \\"nope\\" not found"' in e.value.body or 'pods \\"nope\\" not found' in e.value.body
    )


def test_watch_times_out_and_410_then_relist(world):
    core = client.CoreV1Api(api(world))
    listed = core.list_namespaced_pod("shop")
    rv = listed.metadata.resource_version
    # A watch with timeoutSeconds closes on its own (bounded so a hang fails, not blocks).
    result: list[str] = []

    def run() -> None:
        w = watch.Watch()
        for ev in w.stream(
            core.list_namespaced_pod, "shop", resource_version=rv, timeout_seconds=1
        ):
            result.append(ev["type"])

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout=20)
    assert not t.is_alive(), "watch with timeoutSeconds=1 did not end"
    # A too-old resourceVersion: 410 Gone as an ERROR event, which the client raises.
    with pytest.raises(ApiException) as e:
        for _ in watch.Watch().stream(
            core.list_namespaced_pod, "shop", resource_version="1", timeout_seconds=5
        ):
            pass
    assert e.value.status == 410
    # Relist and watch from the new resourceVersion: sees a delete.
    relist = core.list_namespaced_pod("shop")
    victim = relist.items[0].metadata.name
    core.delete_namespaced_pod(victim, "shop")
    seen = []
    for ev in watch.Watch().stream(
        core.list_namespaced_pod,
        "shop",
        resource_version=relist.metadata.resource_version,
        timeout_seconds=10,
    ):
        seen.append((ev["type"], ev["object"].metadata.name))
        if ("DELETED", victim) in seen:
            break
    assert ("MODIFIED", victim) in seen and ("DELETED", victim) in seen
    assert any(t == "ADDED" for t, _ in seen), "the ReplicaSet should create a replacement"


def test_watch_bookmarks(drill_factory, quiet_scenario):
    h = drill_factory(scenario=quiet_scenario, bookmark_interval=0.2)
    core = client.CoreV1Api(api(h))
    rv = core.list_namespaced_pod("shop").metadata.resource_version
    w = watch.Watch()
    types = []
    for ev in w.stream(
        core.list_namespaced_pod,
        "shop",
        resource_version=rv,
        allow_watch_bookmarks=True,
        timeout_seconds=3,
    ):
        types.append(ev["type"])
        if ev["type"] == "BOOKMARK":
            w.stop()
    assert "BOOKMARK" in types


def test_events_list_and_field_selectors(world):
    core = client.CoreV1Api(api(world))
    pod = core.list_namespaced_pod("shop", label_selector="app=cart").items[0]
    core.delete_namespaced_pod(pod.metadata.name, "shop")
    events = wait_for(
        lambda: (
            core.list_namespaced_event(
                "shop",
                field_selector=f"involvedObject.name={pod.metadata.name},involvedObject.kind=Pod",
            ).items
        ),
        what="Killing event",
    )
    assert {e.reason for e in events} >= {"Killing"}
    assert all(e.involved_object.name == pod.metadata.name for e in events)
    rs_events = wait_for(
        lambda: (
            core.list_namespaced_event(
                "shop", field_selector="involvedObject.kind=ReplicaSet"
            ).items
        ),
        what="SuccessfulCreate",
    )
    assert any(e.reason == "SuccessfulCreate" for e in rs_events)


def test_patch_flavours_and_paused_rollout(world):
    apps = client.AppsV1Api(api(world))
    core = client.CoreV1Api(api(world))
    # merge patch: pause
    dep = apps.patch_namespaced_deployment(
        "cart", "shop", {"spec": {"paused": True}}, _content_type="application/merge-patch+json"
    )
    assert dep.spec.paused is True
    # json patch: add a template annotation while paused: no new ReplicaSet
    before = {rs.metadata.name for rs in apps.list_namespaced_replica_set("shop").items}
    ops = [{"op": "add", "path": "/spec/template/metadata/annotations", "value": {"x": "1"}}]
    dep = apps.patch_namespaced_deployment(
        "cart", "shop", ops, _content_type="application/json-patch+json"
    )
    assert dep.spec.template.metadata.annotations == {"x": "1"}
    assert dep.metadata.generation == 3
    after = {rs.metadata.name for rs in apps.list_namespaced_replica_set("shop").items}
    assert after == before
    # strategic merge: resume -> the rollout proceeds to a new ReplicaSet
    apps.patch_namespaced_deployment(
        "cart",
        "shop",
        {"spec": {"paused": False}},
        _content_type="application/strategic-merge-patch+json",
    )

    def rolled() -> bool:
        d = apps.read_namespaced_deployment("cart", "shop")
        pods = core.list_namespaced_pod("shop", label_selector="app=cart").items
        return (
            d.status.updated_replicas == 2
            and d.status.ready_replicas == 2
            and len(pods) == 2
            and all(p.metadata.annotations == {"x": "1"} for p in pods)
        )

    wait_for(rolled, what="cart rollout after resume")
    assert {rs.metadata.name for rs in apps.list_namespaced_replica_set("shop").items} > before


def test_scale_subresource(world):
    apps = client.AppsV1Api(api(world))
    core = client.CoreV1Api(api(world))
    scale = apps.patch_namespaced_deployment_scale("frontend", "shop", {"spec": {"replicas": 5}})
    assert scale.spec.replicas == 5
    wait_for(
        lambda: len(core.list_namespaced_pod("shop", label_selector="app=frontend").items) == 5,
        what="scale up",
    )


def test_read_only_token_gets_rbac_403(world):
    ro = client.CoreV1Api(api(world, context="warroom-drill-readonly"))
    pods = ro.list_namespaced_pod("shop").items  # reading is allowed
    name = pods[0].metadata.name
    with pytest.raises(ApiException) as e:
        ro.delete_namespaced_pod(name, "shop")
    assert e.value.status == 403
    assert (
        f'pods \\"{name}\\" is forbidden: User \\"ro\\" cannot delete resource \\"pods\\" '
        f'in API group \\"\\" in the namespace \\"shop\\"'
    ) in e.value.body
    apps = client.AppsV1Api(api(world, context="warroom-drill-readonly"))
    with pytest.raises(ApiException) as e:
        apps.patch_namespaced_deployment("cart", "shop", {"spec": {"paused": True}})
    assert e.value.status == 403 and "deployments.apps" in e.value.body


def test_unauthenticated_gets_401(world):
    cfg = client.Configuration()
    cfg.host = world.kube_url
    cfg.ssl_ca_cert = str(world.cert.ca)
    with pytest.raises(ApiException) as e:
        client.CoreV1Api(client.ApiClient(cfg)).list_namespaced_pod("shop")
    assert e.value.status == 401


def test_pod_status_fields_drive_kubectl_status(drill_factory):
    h = drill_factory(speed=50.0)
    core = client.CoreV1Api(api(h))

    def crashlooping() -> list:
        pods = core.list_namespaced_pod("shop", label_selector="app=checkout-api").items
        return [
            p
            for p in pods
            if pod_status(client.ApiClient().sanitize_for_serialization(p))[0] == "CrashLoopBackOff"
        ]

    bad = wait_for(crashlooping, what="CrashLoopBackOff")
    cs = bad[0].status.container_statuses[0]
    assert cs.state.waiting.reason == "CrashLoopBackOff"
    assert cs.last_state.terminated.reason == "Error"
    assert cs.last_state.terminated.exit_code == 2
    assert cs.restart_count >= 1 and cs.ready is False
    ready = {c.type: c.status for c in bad[0].status.conditions}
    assert ready["Ready"] == "False" and ready["PodScheduled"] == "True"
