"""The drill API server's pure parts: protobuf request bodies, the jitter drawn from a scenario's
seed, log line timing, image sizes, schema pruning for fieldValidation."""

from __future__ import annotations

import pytest

from warroom.drill import protobuf
from warroom.drill.clock import Scheduler, WorldClock
from warroom.drill.cluster import Cluster
from warroom.drill.kubelet import go_precise, image_size
from warroom.drill.logs import run_lines
from warroom.drill.openapi import unknown_fields
from warroom.drill.scenario import LogProfile, load_scenario

# Captured from kubectl 1.32 with -v=9: `auth can-i delete pods`.
SSAR = bytes.fromhex(
    "6b3873000a320a17617574686f72697a6174696f6e2e6b38732e696f2f7631121753656c665375626a6563"
    "744163636573735265766965771"
    "23c0a100a0012001a0022002a00320038004200121e0a1c0a0473686f70120664656c6574651a0022002a04"
    "706f647332003a001a08080012001a0020001a002200"
)


def test_protobuf_self_subject_access_review():
    assert protobuf.decode(SSAR) == {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {},
        "spec": {"resourceAttributes": {"namespace": "shop", "verb": "delete", "resource": "pods"}},
    }


def _envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    def field(num: int, data: bytes) -> bytes:
        return bytes([num << 3 | 2, len(data)]) + data

    type_meta = field(1, api_version.encode()) + field(2, kind.encode())
    return protobuf.MAGIC + field(1, type_meta) + field(2, raw)


def test_protobuf_eviction_with_delete_options():
    # deleteOptions: gracePeriodSeconds 0 (a pointer: kept), dryRun ["All"], a zero Time
    opts = bytes([0x08, 0x00]) + bytes([0x2A, 3]) + b"All"
    meta = bytes([0x0A, 12]) + b"redis-cart-0" + bytes([0x42, 0])
    raw = bytes([0x0A, len(meta)]) + meta + bytes([0x12, len(opts)]) + opts
    assert protobuf.decode(_envelope("policy/v1", "Eviction", raw)) == {
        "kind": "Eviction",
        "apiVersion": "policy/v1",
        "metadata": {"name": "redis-cart-0"},
        "deleteOptions": {"gracePeriodSeconds": 0, "dryRun": ["All"]},
    }
    grace = _envelope("v1", "DeleteOptions", bytes([0x08, 0x03]))
    assert protobuf.decode(grace)["gracePeriodSeconds"] == 3


def test_protobuf_refuses_what_it_cannot_read():
    with pytest.raises(protobuf.ProtobufError) as e:
        protobuf.decode(_envelope("apps/v1", "Deployment", b""))
    assert e.value.unsupported
    for bad in (b"{}", protobuf.MAGIC + b"\x0a\xff\xff", SSAR[:40]):
        with pytest.raises(protobuf.ProtobufError) as e:
            protobuf.decode(bad)
        assert not e.value.unsupported and "\n" not in str(e.value)


def cluster(name: str = "crashloop-after-deploy") -> Cluster:
    clock = WorldClock()
    return Cluster(load_scenario(name), clock, Scheduler(clock))


def test_jitter_is_drawn_from_the_seed_and_the_key_alone():
    a, b = cluster(), cluster()
    assert a.jitter("crash/x", 0.8, 1.25) == b.jitter("crash/x", 0.8, 1.25)
    assert a.jitter("crash/x", 0.8, 1.25) != a.jitter("crash/y", 0.8, 1.25)
    assert a.jitter("crash/x", 0.8, 1.25) != cluster("node-loss").jitter("crash/x", 0.8, 1.25)
    assert 0.8 <= a.jitter("pull/z", 0.8, 1.25) < 1.25


def test_node_ids_are_stable_and_distinct():
    a, b = cluster(), cluster()
    a.populate()
    b.populate()
    infos = [n["status"]["nodeInfo"] for n in a.store.objects("nodes")]
    assert infos == [n["status"]["nodeInfo"] for n in b.store.objects("nodes")]
    assert len({(i["machineID"], i["systemUUID"], i["bootID"]) for i in infos}) == 3
    assert all(len(i["machineID"]) == 32 and i["systemUUID"].startswith("ec2") for i in infos)


def test_log_lines_of_two_runs_started_together_do_not_share_timestamps():
    profile = LogProfile("p", startup=("a", "b"), lines=("l",), every=2.0)

    def times(seed: str) -> list[float]:
        lines = run_lines(
            profile, seed=seed, start=0.0, end=30.0, crashed=False, base={}, at=WorldClock().at
        )
        return [t for t, _ in lines]

    one, two = times("pod-a/run-1"), times("pod-b/run-1")
    assert one == times("pod-a/run-1")  # the same run prints the same lines at the same times
    assert not set(one) & set(two)
    assert one == sorted(one) and max(one) <= 30.0
    assert len(one) == 2 + 15


def test_image_sizes_and_pull_durations():
    assert image_size("redis:7.2.4-alpine") == image_size("redis:7.2.4-alpine")
    assert image_size("redis:7.2.4-alpine") != image_size("redis:7.2.5-alpine")
    assert 25_000_000 <= image_size("x") < 380_000_000
    assert go_precise(3.4123456789) == "3.412345679s"
    assert go_precise(0.8125) == "812.5ms"
    assert go_precise(2.0) == "2s"


def test_unknown_fields_are_found_and_dropped():
    obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x", "labels": {"any": "thing"}},
        "spec": {
            "replicaz": 3,
            "template": {"spec": {"containers": [{"name": "a", "imagePullPolicyy": "Always"}]}},
            "strategy": {"rollingUpdate": {"maxSurge": "25%"}},
        },
    }
    found = unknown_fields(obj, "io.k8s.api.apps.v1.Deployment")
    assert found == ["spec.replicaz", "spec.template.spec.containers[0].imagePullPolicyy"]
    assert "replicaz" not in obj["spec"] and obj["metadata"]["labels"] == {"any": "thing"}
    assert unknown_fields(obj, "io.k8s.api.apps.v1.Deployment") == []
