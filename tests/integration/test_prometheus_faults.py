"""Faults real Prometheus will not produce on demand, from a loopback fake of its HTTP API:
a query slower than the timeout, a proxy's HTML error, auth, and a non-Prometheus answer."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from warroom.checks import CheckSpec, CheckState
from warroom.sources.prometheus import PrometheusSource

pytestmark = pytest.mark.integration


class FakePrometheus:
    """Answers every query with 1; queries containing "slow" sleep first. `mode` swaps the
    whole server for a broken one."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.slow_s = 2.0
        self.auth_seen: list[str | None] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with fake._lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                    fake.auth_seen.append(self.headers.get("Authorization"))
                try:
                    fake.answer(self)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        url = urlparse(h.path)
        query = parse_qs(url.query).get("query", [""])[0]
        if self.mode == "html502":
            return self.send(h, 502, b"<html>Bad Gateway</html>", "text/html")
        if self.mode == "html200":
            return self.send(h, 200, b"<html>login</html>", "text/html")
        if self.mode == "401":
            return self.send(h, 401, b"Unauthorized", "text/plain")
        if "slow" in query:
            time.sleep(self.slow_s)
        if url.path.endswith("/query_range"):
            data = {"resultType": "matrix", "result": [{"metric": {}, "values": [[1, "1"]]}]}
        else:
            data = {"resultType": "vector", "result": [{"metric": {}, "value": [1, "1"]}]}
        body = json.dumps({"status": "success", "data": data}).encode()
        self.send(h, 200, body, "application/json")

    @staticmethod
    def send(h: BaseHTTPRequestHandler, code: int, body: bytes, ctype: str) -> None:
        h.send_response(code)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[FakePrometheus]:
    f = FakePrometheus()
    yield f
    f.close()


FAST = CheckSpec("fast", "up", crit=5)
SLOW = CheckSpec("slow", "slow_query", crit=5)


def test_timeout_lands_on_its_row(fake: FakePrometheus) -> None:
    with PrometheusSource(fake.url, timeout=0.3) as src:
        snap = src.refresh([FAST, SLOW])
    assert snap.ok
    fast, slow = snap.results
    assert (fast.state, fast.value) == (CheckState.OK, 1.0)
    assert slow.state is CheckState.ERROR and slow.error.startswith("timed out after 0.3s (")


def test_everything_timing_out_is_a_source_failure(fake: FakePrometheus) -> None:
    with PrometheusSource(fake.url, timeout=0.3) as src:
        snap = src.refresh([SLOW, CheckSpec("slow2", "slow_too")])
    assert not snap.ok and snap.error.startswith("timed out after 0.3s (")


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("html502", "HTTP 502 from Prometheus"),
        ("401", "HTTP 401 from Prometheus"),
        ("html200", "did not answer like Prometheus"),
    ],
)
def test_broken_source_is_a_whole_failure(fake: FakePrometheus, mode: str, error: str) -> None:
    fake.mode = mode
    with PrometheusSource(fake.url, timeout=2) as src:
        snap = src.refresh([FAST, CheckSpec("other", "x")])
    assert not snap.ok and snap.results == []
    assert snap.error is not None and error in snap.error


def test_connection_refused_fails_fast_without_retries() -> None:
    from tests.fixtures.prometheus_servers import free_port

    with PrometheusSource(f"http://127.0.0.1:{free_port()}", timeout=2) as src:
        snap = src.refresh([FAST])
    assert not snap.ok and "Connection refused" in (snap.error or "")
    assert snap.last_ok_at is None


def test_credentials_are_sent(fake: FakePrometheus) -> None:
    with PrometheusSource(fake.url, bearer_token="s3cret") as src:
        assert src.query("up") == [{"labels": {}, "value": 1.0}]
    with PrometheusSource(fake.url, basic_auth=("ic", "pw")) as src:
        src.query("up")
    assert fake.auth_seen == ["Bearer s3cret", "Basic aWM6cHc="]


def test_checks_run_in_parallel_and_refreshes_do_not_overlap(fake: FakePrometheus) -> None:
    fake.slow_s = 0.2
    specs = [CheckSpec(f"slow{i}", f"slow{i}") for i in range(2)]
    with PrometheusSource(fake.url, timeout=5, max_workers=8) as src:
        threads = [threading.Thread(target=src.refresh, args=(specs,)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    # 2 checks x (instant + range) in flight at once, never those of two refreshes
    assert fake.max_in_flight == 4


def test_url_without_scheme_is_a_source_failure() -> None:
    with PrometheusSource("127.0.0.1:9", timeout=1) as src:
        snap = src.refresh([FAST])
    assert not snap.ok and (snap.error or "").startswith("request failed")
