"""kubectl 1.32 with its default flags against the drill API server, as against a real cluster.

kubectl 1.32 sends typed bodies as protobuf (auth can-i, drain), downloads OpenAPI v3 to decide
how to validate (apply, edit) and to explain, reads Services for cluster-info, evicts through
pods/eviction and retries while a PodDisruptionBudget refuses, rolls back through ReplicaSets
and ControllerRevisions. Each test fails against a server that answers any of it differently.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.support import wait_for

pytestmark = pytest.mark.integration
RO = ("--context", "warroom-drill-readonly")


@pytest.fixture
def world(drill_factory, quiet_scenario, kubectl_132):
    h = drill_factory(scenario=quiet_scenario, speed=20.0)
    return h, kubectl_132(h)


def pods(k, *args: str) -> list[dict]:
    return json.loads(k("get", "pods", "-o", "json", *args).stdout)["items"]


def node_of(k, pod: str) -> str:
    return json.loads(k("get", "pod", pod, "-o", "json").stdout)["spec"]["nodeName"]


def test_auth_can_i_with_protobuf_reviews(world):
    _, k = world
    assert k("auth", "can-i", "delete", "pods").stdout.strip() == "yes"
    assert k("auth", "can-i", "create", "pods/eviction").stdout.strip() == "yes"
    no = k(*RO, "auth", "can-i", "delete", "pods", check=False)
    assert (no.returncode, no.stdout.strip()) == (1, "no")
    assert k(*RO, "auth", "can-i", "watch", "deployments.apps").stdout.strip() == "yes"
    rules = k(*RO, "auth", "can-i", "--list").stdout
    assert "*.*" in rules and "[get list watch]" in rules


def test_drain_server_dry_run_changes_nothing(world):
    h, k = world
    busy = node_of(k, "redis-cart-0")  # its budget (minAvailable 1) would refuse: not this one
    node = next(n for n in h.call(lambda: list(h.world.cluster.nodes)) if n != busy)
    on_node = [p for p in pods(k, "-A") if p["spec"].get("nodeName") == node]
    r = k("drain", node, "--dry-run=server")
    out = r.stdout + r.stderr
    assert f"node/{node} cordoned (server dry run)" in out
    for p in on_node:
        ns, name = p["metadata"]["namespace"], p["metadata"]["name"]
        assert f"evicting pod {ns}/{name} (server dry run)" in out
    assert f"node/{node} drained (server dry run)" in out
    assert "unschedulable" not in k("get", "node", node, "-o", "json").stdout
    after = {p["metadata"]["uid"] for p in pods(k, "-A")}
    assert {p["metadata"]["uid"] for p in on_node} <= after
    budgets = json.loads(k("get", "pdb", "-o", "json").stdout)["items"]
    assert all(b["status"].get("disruptedPods") is None for b in budgets)


def test_drain_reports_the_disruption_budget_that_blocks_it(world):
    _, k = world
    node = node_of(k, "redis-cart-0")
    others = [
        p["metadata"]["name"]
        for p in pods(k)
        if p["spec"].get("nodeName") == node and p["metadata"]["name"] != "redis-cart-0"
    ]
    r = k("drain", node, "--timeout=12s", check=False, timeout=120)
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert (
        'error when evicting pods/"redis-cart-0" -n "shop" (will retry after 5s): '
        "Cannot evict pod as it would violate the pod's disruption budget."
    ) in out
    for name in others:
        assert f"pod/{name} evicted" in out
    assert "Ready,SchedulingDisabled" in k("get", "node", node).stdout
    pod = json.loads(k("get", "pod", "redis-cart-0", "-o", "json").stdout)
    assert pod["status"]["phase"] == "Running" and not pod["metadata"].get("deletionTimestamp")
    # the evicted pods' replacements avoid the cordoned node
    wait_for(
        lambda: all(
            p["spec"].get("nodeName") != node
            for p in pods(k)
            if p["metadata"]["name"] != "redis-cart-0"
        ),
        what="replacements off the cordoned node",
    )


def test_cluster_info_lists_the_control_plane_and_coredns(world):
    h, k = world
    out = k("cluster-info").stdout
    assert f"Kubernetes control plane is running at {h.kube_url}" in out
    assert (
        f"CoreDNS is running at {h.kube_url}/api/v1/namespaces/kube-system/services/"
        "kube-dns:dns/proxy"
    ) in out


def test_apply_an_existing_deployment_validated_by_the_server(world, tmp_path: Path):
    _, k = world
    doc = yaml.safe_load(k("get", "deployment", "cart", "-o", "yaml").stdout)
    doc["spec"]["replicas"] = 3
    path = tmp_path / "cart.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert "deployment.apps/cart configured" in k("apply", "-f", str(path)).stdout
    wait_for(lambda: len(pods(k, "-l", "app=cart")) == 3, what="a third cart pod")
    # --validate=strict (the default) leaves unknown fields to the server, which refuses them
    doc["spec"]["replicaz"] = 4
    path.write_text(yaml.safe_dump(doc))
    r = k("apply", "-f", str(path), check=False)
    assert r.returncode == 1
    assert 'strict decoding error: unknown field "spec.replicaz"' in r.stderr


def test_edit_without_changes_is_cancelled(world):
    _, k = world
    k.env = {"KUBE_EDITOR": "true"}
    r = k("edit", "deployment/cart")
    assert "Edit cancelled, no changes made." in r.stdout + r.stderr


def test_explain_from_openapi_v3(world):
    _, k = world
    out = k("explain", "pods").stdout
    assert out.startswith("KIND:       Pod\nVERSION:    v1\n")
    assert "Pod is a collection of containers" in out
    field = k("explain", "nodes.status.nodeInfo.machineID").stdout
    assert "FIELD: machineID <string>" in field and "MachineID reported by the node" in field
    assert "FIELD: ports <[]ContainerPort>" in k("explain", "pods.spec.containers.ports").stdout
    assert "GROUP:      policy" in k("explain", "poddisruptionbudgets").stdout
    # the OpenAPI v2 explain reads /openapi/v2 in the gnostic protobuf only
    v2 = k("explain", "pods.spec.containers.ports", "--output=plaintext-openapiv2").stdout
    assert "RESOURCE: ports <[]Object>" in v2 and "containerPort\t<integer> -required-" in v2


def test_get_pods_in_a_missing_namespace_is_empty(world):
    _, k = world
    r = k("get", "pods", "-n", "no-such-namespace")
    assert r.stdout == "" and "No resources found in no-such-namespace namespace." in r.stderr


def test_scale_and_cordon(world):
    h, k = world
    assert (
        "deployment.apps/frontend scaled"
        in k("scale", "deployment/frontend", "--replicas=4").stdout
    )
    assert (
        "statefulset.apps/redis-cart scaled" in k("scale", "sts/redis-cart", "--replicas=2").stdout
    )
    wait_for(lambda: len(pods(k, "-l", "app=frontend")) == 4, what="4 frontend pods")
    wait_for(
        lambda: any(p["metadata"]["name"] == "redis-cart-1" for p in pods(k)), what="redis-cart-1"
    )
    node = next(iter(h.call(lambda: list(h.world.cluster.nodes))))
    assert f"node/{node} cordoned" in k("cordon", node).stdout
    row = next(line for line in k("get", "nodes").stdout.splitlines() if line.startswith(node))
    assert row.split()[1] == "Ready,SchedulingDisabled"
    taints = json.loads(k("get", "node", node, "-o", "json").stdout)["spec"]["taints"]
    assert [(t["key"], t["effect"]) for t in taints] == [
        ("node.kubernetes.io/unschedulable", "NoSchedule")
    ]
    assert f"node/{node} uncordoned" in k("uncordon", node).stdout
    row = next(line for line in k("get", "nodes").stdout.splitlines() if line.startswith(node))
    assert row.split()[1] == "Ready"


def revisions(k, ref: str) -> list[str]:
    out = k("rollout", "history", ref).stdout.splitlines()
    return [line.split()[0] for line in out if line[:1].isdigit()]


def test_rollout_undo_deployment_and_statefulset(world):
    _, k = world
    k("set", "image", "deployment/cart", "cart=registry.example.com/shop/cart:1.32.0")
    k("rollout", "status", "deployment/cart", "--timeout=60s")
    assert len(revisions(k, "deployment/cart")) == 2
    assert "deployment.apps/cart rolled back" in k("rollout", "undo", "deployment/cart").stdout
    k("rollout", "status", "deployment/cart", "--timeout=60s")
    image = k("get", "deploy", "cart", "-o", "jsonpath={.spec.template.spec.containers[0].image}")
    assert image.stdout == "registry.example.com/shop/cart:1.31.0"

    assert revisions(k, "statefulset/redis-cart") == ["1"]
    k("set", "image", "statefulset/redis-cart", "redis-cart=redis:7.2.5-alpine")
    k("rollout", "status", "statefulset/redis-cart", "--timeout=60s")
    assert revisions(k, "statefulset/redis-cart") == ["1", "2"]
    undo = k("rollout", "undo", "statefulset/redis-cart").stdout
    assert "statefulset.apps/redis-cart rolled back" in undo
    k("rollout", "status", "statefulset/redis-cart", "--timeout=60s")
    assert revisions(k, "statefulset/redis-cart") == ["2", "3"]  # revision 1 became 3
    sts = json.loads(k("get", "sts", "redis-cart", "-o", "json").stdout)
    assert sts["spec"]["template"]["spec"]["containers"][0]["image"] == "redis:7.2.4-alpine"
    assert sts["status"]["currentRevision"] == sts["status"]["updateRevision"]
    wait_for(
        lambda: (
            pods(k, "-l", "app=redis-cart")[0]["spec"]["containers"][0]["image"]
            == "redis:7.2.4-alpine"
        ),
        what="redis-cart-0 back on 7.2.4",
    )


def test_rollout_undo_heals_the_crashloop_scenario(drill_factory, kubectl_132):
    """The scenario's second fix: roll checkout-api back to 2.8.3 once it crash-loops."""
    h = drill_factory(scenario="crashloop-after-deploy", speed=20.0)
    k = kubectl_132(h)
    wait_for(lambda: "broken" in h.call(lambda: set(h.world.engine.flags)), what="the failure")
    assert (
        "deployment.apps/checkout-api rolled back"
        in k("rollout", "undo", "deployment/checkout-api").stdout
    )

    def reactions() -> list[str]:
        return [x.detail for x in h.call(lambda: h.world.happenings) if x.source == "reaction"]

    wait_for(lambda: "rollback to 2.8.3 also heals" in reactions(), what="the reaction")
    image = k("get", "deploy", "checkout-api", "-o", "jsonpath={..containers[0].image}").stdout
    assert image == "registry.example.com/shop/checkout-api:2.8.3"
