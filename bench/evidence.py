"""Evidence collection of a pod with a 200 MB log: throughput (MB/s) and peak RSS, with a
200 MB cap (everything streamed, redacted and archived) vs the default cap (5000 lines / 5 MiB).

A loopback server (its own process) mimics the pod log endpoint for kubernetes.aio and sends
200 MB whatever tailLines/limitBytes say, like a server that ignores them: the client's own
cap is what stops it. One line in three carries a bearer token, as the drill's checkout logs
do. Each case runs in a fresh process, so ru_maxrss is that case's peak.

    python bench/evidence.py
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIG = 200 * 1024 * 1024
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjaGVja291dCJ9.c2lnbmF0dXJlLW5vdC1yZWFs"


def block(secrets: bool) -> bytes:
    lines = []
    for i in range(400):
        if secrets and i % 3 == 0:
            lines.append(
                f'2026-01-01T00:00:{i % 60:02d}.000000000Z {{"level":"debug","msg":"payments call",'
                f'"request_id":"{i:016x}","headers":{{"Authorization":"Bearer {TOKEN}"}}}}'
            )
        else:
            lines.append(
                f'2026-01-01T00:00:{i % 60:02d}.000000000Z {{"level":"info","msg":"checkout '
                f'completed","request_id":"{i:016x}","user":"u-{i:06d}","duration_ms":{i % 97}}}'
            )
    return ("\n".join(lines) + "\n").encode()


# ----- the server process ---------------------------------------------------------------------
def serve() -> None:
    from aiohttp import web

    blocks = {"secrets": block(True), "clean": block(False)}

    async def pod(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return web.json_response(
            {
                "kind": "Pod",
                "metadata": {"name": name, "namespace": "bench"},
                "spec": {"containers": [{"name": "app"}]},
                "status": {"containerStatuses": [{"name": "app", "restartCount": 0}]},
            }
        )

    async def events(request: web.Request) -> web.Response:
        return web.json_response({"kind": "EventList", "items": []})

    async def log(request: web.Request) -> web.StreamResponse:
        data = blocks[request.match_info["name"]]
        resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await resp.prepare(request)
        sent = 0
        try:
            while sent < BIG:
                await resp.write(data)
                sent += len(data)
            await resp.write_eof()
        except (ConnectionError, RuntimeError):
            pass
        return resp

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/api/v1/namespaces/{ns}/pods/{name}", pod)
        app.router.add_get("/api/v1/namespaces/{ns}/pods/{name}/log", log)
        app.router.add_get("/api/v1/namespaces/{ns}/events", events)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until closed

    asyncio.run(main())


# ----- one case, in its own process -----------------------------------------------------------
def client_case(url: str, pod: str, max_lines: int, max_bytes: int) -> None:
    from kubernetes.aio import client

    from warroom.actions.evidence import EvidenceLimits, collect_evidence
    from warroom.store.tinydb import TinyDBRepository

    # The console has these loaded already (pods pane); importing them costs ~0.5 s, ~30 MB.
    assert client.CoreV1Api and client.AppsV1Api
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    marks: dict[str, float] = {}

    def progress(fraction: float, message: str) -> None:
        if message == "archiving":
            marks["archiving"] = time.perf_counter()

    def factory() -> client.ApiClient:
        return client.ApiClient(configuration=client.Configuration(host=url))

    async def run() -> dict:
        with tempfile.TemporaryDirectory() as tmp:
            repo = TinyDBRepository(Path(tmp))
            store = repo.create(repo.new_id())
            store.append("declared", "bench", actor="bench")
            t0 = time.perf_counter()
            res = await collect_evidence(
                store=store,
                room_or_recorder=lambda kind, text, data, source=None: store.append(
                    kind, text, actor=source or "bench", data=data
                ),
                kube_api_client_factory=factory,
                namespace="bench",
                pod=pod,
                limits=EvidenceLimits(max_log_lines=max_lines, max_log_bytes=max_bytes),
                actor="bench",
                progress=progress,
            )
            t1 = time.perf_counter()
            entry = next(f for f in res.manifest["files"] if f["path"].endswith("app.log"))
            store.close()
            return {
                "written_mb": entry["size"] / 1e6,
                "lines": entry["lines"],
                "redactions": entry["redactions"],
                "truncated": entry["truncated"],
                "stream_s": marks["archiving"] - t0,
                "total_s": t1 - t0,
                "tar_mb": res.path_tar.stat().st_size / 1e6,
            }

    out = asyncio.run(run())
    out["base_rss_mb"] = base_rss / 1024
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))


# ----- driver ---------------------------------------------------------------------------------
CASES = [
    ("200 MB cap, 1 line in 3 with a token", "secrets", 10**9, BIG),
    ("200 MB cap, no secrets", "clean", 10**9, BIG),
    ("default cap (5000 lines / 5 MiB)", "secrets", 5000, 5 * 1024 * 1024),
]


def drive() -> None:
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        url = f"http://127.0.0.1:{port}"
        print(f"log stream offered: {BIG / 1e6:.0f} MB per case (server ignores tailLines)")
        hdr = f"{'case':40} {'written':>9} {'lines':>9} {'stream':>8} {'MB/s':>7} {'total':>7}"
        print(hdr + f" {'tar':>8} {'RSS base':>9} {'RSS peak':>9}")
        for label, pod, lines, cap in CASES:
            r = subprocess.run(
                [sys.executable, __file__, "--client", url, pod, str(lines), str(cap)],
                capture_output=True,
                text=True,
                check=True,
            )
            d = json.loads(r.stdout.strip().splitlines()[-1])
            mbps = d["written_mb"] / d["stream_s"]
            print(
                f"{label:40} {d['written_mb']:7.1f}MB {d['lines']:9d} {d['stream_s']:7.2f}s "
                f"{mbps:7.1f} {d['total_s']:6.2f}s {d['tar_mb']:6.1f}MB "
                f"{d['base_rss_mb']:7.0f}MB {d['peak_rss_mb']:7.0f}MB"
            )
    finally:
        if server.stdin:
            server.stdin.close()
        server.wait(10)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve"]:
        serve()
    elif sys.argv[1:2] == ["--client"]:
        client_case(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        drive()
