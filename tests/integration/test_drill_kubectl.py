"""The drill Kubernetes API server driven by the real kubectl, through the generated kubeconfig."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tests.support import wait_for
from warroom.drill.scenario import load_scenario

pytestmark = pytest.mark.integration


def broken_from_start():
    """checkout-api crash-looping from t=0, nothing else scripted; a long back-off keeps each
    pod in CrashLoopBackOff long enough (15 s wall at 20x) for the test to look at it."""
    sc = load_scenario("crashloop-after-deploy")
    workloads = tuple(
        dataclasses.replace(w, behavior="promo-panic") if w.name == "checkout-api" else w
        for w in sc.workloads
    )
    timings = dataclasses.replace(sc.timings, backoff=300.0)
    return dataclasses.replace(sc, workloads=workloads, timeline=(), reactions=(), timings=timings)


@pytest.fixture
def quiet(drill_factory, quiet_scenario, kubectl):
    h = drill_factory(scenario=quiet_scenario, speed=20.0)
    return h, kubectl(h)


def pods_json(k, selector: str = "") -> list[dict]:
    args = ["get", "pods", "-o", "json"] + (["-l", selector] if selector else [])
    return json.loads(k(*args).stdout)["items"]


def test_get_pods_table_and_json(quiet):
    _, k = quiet
    out = k("get", "pods").stdout.splitlines()
    assert out[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert len(out) == 12
    assert all(line.split()[2] == "Running" for line in out[1:])
    wide = k("get", "pods", "-o", "wide").stdout.splitlines()[0].split()
    assert wide[5:7] == ["IP", "NODE"]
    items = pods_json(k)
    assert len(items) == 11 and all(p["kind"] == "Pod" for p in items)
    one = json.loads(k("get", "pod", items[0]["metadata"]["name"], "-o", "json").stdout)
    assert one["metadata"]["uid"] == items[0]["metadata"]["uid"]
    names = k("get", "deploy,sts", "-o", "name").stdout.split()
    assert "deployment.apps/checkout-api" in names and "statefulset.apps/redis-cart" in names


def test_delete_pod_waits_and_is_replaced(quiet):
    _, k = quiet
    victim = pods_json(k, "app=cart")[0]["metadata"]["name"]
    r = k("delete", "pod", victim)
    assert f'pod "{victim}" deleted' in r.stdout

    def replaced():
        pods = pods_json(k, "app=cart")
        running = [p for p in pods if p["status"]["phase"] == "Running"]
        return len(pods) == len(running) == 2 and running

    pods = wait_for(replaced, what="replacement pod")
    assert victim not in {p["metadata"]["name"] for p in pods}


def test_rollout_restart_replaces_pods(quiet):
    _, k = quiet
    old = {p["metadata"]["name"] for p in pods_json(k, "app=checkout-api")}
    assert "restarted" in k("rollout", "restart", "deployment/checkout-api").stdout
    status = k("rollout", "status", "deployment/checkout-api", "--timeout=120s")
    assert "successfully rolled out" in status.stdout

    def replaced():
        pods = pods_json(k, "app=checkout-api")
        names = {p["metadata"]["name"] for p in pods}
        return len(pods) == 3 and not (names & old) and pods

    pods = wait_for(replaced, what="old pods gone")
    ann = pods[0]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in ann
    history = k("rollout", "history", "deployment/checkout-api").stdout
    assert len([line for line in history.splitlines() if line[:1].isdigit()]) == 2


def test_paused_deployment_is_refused_by_kubectl(quiet):
    _, k = quiet
    k("rollout", "pause", "deployment/cart")
    r = k("rollout", "restart", "deployment/cart", check=False)
    assert r.returncode != 0 and "can't restart paused deployment" in r.stderr


def test_get_events(quiet):
    _, k = quiet
    k("scale", "deployment/frontend", "--replicas=4")
    wait_for(lambda: len(pods_json(k, "app=frontend")) == 4, what="scale up")
    out = k("get", "events").stdout.splitlines()
    assert out[0].split()[:4] == ["LAST", "SEEN", "TYPE", "REASON"]
    assert any("ScalingReplicaSet" in line and "deployment/frontend" in line for line in out)
    assert any("SuccessfulCreate" in line for line in out)


def test_watch_via_kubectl_raw(quiet):
    _, k = quiet
    r = k(
        "get",
        "--raw",
        "/api/v1/namespaces/shop/pods?watch=1&timeoutSeconds=1&labelSelector=app%3Dcart",
    )
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert [e["type"] for e in events] == ["ADDED", "ADDED"]  # initial state, then closes
    r = k("get", "--raw", "/api/v1/namespaces/shop/pods?watch=1&resourceVersion=1")
    (err,) = [json.loads(line) for line in r.stdout.splitlines()]
    assert err["type"] == "ERROR" and err["object"]["code"] == 410
    assert err["object"]["reason"] == "Expired"


def test_read_only_token_forbidden(quiet):
    _, k = quiet
    pod = pods_json(k, "app=cart")[0]["metadata"]["name"]
    r = k("--context", "warroom-drill-readonly", "delete", "pod", pod, check=False)
    assert r.returncode != 0
    assert (
        f'pods "{pod}" is forbidden: User "ro" cannot delete resource "pods" '
        'in API group "" in the namespace "shop"'
    ) in r.stderr
    r = k(
        "--context", "warroom-drill-readonly", "rollout", "restart", "deployment/cart", check=False
    )
    assert 'cannot patch resource "deployments" in API group "apps"' in r.stderr
    assert k("--context", "warroom-drill-readonly", "get", "pods").returncode == 0
    # SelfSubjectAccessReview: a client can ask before it offers a destructive action.
    ro_can = k(
        "--context", "warroom-drill-readonly", "auth", "can-i", "delete", "pods", check=False
    )
    assert ro_can.stdout.strip() == "no"
    assert k("auth", "can-i", "delete", "pods").stdout.strip() == "yes"


def test_logs_current_and_previous(drill_factory, kubectl):
    h = drill_factory(scenario=broken_from_start(), speed=20.0)
    k = kubectl(h)

    def crashlooping():
        for p in pods_json(k, "app=checkout-api"):
            cs = p["status"].get("containerStatuses") or [{}]
            if (cs[0].get("state", {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff":
                return p["metadata"]["name"]
        return None

    pod = wait_for(crashlooping, what="CrashLoopBackOff")
    row = next(line for line in k("get", "pods").stdout.splitlines() if line.startswith(pod))
    assert row.split()[2] == "CrashLoopBackOff"
    current = k("logs", pod).stdout.splitlines()
    previous = k("logs", pod, "--previous").stdout.splitlines()
    for lines in (current, previous):
        assert lines[0].startswith('{"level":"info"') and "starting checkout-api" in lines[0]
        assert any(line.startswith("panic: runtime error") for line in lines)
        assert lines[-1].strip().startswith("/usr/local/go/src/net/http/server.go")
    assert k("logs", pod, "--tail=2").stdout.count("\n") == 2
    healthy = pods_json(k, "app=payments")[0]["metadata"]["name"]
    assert "INFO" in k("logs", healthy, "-c", "payments", "--tail=5").stdout
    r = k("logs", healthy, "-c", "payments", "--previous", check=False)
    assert r.returncode != 0 and "previous terminated container" in r.stderr
