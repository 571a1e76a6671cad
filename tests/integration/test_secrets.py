"""Secrets never leave (issue #23): 37 kinds planted in a pod's log, env and annotations, in
notes and in alert summaries; then an evidence bundle from a loopback Kubernetes API, the
post-mortem exported (md and json, through the CLI), a status update posted to a loopback webhook
receiver, the web view's page and warroom.log are read: no planted value is anywhere. And the
files those outputs land in are 0600 in a 0700 data dir."""

from __future__ import annotations

import dataclasses
import json
import logging
import stat
import tarfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from kubernetes.aio import client

from tests.fixtures.secrets import PLANTED, PLANTED_ANNOTATIONS, PLANTED_ENV, all_secrets
from tests.fixtures.webhook_receiver import WebhookReceiver
from warroom.actions.evidence import EvidenceRequest, EvidenceSources, collect_evidence
from warroom.actions.outbox import Outbox
from warroom.actions.updates import compose, post
from warroom.alerts import Alert
from warroom.bootstrap import setup_logging
from warroom.cli import main
from warroom.destinations import parse_destinations
from warroom.model import utcnow
from warroom.room import WarRoom
from warroom.settings import Settings, load_settings
from warroom.signals import attach_alert
from warroom.store.tinydb import TinyDBRepository
from warroom.web.page import build as web_page

pytestmark = pytest.mark.integration

LOG = "".join(f"2026-12-01T10:00:{i:02d}Z INFO {p.line}\n" for i, p in enumerate(PLANTED))


class LeakyApi:
    """One pod, `leaky`, whose log, env and annotations carry every planted secret."""

    def app(self) -> web.Application:
        ns = "/api/v1/namespaces/{ns}"
        app = web.Application()
        pod, log, events = f"{ns}/pods/{{name}}", f"{ns}/pods/{{name}}/log", f"{ns}/events"
        routes = [(pod, self.pod), (log, self.log), (events, self.events)]
        app.add_routes([web.get(path, handler) for path, handler in routes])
        return app

    async def pod(self, request: web.Request) -> web.Response:
        env = [{"name": k, "value": v} for k, v in PLANTED_ENV.items()]
        return web.json_response(
            {
                "kind": "Pod",
                "apiVersion": "v1",
                "metadata": {
                    "name": "leaky",
                    "namespace": request.match_info["ns"],
                    "annotations": PLANTED_ANNOTATIONS,
                },
                "spec": {"containers": [{"name": "app", "image": "app:1", "env": env}]},
                "status": {
                    "phase": "Running",
                    "containerStatuses": [{"name": "app", "restartCount": 0, "ready": True}],
                },
            }
        )

    async def log(self, request: web.Request) -> web.Response:
        return web.Response(text=LOG)

    async def events(self, request: web.Request) -> web.Response:
        return web.json_response({"kind": "EventList", "apiVersion": "v1", "items": []})


@pytest.fixture
async def leaky_api() -> AsyncIterator[str]:
    runner = web.AppRunner(LeakyApi().app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}"
    await runner.cleanup()


@pytest.fixture
def settings(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Settings]:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)  # as an older warroom left it
    data.chmod(0o755)
    (data / "warroom.log").write_text("")
    (data / "warroom.log").chmod(0o644)
    s = load_settings(env={"USER": "ann"}, data_dir=data)
    logger = logging.getLogger("warroom")
    before = list(logger.handlers)
    setup_logging(s)
    yield s
    for h in logger.handlers[:]:
        if h not in before:
            logger.removeHandler(h)
            h.close()


def leaks(text: str) -> list[str]:
    return [s for s in all_secrets() if s in text]


async def test_planted_secrets_leave_in_no_output(
    settings: Settings,
    leaky_api: str,
    webhook_receiver: WebhookReceiver,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    data = settings.data_dir
    # an older data dir and log are tightened, and that is said once each
    setup = caplog.get_records("setup")  # the fixture's setup_logging
    said = [r.getMessage() for r in setup if "tightened" in r.getMessage()]
    assert len(said) == 2, said
    room = WarRoom.declare(TinyDBRepository(data), settings, title="Checkout down", severity="P1")
    for p in PLANTED:
        room.add_note(p.line)
        summary = p.line.replace("\n", " ")
        attach_alert(
            room,
            Alert(f"fp-{p.kind}", f"Leak{p.kind}", "critical", "active", None, summary, {}, {}),
        )
    logging.getLogger("warroom.test").error("upstream said: %s", LOG)
    try:
        raise RuntimeError(LOG)
    except RuntimeError:
        logging.getLogger("warroom.test").exception("a traceback quoting a log")

    # the evidence bundle
    def kube() -> client.ApiClient:
        return client.ApiClient(configuration=client.Configuration(host=leaky_api))

    res = await collect_evidence(
        room, EvidenceRequest(namespace="shop", pod="leaky"), EvidenceSources(kube=kube)
    )
    assert stat.S_IMODE(res.path_tar.stat().st_mode) == 0o600
    with tarfile.open(res.path_tar, "r:gz") as tar:
        files = {
            m.name: tar.extractfile(m).read().decode()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }
    log_file = next(v for k, v in files.items() if k.endswith("logs/app.log"))
    assert log_file.count("\n") >= len(PLANTED)  # the log is there, only cut
    assert "[REDACTED]" in next(v for k, v in files.items() if k.endswith("pod.json"))
    for name, text in files.items():
        assert not leaks(text), name

    # the status update: its prefill, and what reaches the receiver with a paste appended
    now = utcnow()
    kind, prefill = compose(room, now)
    assert not leaks(prefill)
    dests = parse_destinations(
        [{"name": "hook", "type": "webhook", "url": webhook_receiver.url("/hook")}], "t.toml"
    )
    outbox = Outbox(room, dests, client_factory=lambda: httpx.AsyncClient(trust_env=False))
    post(room, prefill + "\n" + "\n".join(p.line for p in PLANTED), kind, now, outbox)
    [result] = await outbox.deliver_due()
    assert result.ok
    [req] = webhook_receiver.requests
    assert not leaks(req.body.decode()) and "[REDACTED]" in req.body.decode()

    # the post-mortem, as the CLI writes it
    for fmt in ("md", "json"):
        out = tmp_path / "exports" / f"pm.{fmt}"
        args = ["export", room.incident_id, "--format", fmt, "-o", str(out)]
        assert main([*args, "--data-dir", str(data)]) == 0
        text = out.read_text(encoding="utf-8")
        assert not leaks(text), fmt
        assert "[REDACTED]" in text
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        if fmt == "json":
            json.loads(text)  # still JSON after redaction
    assert main(["export", room.incident_id, "--data-dir", str(data)]) == 0
    assert not leaks(capsys.readouterr().out)

    # the web view's page
    page = web_page(room, utcnow())
    assert not leaks(json.dumps(dataclasses.asdict(page)))

    # warroom.log, and the modes
    log_text = (data / "warroom.log").read_text(encoding="utf-8")
    assert "a traceback quoting a log" in log_text and "[REDACTED]" in log_text
    assert not leaks(log_text)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "warroom.log").stat().st_mode) == 0o600
    room.store.close()
