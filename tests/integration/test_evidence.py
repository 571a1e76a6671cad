"""Evidence bundles against the drill Kubernetes API, real Prometheus, the drill Alertmanager,
and a tiny loopback log server for a 200 MB log, a 403 and cancellation."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import shutil
import stat
import tarfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from kubernetes.aio import client, config

from tests.fixtures.drill import ADMIN_TOKEN, RO_TOKEN
from tests.fixtures.prometheus_servers import Exporter, PrometheusServer, free_port
from tests.support import until
from warroom.actions.evidence import (
    EvidenceCancelled,
    EvidenceLimits,
    EvidenceRequest,
    EvidenceSources,
    collect_evidence,
    list_bundles,
    verify_bundles,
)
from warroom.checks import CheckSpec
from warroom.drill.logs import FAKE_BEARER
from warroom.drill.world import DrillHandle
from warroom.model import Kind
from warroom.room import WarRoom
from warroom.settings import load_settings
from warroom.sources.alertmanager import AlertmanagerSource
from warroom.sources.prometheus import PrometheusSource
from warroom.store.tinydb import TinyDBRepository

pytestmark = pytest.mark.integration
NS = "shop"


# ----- helpers --------------------------------------------------------------------------------
@pytest.fixture
def room(tmp_path: Path) -> WarRoom:
    settings = load_settings(env={"USER": "ann"}, data_dir=tmp_path / "data")
    return WarRoom.declare(
        TinyDBRepository(settings.data_dir), settings, title="Checkout down", severity="P1"
    )


def factory_for(handle: DrillHandle, context: str | None = None) -> Callable[[], Any]:
    async def make() -> client.ApiClient:
        cfg = client.Configuration()
        await config.load_kube_config(
            config_file=str(handle.kubeconfig_path), context=context, client_configuration=cfg
        )
        return client.ApiClient(configuration=cfg)

    return make


async def restarted_checkout_pods(handle: DrillHandle, n: int) -> list[str]:
    async def check() -> list[str] | None:
        async with await factory_for(handle)() as api:
            pods = await client.CoreV1Api(api).list_namespaced_pod(
                NS, label_selector="app=checkout-api"
            )
        names = [
            p.metadata.name
            for p in pods.items
            if p.status.container_statuses
            and p.status.container_statuses[0].restart_count >= 1
            and p.status.container_statuses[0].last_state.terminated is not None
        ]
        return sorted(names) if len(names) >= n else None

    return await until(check, f"{n} crash-looped checkout pods")


def members(tar_path: Path) -> dict[str, bytes]:
    """Regular files of the bundle, by path inside the bundle folder."""
    out = {}
    with tarfile.open(tar_path, "r:gz") as tar:
        for m in tar.getmembers():
            if m.isfile():
                f = tar.extractfile(m)
                assert f is not None
                out[m.name.split("/", 1)[1]] = f.read()
    return out


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def retar(tar_path: Path, change: Callable[[str, bytes], bytes]) -> None:
    """Rewrite the archive with `change` applied to each file's bytes."""
    with tarfile.open(tar_path, "r:gz") as tar:
        items = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar.getmembers()]
    with tarfile.open(tar_path, "w:gz") as tar:
        for m, data in items:
            if data is None:
                tar.addfile(m)
            else:
                data = change(m.name.split("/", 1)[1], data)
                m.size = len(data)
                tar.addfile(m, io.BytesIO(data))


