"""crashloop-after-deploy end to end at 50x: deleting a crash-looping pod does not heal it, a
rollout restart does, and metrics and alerts follow. Also: loopback-only binding, shutdown."""

from __future__ import annotations

import json
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kubernetes import client, config, watch
from prometheus_api_client import PrometheusConnect

from tests.support import wait_for
from warroom.drill.tables import pod_status

pytestmark = pytest.mark.integration
SPEED = 50.0


def status_of(api: client.ApiClient, pod: client.V1Pod) -> str:
    return pod_status(api.sanitize_for_serialization(pod))[0]


def test_delete_does_not_heal_but_rollout_restart_does(drill_factory):
    h = drill_factory(speed=SPEED)
    api = config.new_client_from_config(config_file=str(h.kubeconfig_path))
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    prom = PrometheusConnect(h.prom_url, disable_ssl=True)
    errors = h.scenario.checks[0]
    am = f"{h.alertmanager_url}/api/v2/alerts"

    def checkout_pods() -> list[client.V1Pod]:
        return core.list_namespaced_pod("shop", label_selector="app=checkout-api").items

    def error_ratio() -> float:
        return float(prom.custom_query(errors.expr)[0]["value"][1])

    def crashlooping() -> list[client.V1Pod]:
        return [p for p in checkout_pods() if status_of(api, p) == "CrashLoopBackOff"]

    def all_crashlooping() -> list[client.V1Pod] | None:
        bad = crashlooping()
        return bad if len(bad) == 3 else None

    bad = wait_for(all_crashlooping, what="all checkout pods in CrashLoopBackOff")
    wait_for(lambda: error_ratio() > errors.crit, what="error ratio above crit")

    # Deleting one pod: its replacement crash-loops too.
    before = {p.metadata.name for p in checkout_pods()}
    victim = bad[0].metadata.name
    core.delete_namespaced_pod(victim, "shop")

    def replacement_crashed() -> client.V1Pod | None:
        for p in checkout_pods():
            cs = (p.status.container_statuses or [None])[0]
            last = cs.last_state.terminated if cs and cs.last_state else None
            if p.metadata.name not in before and last is not None and last.reason == "Error":
                return p
        return None

    replacement = wait_for(replacement_crashed, what="the replacement pod to crash")
    assert replacement.status.container_statuses[0].ready is False
    assert h.call(lambda: "broken" in h.world.engine.flags)
    assert error_ratio() > errors.crit

    # A rollout restart, the way kubectl (and warroom) does it.
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    apps.patch_namespaced_deployment(
        "checkout-api",
        "shop",
        {
            "spec": {
                "template": {
                    "metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}
                }
            }
        },
    )
    restarted_at = h.call(h.world.clock.now)

    def healed() -> bool:
        pods = checkout_pods()
        d = apps.read_namespaced_deployment("checkout-api", "shop")
        return (
            len(pods) == 3
            and all(status_of(api, p) == "Running" for p in pods)
            and all(p.status.container_statuses[0].ready for p in pods)
            and d.status.updated_replicas == d.status.ready_replicas == 3
        )

    wait_for(healed, what="checkout-api healthy after rollout restart")
    # How long it took in scenario time, from the pods' own Ready transitions (world clock).
    ready_at = max(
        c.last_transition_time
        for p in checkout_pods()
        for c in p.status.conditions
        if c.type == "Ready"
    )
    assert 10 <= (ready_at - restarted_at).total_seconds() <= 60, "heals over ~20-40 s"
    healed_at = h.call(h.world.clock.elapsed)
    wait_for(lambda: error_ratio() < errors.warn, what="error ratio back under warn")
    wait_for(lambda: not _alerts(am), what="alerts resolved")
    # ... and it stays healed (a minute of scenario time later: no restarts).
    wait_for(lambda: h.call(h.world.clock.elapsed) > healed_at + 60, what="time to pass")
    assert all(p.status.container_statuses[0].restart_count == 0 for p in checkout_pods())
    kinds = [(x.source, x.kind) for x in h.happenings]
    assert ("responder", "delete") in kinds and ("responder", "restart") in kinds
    assert ("reaction", "react") in kinds


def _alerts(url: str) -> list:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_servers_bind_loopback_only(drill):
    addrs = drill.call(lambda: [r.addresses for r in drill.world._runners])
    flat = [a for group in addrs for a in group]
    assert len(flat) == 3 and all(a[0] == "127.0.0.1" for a in flat)
    ports = {a[1] for a in flat}
    # The kernel's view: every listening socket on these ports is bound to 127.0.0.1.
    listening = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            host, port = local.rsplit(":", 1)
            if state == "0A" and int(port, 16) in ports:  # 0A = LISTEN
                listening.setdefault(int(port, 16), set()).add(host)
    if listening:
        assert set(listening) == ports
        assert all(hosts == {"0100007F"} for hosts in listening.values()), listening
    for url in (drill.kube_url, drill.prom_url, drill.alertmanager_url):
        assert url.split("://")[1].startswith("127.0.0.1:")


def test_stop_with_open_watches_is_prompt(drill_factory):
    h = drill_factory(speed=1.0)
    core = client.CoreV1Api(config.new_client_from_config(config_file=str(h.kubeconfig_path)))
    started = threading.Event()
    ended = threading.Event()

    def watcher() -> None:
        w = watch.Watch()
        try:
            for _ in w.stream(core.list_namespaced_pod, "shop", _request_timeout=60):
                started.set()
        except Exception:
            pass
        ended.set()

    threads = [threading.Thread(target=watcher, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    assert started.wait(10)
    stopper = threading.Thread(target=h.stop, kwargs={"timeout": 10})
    stopper.start()
    stopper.join(timeout=5)  # generous bound: the design target is under 2 s
    assert not stopper.is_alive(), "drill world did not stop with watches open"
    assert not h.running
