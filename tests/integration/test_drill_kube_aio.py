"""The drill Kubernetes API server driven by `kubernetes.aio`, with the world in the same loop."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from kubernetes.aio import client, config, watch
from kubernetes.aio.client.exceptions import ApiException

from tests.support import until
from warroom.drill.scenario import load_scenario
from warroom.drill.tables import pod_status
from warroom.drill.world import DrillWorld

pytestmark = pytest.mark.integration
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


async def api_client(world: DrillWorld) -> client.ApiClient:
    cfg = client.Configuration()
    await config.load_kube_config(config_file=str(world.kubeconfig_path), client_configuration=cfg)
    return client.ApiClient(configuration=cfg)


@pytest.fixture
async def world():
    sc = dataclasses.replace(load_scenario("crashloop-after-deploy"), timeline=(), reactions=())
    async with DrillWorld(sc, speed=20.0, read_only_token="ro") as w:
        yield w


async def test_raw_list_without_preload(world):
    async with await api_client(world) as api:
        core = client.CoreV1Api(api)
        resp = await core.list_namespaced_pod_without_preload_content("shop")
        body = json.loads(await resp.read())
        assert body["kind"] == "PodList" and body["apiVersion"] == "v1"
        assert len(body["items"]) == 11
        assert all(p["metadata"]["resourceVersion"] for p in body["items"])
        statuses = {pod_status(p)[0] for p in body["items"]}
        assert statuses == {"Running"}
        typed = await core.list_namespaced_pod("shop", label_selector="app=payments")
        assert [len(p.spec.containers) for p in typed.items] == [2, 2]


async def test_watch_sees_rollout_restart_replace_pods(world):
    async with await api_client(world) as api:
        core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
        listed = await core.list_namespaced_pod("shop", label_selector="app=checkout-api")
        old = {p.metadata.name for p in listed.items}
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        patch = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: now}}}}}
        dep = await apps.patch_namespaced_deployment("checkout-api", "shop", patch)
        assert dep.spec.template.metadata.annotations[RESTARTED_AT] == now
        added, deleted = set(), set()
        w = watch.Watch()
        async for ev in w.stream(
            core.list_namespaced_pod,
            "shop",
            label_selector="app=checkout-api",
            resource_version=listed.metadata.resource_version,
            timeout_seconds=30,
        ):
            name = ev["object"].metadata.name
            if ev["type"] == "ADDED":
                added.add(name)
            elif ev["type"] == "DELETED":
                deleted.add(name)
            if deleted == old and len(added) == 3:
                w.stop()
        await w.close()
        assert deleted == old and not (added & old)
        final = await core.list_namespaced_pod("shop", label_selector="app=checkout-api")
        assert {p.metadata.name for p in final.items} == added
        d = await apps.read_namespaced_deployment("checkout-api", "shop")
        assert d.status.updated_replicas == 3 and d.status.ready_replicas == 3
        assert d.metadata.annotations["deployment.kubernetes.io/revision"]


async def test_watch_410_then_relist(world):
    async with await api_client(world) as api:
        core = client.CoreV1Api(api)
        with pytest.raises(ApiException) as e:
            async for _ in watch.Watch().stream(
                core.list_namespaced_pod, "shop", resource_version="1", timeout_seconds=5
            ):
                pass
        assert e.value.status == 410
        relist = await core.list_namespaced_pod("shop")
        events = []
        async for ev in watch.Watch().stream(
            core.list_namespaced_pod,
            "shop",
            resource_version=relist.metadata.resource_version,
            timeout_seconds=1,
        ):
            events.append(ev)  # nothing changes in a quiet world: ends on its timeout
        assert events == []


async def test_logs_current_tail_and_timestamps(world):
    async with await api_client(world) as api:
        core = client.CoreV1Api(api)
        pod = (await core.list_namespaced_pod("shop", label_selector="app=payments")).items[0]
        with pytest.raises(ApiException) as e:  # two containers and no default: must choose
            await core.read_namespaced_pod_log(pod.metadata.name, "shop")
        assert e.value.status == 400 and "choose one of: [payments envoy]" in e.value.body
        text = await core.read_namespaced_pod_log(
            pod.metadata.name, "shop", container="payments", tail_lines=20, timestamps=True
        )
        lines = text.splitlines()
        assert len(lines) == 20
        assert all(line[:4].isdigit() and "Z " in line[:40] for line in lines)
        assert any("Authorization: Bearer " in line for line in lines)
        with pytest.raises(ApiException) as e:
            await core.read_namespaced_pod_log(
                pod.metadata.name, "shop", container="payments", previous=True
            )
        assert e.value.status == 400 and "previous terminated container" in e.value.body


async def test_patch_workload_types(world):
    async with await api_client(world) as api:
        apps = client.AppsV1Api(api)
        sts = await apps.patch_namespaced_stateful_set(
            "redis-cart", "shop", {"spec": {"template": {"metadata": {"annotations": {"a": "b"}}}}}
        )
        assert sts.metadata.generation == 2
        with pytest.raises(ApiException) as e:
            await apps.patch_namespaced_deployment(
                "cart", "shop", {"spec": {"selector": {"matchLabels": {"app": "x"}}}}
            )
        assert e.value.status == 422
        with pytest.raises(ApiException) as e:
            await apps.patch_namespaced_deployment(
                "cart", "shop", {"metadata": {"resourceVersion": "1"}, "spec": {"replicas": 3}}
            )
        assert e.value.status == 409


async def test_statefulset_pod_recreated_with_same_name(world):
    async with await api_client(world) as api:
        core = client.CoreV1Api(api)
        before = await core.read_namespaced_pod("redis-cart-0", "shop")
        await core.delete_namespaced_pod("redis-cart-0", "shop")

        async def back():
            try:
                p = await core.read_namespaced_pod("redis-cart-0", "shop")
            except ApiException:
                return None
            return (
                p if p.metadata.uid != before.metadata.uid and p.status.phase == "Running" else None
            )

        pod = await until(back, what="redis-cart-0 recreated")
        assert pod.metadata.owner_references[0].kind == "StatefulSet"


async def test_list_node_and_every_new_kind_through_the_typed_models(world):
    """kubernetes.aio's pydantic models require nodeInfo's machineID, systemUUID and bootID."""
    async with await api_client(world) as api:
        core = client.CoreV1Api(api)
        nodes = (await core.list_node()).items
        assert len(nodes) == 3
        info = nodes[0].status.node_info
        assert info.machine_id and info.system_uuid and info.boot_id
        assert len({n.status.node_info.machine_id for n in nodes}) == 3
        svc = await core.read_namespaced_service("kube-dns", "kube-system")
        assert [p.name for p in svc.spec.ports] == ["dns", "dns-tcp", "metrics"]
        slices = await client.DiscoveryV1Api(api).list_namespaced_endpoint_slice(
            "shop", label_selector="kubernetes.io/service-name=cart"
        )
        assert len(slices.items[0].endpoints) == 2
        assert all(ep.conditions.ready for ep in slices.items[0].endpoints)
        pdb = await client.PolicyV1Api(api).read_namespaced_pod_disruption_budget(
            "redis-cart", "shop"
        )
        assert (pdb.spec.min_available, pdb.status.disruptions_allowed) == (1, 0)
        revs = await client.AppsV1Api(api).list_namespaced_controller_revision("shop")
        assert [r.metadata.name.startswith("redis-cart-") for r in revs.items] == [True]
