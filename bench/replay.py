"""A static yardstick for the drill API server: a plain aiohttp server that answers each GET with
the drill server's own recorded answer (status, content type, body bytes), over the same TLS
certificate, on 127.0.0.1.

The first request of a path and query is fetched from the drill server and kept; every later one
is served from memory with no work but writing bytes. A client warmed up once (kubectl's
discovery, the list itself) then measures what serving those same bytes costs at the least, and
the drill server's figure is compared with it (issue #22: within 2x).
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web

from warroom.drill.world import HOST, DrillHandle


class Replay:
    """Runs in a daemon thread with its own loop, like the drill world's run_in_thread."""

    def __init__(self, h: DrillHandle, kubeconfig: Path) -> None:
        self.upstream, self.h = h.kube_url, h
        self.answers: dict[str, tuple[int, str, bytes]] = {}
        self.misses = self.hits = 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.url = ""
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        if not ready.wait(30):
            raise RuntimeError("replay server did not start")
        self.kubeconfig = self._kubeconfig(kubeconfig)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        cert = self.h.world.cert
        server_ctx = cert.server_context() if cert else None
        self._client_ctx: ssl.SSLContext | bool = self.h.ssl_context() or False
        self.session = aiohttp.ClientSession()
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._answer)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0, ssl_context=server_ctx)
        await site.start()
        port = runner.addresses[-1][1]
        self.url = f"{'https' if server_ctx else 'http'}://{HOST}:{port}"

    async def _answer(self, request: web.Request) -> web.Response:
        key = request.path_qs
        got = self.answers.get(key)
        if got is None:
            self.misses += 1
            headers = {k: v for k, v in request.headers.items() if k in ("Authorization", "Accept")}
            async with self.session.get(
                self.upstream + key, headers=headers, ssl=self._client_ctx
            ) as resp:
                got = (resp.status, resp.content_type, await resp.read())
            if got[0] == 200:
                self.answers[key] = got
        else:
            self.hits += 1
        status, ctype, body = got
        return web.Response(status=status, body=body, content_type=ctype)

    def _kubeconfig(self, path: Path) -> Path:
        cfg = yaml.safe_load(self.h.kubeconfig_path.read_text())
        for c in cfg.get("clusters") or []:
            c["cluster"]["server"] = self.url
        path.write_text(yaml.safe_dump(cfg))
        return path

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.session.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