# ----- the drill: a crash-looping pod, real Prometheus, drill Alertmanager --------------------
async def test_crashlooping_pod_bundle(
    room: WarRoom,
    drill_factory: Callable[..., DrillHandle],
    prometheus_server: PrometheusServer,
    prom_exporter: Exporter,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    handle = drill_factory(speed=20.0)
    pod = (await restarted_checkout_pods(handle, 1))[0]
    async with AlertmanagerSource(handle.alertmanager_url) as am:

        async def firing() -> bool:
            snap = await am.fetch()
            return any(a.name == "CheckoutHighErrorRate" for a in snap.alerts)

        await until(firing, "CheckoutHighErrorRate firing")
        prometheus_server.wait_for("sum(rate(http_requests_total[1m]))", lambda v: bool(v))
        specs = [
            CheckSpec(
                "Error ratio",
                'sum(rate(http_requests_total{code="500"}[1m]))'
                " / sum(rate(http_requests_total[1m]))",
                warn=0.01,
                crit=0.05,
                unit="ratio",
            ),
            CheckSpec("Requests", "sum(rate(http_requests_total[1m]))", unit="/s"),
        ]
        room.add_note(f"ran kubectl with --token {ADMIN_TOKEN} to look around")
        seen: list[tuple[float, str]] = []
        with PrometheusSource(prometheus_server.url) as prom:
            res = await collect_evidence(
                room,
                EvidenceRequest(namespace=NS, pod=pod, redact_extra=(ADMIN_TOKEN,)),
                EvidenceSources(
                    kube=factory_for(handle), prometheus=prom, checks=specs, alertmanager=am
                ),
                progress=lambda f, m: seen.append((f, m)),
            )

    # sealed, recorded, and only the archive is left
    evdir = room.store.evidence_dir
    assert stat.S_IMODE(evdir.stat().st_mode) == 0o700
    assert stat.S_IMODE(res.path_tar.stat().st_mode) == 0o600
    assert [p.name for p in evdir.iterdir()] == [res.path_tar.name]
    assert res.sha256 == sha(res.path_tar.read_bytes())
    ev = res.event
    assert ev.kind == Kind.EVIDENCE and ev.actor == "ann" and room.events[-2] == ev
    tick = room.events[-1]  # the P1 playbook's "evidence preserved" is done_when: evidence
    assert tick.data == {"op": "done", "item": "evidence-preserved", "by_event": ev.seq}
    assert ev.data["bundle"] == res.path_tar.name and ev.data["sha256"] == res.sha256
    assert ev.data["size"] == res.path_tar.stat().st_size
    assert ev.text.startswith(f"Evidence bundle {pod}: {ev.data['files']} files, sha256 ")
    assert res.failures == [] and ev.data["failures"] == 0 and ev.text.endswith("no failures")
    assert [f for f, _ in seen] == sorted(f for f, _ in seen) and seen[-1][0] == 1.0

    # contents
    files = members(res.path_tar)
    base = f"pods/{pod}"
    manifest = json.loads(files["manifest.json"])
    assert sha(files["manifest.json"]) == ev.data["manifest_sha256"]
    expected = {
        f"{base}/pod.json",
        f"{base}/logs/checkout-api.log",
        f"{base}/logs/checkout-api.previous.log",
        f"{base}/events.json",
        "owners/Deployment-checkout-api.json",
        "owners/Deployment-checkout-api.events.json",
        "metrics.json",
        "alerts.json",
        "timeline.json",
    }
    assert expected <= set(files)
    rs = [n for n in files if n.startswith("owners/ReplicaSet-checkout-api-")]
    assert len(rs) == 2  # the ReplicaSet and its events
    assert set(files) - {"manifest.json"} == {f["path"] for f in manifest["files"]}
    for f in manifest["files"]:
        assert sha(files[f["path"]]) == f["sha256"] and len(files[f["path"]]) == f["size"]
        assert f["source"] and f["collected_at"]
    assert ev.data["files"] == len(manifest["files"])

    assert "panic: runtime error" in files[f"{base}/logs/checkout-api.previous.log"].decode()
    assert json.loads(files[f"{base}/pod.json"])["metadata"]["name"] == pod
    assert json.loads(files["owners/Deployment-checkout-api.json"])["kind"] == "Deployment"
    pod_events = json.loads(files[f"{base}/events.json"])["items"]
    assert pod_events and all(e["involvedObject"]["name"] == pod for e in pod_events)
    metrics = json.loads(files["metrics.json"])
    assert [c["name"] for c in metrics["checks"]] == ["Error ratio", "Requests"]
    assert all(c["error"] is None and c["series"] for c in metrics["checks"])
    alerts = json.loads(files["alerts.json"])
    assert "CheckoutHighErrorRate" in [a["name"] for a in alerts["alerts"]]
    timeline = json.loads(files["timeline.json"])
    assert timeline["incident"]["id"] == room.incident_id
    assert manifest["timeline_head"]["seq"] == timeline["events"][-1]["seq"]

    # custody: who, where, what
    assert manifest["collector"]["actor"] == "ann" and manifest["collector"]["host"]
    assert manifest["scope"]["owners"][-1] == "Deployment/checkout-api"
    src = {f["path"]: f["source"] for f in manifest["files"]}
    assert src[f"{base}/logs/checkout-api.previous.log"].startswith(
        f"GET /api/v1/namespaces/{NS}/pods/{pod}/log?container=checkout-api&previous=true"
    )
    assert src["metrics.json"] == f"{prometheus_server.url}/api/v1/query_range"

    # permissions inside the archive
    with tarfile.open(res.path_tar, "r:gz") as tar:
        for m in tar.getmembers():
            assert stat.S_IMODE(m.mode) == (0o700 if m.isdir() else 0o600), m.name

    # redaction: the planted bearer and the kubeconfig token appear nowhere, and are counted
    for name, data in files.items():
        assert FAKE_BEARER.encode() not in data, name
        assert ADMIN_TOKEN.encode() not in data, name
    log_entry = next(f for f in manifest["files"] if f["path"].endswith("checkout-api.log"))
    assert log_entry["redactions"] >= 1 and log_entry["redactions_by_rule"]["auth"] >= 1
    assert log_entry["lines"] >= 1 and log_entry["truncated"] is None
    tl_entry = next(f for f in manifest["files"] if f["path"] == "timeline.json")
    assert tl_entry["redactions_by_rule"]["extra"] >= 1
    assert manifest["redactions"] == sum(f["redactions"] for f in manifest["files"]) >= 3

    # verify: intact, then tampered three ways
    assert verify_bundles(room.store) == ([], 1)
    from warroom.cli import main

    assert main(["verify", room.incident_id, "--data-dir", str(tmp_path / "data")]) == 0
    assert "1 evidence bundle(s) match" in capsys.readouterr().out

    original = res.path_tar.read_bytes()
    flipped = bytearray(original)
    flipped[len(flipped) // 2] ^= 0xFF
    res.path_tar.write_bytes(bytes(flipped))
    problems, _ = verify_bundles(room.store)
    assert f"bundle {res.path_tar.name} sha256 differs from the timeline" in problems

    res.path_tar.write_bytes(original)
    log_rel = f"{base}/logs/checkout-api.previous.log"
    retar(res.path_tar, lambda rel, d: d.replace(b"panic", b"PANIC") if rel == log_rel else d)
    problems, checked = verify_bundles(room.store)
    assert checked == 1
    assert f"bundle {res.path_tar.name}: file {log_rel} hash mismatch" in problems
    assert main(["verify", room.incident_id, "--data-dir", str(tmp_path / "data")]) != 0
    assert "hash mismatch" in capsys.readouterr().err

    res.path_tar.unlink()
    assert verify_bundles(room.store) == ([f"bundle {res.path_tar.name} missing"], 1)
    rows = list_bundles(room.store)
    assert [(r["bundle"], r["actor"], r["sha256"], r["present"]) for r in rows] == [
        (res.path_tar.name, "ann", res.sha256, False)
    ]
    assert rows[0]["files"] == ev.data["files"] and rows[0]["time"] == ev.ts


async def test_partial_failures_still_complete(
    room: WarRoom, drill_factory: Callable[..., DrillHandle], quiet_scenario: Any
) -> None:
    """Pod deleted (404), Prometheus and Alertmanager unreachable: the bundle completes and the
    manifest says what failed; the read-only user reads everything it needs."""
    handle = drill_factory(scenario=quiet_scenario, speed=1.0)
    async with await factory_for(handle)() as api:
        core = client.CoreV1Api(api)
        pods = await core.list_namespaced_pod(NS, label_selector="app=cart")
        gone = pods.items[0].metadata.name
        await core.delete_namespaced_pod(gone, NS)

        async def deleted() -> bool:
            names = {p.metadata.name for p in (await core.list_namespaced_pod(NS)).items}
            return gone not in names

        await until(deleted, f"{gone} deleted")
    dead_prom, dead_am = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    with PrometheusSource(dead_prom, timeout=2) as prom:
        async with AlertmanagerSource(dead_am, timeout=2) as am:
            res = await collect_evidence(
                room,
                EvidenceRequest(namespace=NS, pod=gone, keep_folder=True),
                EvidenceSources(
                    kube=factory_for(handle, "warroom-drill-readonly"),
                    prometheus=prom,
                    checks=[CheckSpec("Up", "up")],
                    alertmanager=am,
                ),
            )
    folder = res.path_tar.with_name(res.path_tar.name.removesuffix(".tar.gz"))
    for path in [folder, *folder.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path
    whats = {f["what"]: f["error"] for f in res.failures}
    assert whats[f"pod {NS}/{gone}"].startswith("HTTP 404 NotFound")
    assert f"metrics from {dead_prom}" in whats
    assert (
        f"alerts from {dead_am}" in whats
        and "Connection refused" in whats[f"alerts from {dead_am}"]
    )
    assert res.manifest["failures"] == res.failures
    assert res.event.data["failures"] == len(res.failures) == 3
    assert res.event.text.endswith("3 failures")
    files = members(res.path_tar)
    assert f"pods/{gone}/events.json" in files  # events outlive their pod
    assert "metrics.json" in files and "alerts.json" not in files and "timeline.json" in files
    assert RO_TOKEN.encode() not in b"".join(files.values())
    assert verify_bundles(room.store) == ([], 1)


async def test_incident_wide_is_capped_and_worst_first(
    room: WarRoom, drill_factory: Callable[..., DrillHandle]
) -> None:
    handle = drill_factory(speed=20.0)
    crashed = await restarted_checkout_pods(handle, 3)
    res = await collect_evidence(
        room,
        EvidenceRequest(namespace=NS, pod=None, limits=EvidenceLimits(max_pods=2)),
        EvidenceSources(kube=factory_for(handle)),
    )
    scope = res.manifest["scope"]
    assert len(scope["pods"]) == 2 and set(scope["pods"]) < set(crashed)
    assert len(scope["pods_skipped"]) >= 1 and set(scope["pods"]).isdisjoint(scope["pods_skipped"])
    assert scope["owners"][-1] == "Deployment/checkout-api"
    assert len([o for o in scope["owners"] if o.startswith("Deployment/")]) == 1
    files = members(res.path_tar)
    summary = json.loads(files["pods.json"])
    assert len(summary) == 11 and {"name", "status", "restarts"} <= set(summary[0])
    for name in scope["pods"]:
        assert f"pods/{name}/logs/checkout-api.previous.log" in files
    assert res.event.text.startswith(f"Evidence bundle {NS} (2 pods): ")
    assert any("beyond max_pods=2" in s for s in res.manifest["skipped"])


# ----- a loopback "API server" for a 200 MB log, a 403, and cancellation ---------------------
BIG = 200 * 1024 * 1024
CLIENT_TOKEN = "client-own-token-5e6f7a8b"


def _line_block() -> bytes:
    lines = []
    for i in range(400):
        if i % 3 == 0:
            lines.append(
                f'{{"level":"debug","i":{i},"headers":{{"Authorization":"Bearer {FAKE_BEARER}"}}}}'
            )
        else:
            lines.append(f'{{"level":"info","i":{i},"msg":"checkout completed","ms":{i % 97}}}')
    return ("\n".join(lines) + "\n").encode()


# Not UTF-8, a 3 MiB "line", and no newline at the end: kept byte for byte.
ODD_LOG = b"caf\xe9 \xff\xfe latin-1\n" + b"x" * (3 * 1024 * 1024) + b"\nlast line, no newline"


# 5000 lines of 2 KiB: the last 5000 lines weigh 10 MiB; the panic is the newest line.
HEAVY_LOG = [f"{i:06d} ".encode() + b"h" * 2040 + b"\n" for i in range(4999)] + [
    b"panic: runtime error: invalid memory address (the newest line)\n"
]


class FakeApi:
    """Pods `big` (a 200 MB log that ignores tailLines/limitBytes, like a misbehaving server),
    `locked` (logs forbidden) and `stalled` (one line, then silence). Remembers the log queries
    and the bytes it managed to send."""

    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        self.sent = 0
        self.streaming = asyncio.Event()
        self.stop = asyncio.Event()
        self.block = _line_block()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/api/v1/namespaces/{ns}/pods/{name}", self.pod)
        app.router.add_get("/api/v1/namespaces/{ns}/pods/{name}/log", self.log)
        app.router.add_get("/api/v1/namespaces/{ns}/events", self.events)
        return app

    async def pod(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in ("big", "locked", "stalled", "odd", "heavy"):
            return web.json_response({"kind": "Status", "reason": "NotFound"}, status=404)
        return web.json_response(
            {
                "kind": "Pod",
                "apiVersion": "v1",
                "metadata": {"name": name, "namespace": request.match_info["ns"]},
                "spec": {"containers": [{"name": "app", "image": "app:1"}]},
                "status": {
                    "phase": "Running",
                    "containerStatuses": [{"name": "app", "restartCount": 0, "ready": True}],
                },
            }
        )

    async def events(self, request: web.Request) -> web.Response:
        return web.json_response({"kind": "EventList", "apiVersion": "v1", "items": []})

    async def log(self, request: web.Request) -> web.StreamResponse:
        self.queries.append(dict(request.query))
        if request.match_info["name"] == "locked":
            body = {
                "kind": "Status",
                "status": "Failure",
                "reason": "Forbidden",
                "message": 'pods "locked" is forbidden: User "ro" cannot get resource "pods/log"',
                "code": 403,
            }
            return web.json_response(body, status=403)
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await resp.prepare(request)
        if request.match_info["name"] == "heavy":  # a kubelet: tailLines, then limitBytes
            tail = int(request.query.get("tailLines", len(HEAVY_LOG)))
            body = b"".join(HEAVY_LOG[-tail:])
            await resp.write(body[: int(request.query.get("limitBytes", len(body)))])
            await resp.write_eof()
            return resp
        if request.match_info["name"] == "odd":
            await resp.write(ODD_LOG)
            await resp.write_eof()
            return resp
        await resp.write(f"starting with client token {CLIENT_TOKEN}\n".encode())
        self.streaming.set()
        if request.match_info["name"] == "stalled":  # a kubelet that stops sending
            await self.stop.wait()
            return resp
        try:
            while self.sent < BIG:
                await resp.write(self.block)
                self.sent += len(self.block)
        except (ConnectionError, RuntimeError):
            return resp  # the client hung up: what a cap should make it do
        await resp.write_eof()
        return resp


@pytest.fixture
async def fake_api() -> AsyncIterator[tuple[FakeApi, str]]:
    api = FakeApi()
    runner = web.AppRunner(api.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield api, f"http://{host}:{port}"
    api.stop.set()
    await runner.cleanup()


def plain_factory(url: str) -> Callable[[], client.ApiClient]:
    def make() -> client.ApiClient:  # a plain (not async) factory is accepted too
        cfg = client.Configuration(host=url)
        cfg.api_key = {"BearerToken": f"Bearer {CLIENT_TOKEN}"}
        return client.ApiClient(configuration=cfg)

    return make


async def collect_from_fake(room: WarRoom, url: str, pod: str, **kw: Any) -> Any:
    """One pod's bundle from the fake API, recorded on the room's timeline as ann."""
    return await collect_evidence(
        room,
        EvidenceRequest(namespace="prod", pod=pod, **kw),
        EvidenceSources(kube=plain_factory(url)),
    )


@pytest.mark.parametrize(
    ("limits", "cut"),
    [
        (EvidenceLimits(max_log_lines=1000, max_log_bytes=BIG), "lines"),
        (EvidenceLimits(max_log_lines=10**9, max_log_bytes=1024 * 1024), "bytes"),
        (EvidenceLimits(), None),  # defaults: 5000 lines or 5 MiB, whichever first
    ],
)
async def test_200mb_log_is_capped_while_streaming(
    room: WarRoom, fake_api: tuple[FakeApi, str], limits: EvidenceLimits, cut: str | None
) -> None:
    api, url = fake_api
    res = await collect_evidence(
        room,
        EvidenceRequest(namespace="prod", pod="big", limits=limits),
        EvidenceSources(kube=plain_factory(url)),
    )
    assert api.queries[0]["tailLines"] == str(limits.max_log_lines)
    assert api.queries[0]["limitBytes"] == str(limits.max_log_bytes)
    assert api.sent < BIG  # the client hung up at the cap instead of reading 200 MB
    files = members(res.path_tar)
    log = files["pods/big/logs/app.log"]
    entry = next(f for f in res.manifest["files"] if f["path"] == "pods/big/logs/app.log")
    assert len(log) <= limits.max_log_bytes and log.count(b"\n") <= limits.max_log_lines
    assert log.endswith(b"\n") and entry["lines"] == log.count(b"\n")
    assert entry["truncated"] == (cut or entry["truncated"]) and entry["truncated"]
    assert FAKE_BEARER.encode() not in log and CLIENT_TOKEN.encode() not in log
    assert entry["redactions_by_rule"]["extra"] == 1  # the client's own token, never passed in
    assert entry["redactions_by_rule"]["auth"] == log.count(b"Bearer [REDACTED]")
    assert res.event.actor == "ann" and verify_bundles(room.store) == ([], 1)


async def test_byte_cap_keeps_the_newest_lines(
    room: WarRoom, fake_api: tuple[FakeApi, str]
) -> None:
    """limitBytes counts from the start of the tailLines window: a first read of a heavy log
    holds its oldest lines. The bundle must hold the newest ones, the panic included."""
    api, url = fake_api
    limits = EvidenceLimits(max_log_lines=5000, max_log_bytes=1024 * 1024)
    res = await collect_from_fake(room, url, "heavy", limits=limits)
    log = members(res.path_tar)["pods/heavy/logs/app.log"]
    assert log.endswith(HEAVY_LOG[-1]) and len(log) <= limits.max_log_bytes
    assert log.startswith(b"0") and log.count(b"\n") > 300  # whole lines, as many as fit
    tails = [int(q["tailLines"]) for q in api.queries]
    assert tails[0] == 5000 and len(tails) >= 2 and tails[-1] < 1024 * 1024 // 2048
    entry = next(f for f in res.manifest["files"] if f["path"] == "pods/heavy/logs/app.log")
    assert f"tailLines={tails[-1]}" in entry["source"]
    assert entry["lines"] == log.count(b"\n")


async def test_odd_logs_are_kept_byte_for_byte(
    room: WarRoom, fake_api: tuple[FakeApi, str]
) -> None:
    _, url = fake_api
    res = await collect_from_fake(room, url, "odd")
    assert members(res.path_tar)["pods/odd/logs/app.log"] == ODD_LOG
    entry = next(f for f in res.manifest["files"] if f["path"] == "pods/odd/logs/app.log")
    assert entry["truncated"] is None and entry["redactions"] == 0


async def test_forbidden_logs_are_a_failure_not_an_abort(
    room: WarRoom, fake_api: tuple[FakeApi, str]
) -> None:
    _, url = fake_api
    res = await collect_evidence(
        room,
        EvidenceRequest(namespace="prod", pod="locked"),
        EvidenceSources(kube=plain_factory(url)),
    )
    assert res.failures == [
        {
            "what": "log of prod/locked/app",
            "error": 'HTTP 403 Forbidden: pods "locked" is forbidden: User "ro" cannot get '
            'resource "pods/log"',
        }
    ]
    assert {"pods/locked/pod.json", "pods/locked/events.json"} <= set(members(res.path_tar))
    assert res.event.text.endswith("1 failure")


async def test_cancel_mid_stream_keeps_nothing(
    room: WarRoom, fake_api: tuple[FakeApi, str]
) -> None:
    api, url = fake_api
    cancel = asyncio.Event()

    async def press_cancel() -> None:
        await api.streaming.wait()
        cancel.set()

    presser = asyncio.create_task(press_cancel())
    with pytest.raises(EvidenceCancelled) as info:
        await collect_evidence(
            room,
            EvidenceRequest(
                namespace="prod",
                pod="big",
                limits=EvidenceLimits(max_log_lines=10**9, max_log_bytes=BIG),
            ),
            EvidenceSources(kube=plain_factory(url)),
            cancel=cancel,
        )
    await presser
    assert list(room.store.evidence_dir.iterdir()) == []
    ev = info.value.event
    assert ev is not None and ev.kind == Kind.SYSTEM and "cancelled by ann" in ev.text
    assert not [e for e in room.store.events() if e.kind == Kind.EVIDENCE]
    assert verify_bundles(room.store) == ([], 0)


async def test_cancel_while_the_server_is_silent(
    room: WarRoom, fake_api: tuple[FakeApi, str]
) -> None:
    """The cancel is heard while a read waits (not only between chunks)."""
    api, url = fake_api
    cancel = asyncio.Event()

    async def press_cancel() -> None:
        await api.streaming.wait()
        cancel.set()

    presser = asyncio.create_task(press_cancel())
    with pytest.raises(EvidenceCancelled):
        await collect_evidence(
            room,
            EvidenceRequest(
                namespace="prod", pod="stalled", limits=EvidenceLimits(request_timeout=30.0)
            ),
            EvidenceSources(kube=plain_factory(url)),
            cancel=cancel,
        )
    await presser
    assert list(room.store.evidence_dir.iterdir()) == []


async def test_task_cancel_mid_stream_keeps_nothing(
    room: WarRoom, fake_api: tuple[FakeApi, str]
) -> None:
    api, url = fake_api
    task = asyncio.create_task(
        collect_evidence(
            room,
            EvidenceRequest(
                namespace="prod",
                pod="big",
                limits=EvidenceLimits(max_log_lines=10**9, max_log_bytes=BIG),
            ),
            EvidenceSources(kube=plain_factory(url)),
        )
    )
    await api.streaming.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert list(room.store.evidence_dir.iterdir()) == []
    assert room.store.events()[-1].kind == Kind.SYSTEM


async def test_no_sources_configured_still_seals_the_timeline(room: WarRoom) -> None:
    res = await collect_evidence(
        room,
        EvidenceRequest(namespace="shop", keep_folder=True),
        EvidenceSources(kube=None),
    )
    assert [f["path"] for f in res.manifest["files"]] == ["timeline.json"]
    assert len(res.manifest["skipped"]) == 3 and res.failures == []
    folder = res.path_tar.with_name(res.path_tar.name.removesuffix(".tar.gz"))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700  # kept on request
    assert stat.S_IMODE((folder / "timeline.json").stat().st_mode) == 0o600
    shutil.rmtree(folder)
    assert verify_bundles(room.store) == ([], 1)
