"""`warroom serve`: the read-only web page for stakeholders, on 127.0.0.1 unless told.

The token comes from settings ($WARROOM_SERVE_TOKEN or serve.token_file); without one, a
random token is made for this run. The address to hand out (with the token) is printed once
the server listens, on stderr; the bound address alone on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import secrets
import sys

from warroom.bootstrap import repository, settings_from, setup_logging
from warroom.errors import UsageError
from warroom.settings import Settings
from warroom.store import IncidentRepository


def serve(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    host = args.host or settings.serve.host
    port = settings.serve.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise UsageError(f"--port: expected 0..65535, got {port}")
    token = settings.serve.token or secrets.token_urlsafe(24)
    setup_logging(settings)
    repo = repository(settings)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(settings, repo, host, port, token, made=not settings.serve.token))
    return 0


async def _serve(
    settings: Settings, repo: IncidentRepository, host: str, port: int, token: str, made: bool
) -> None:
    from aiohttp import web

    from warroom.web.app import WebView

    runner = web.AppRunner(WebView(settings, repo, token).app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except OSError as exc:
        await runner.cleanup()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    bound = runner.addresses[0]
    url = f"http://{host}:{bound[1]}"
    print(url, flush=True)
    where = "a token made for this run" if made else "the configured token"
    print(f"warroom serve: read-only at {url}/?token={token} ({where})", file=sys.stderr)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warroom serve: listening on {host}, not only this machine", file=sys.stderr)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
