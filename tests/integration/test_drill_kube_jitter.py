"""Pods that go bad together drift apart as on a real node: the crash-looping checkout pods do
not crash, back off and restart in lockstep, their logs do not share timestamps, and each image
reports its own size. The jitter comes from the scenario's seed, so a drill replays the same."""

from __future__ import annotations

import re

import pytest
from kubernetes import client, config

from tests.support import wait_for

pytestmark = pytest.mark.integration


def test_crash_looping_pods_are_not_in_lockstep(drill_factory):
    h = drill_factory(scenario="crashloop-after-deploy", speed=20.0)
    api = config.new_client_from_config(config_file=str(h.kubeconfig_path))
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    for name in ("frontend", "cart"):  # new pods pull their images: two more sizes to compare
        apps.patch_namespaced_deployment_scale(name, "shop", {"spec": {"replicas": 4}})

    def looping():
        pods = core.list_namespaced_pod("shop", label_selector="app=checkout-api").items
        live = [p for p in pods if not p.metadata.deletion_timestamp]
        done = [p for p in live if (p.status.container_statuses or [None])[0]]
        if len(done) == 3 and all(p.status.container_statuses[0].restart_count >= 2 for p in done):
            return done
        return None

    pods = wait_for(looping, timeout=60, what="three checkout pods restarted twice")
    last = [p.status.container_statuses[0].last_state.terminated for p in pods]
    assert all(t is not None and t.reason == "Error" for t in last)
    # (to the second, two of three may meet; in lockstep all three always do)
    assert len({(t.started_at, t.finished_at) for t in last}) > 1, "runs in lockstep"
    stamps = [
        set(
            line.split(" ", 1)[0]
            for line in core.read_namespaced_pod_log(
                p.metadata.name, "shop", previous=True, timestamps=True
            ).splitlines()
        )
        for p in pods
    ]
    assert not (stamps[0] & stamps[1]) and not (stamps[1] & stamps[2])
    sizes: dict[str, set[str]] = {}
    for ev in core.list_namespaced_event("shop", field_selector="reason=Pulled").items:
        m = re.search(r'pulled image "([^"]+)" in .*Image size: (\d+) bytes\.', ev.message)
        if m:
            sizes.setdefault(m.group(1), set()).add(m.group(2))
    assert len(sizes) >= 3
    assert all(len(s) == 1 for s in sizes.values()), "an image has one size"
    assert len({next(iter(s)) for s in sizes.values()}) == len(sizes), "images differ in size"
