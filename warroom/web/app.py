"""The web server of `warroom serve`: aiohttp, Jinja2 with autoescape, server-sent events.

Routes (GET only; anything else is 405): `/` the open incidents, `/i/<id>` an incident's page,
`/i/<id>/events` its live stream, `/static/...` the page's CSS and script. Every route but
the static files needs the token: `?token=` once (it becomes an HttpOnly, SameSite=Strict
cookie and the address drops it), the cookie, or `Authorization: Bearer`. The Content
Security Policy allows only our own script and style: no inline script, nothing remote.

Each incident someone watches is opened read-only once and followed in a thread
(`room.refresh()`: LISTEN/NOTIFY-driven on PostgreSQL); its page is rebuilt on every change
and every TICK seconds (clocks), and each open stream gets the new rendering.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

from warroom.model import incident_open, utcnow
from warroom.room import WarRoom
from warroom.settings import Settings
from warroom.store import IncidentNotFound, IncidentRepository, StoreError, check_id
from warroom.web.page import Page, build, clean

log = logging.getLogger("warroom.web")
COOKIE = "warroom_token"
FOLLOW_EVERY = 0.25  # seconds between looks at the timeline
TICK = 10.0  # seconds between renderings when nothing happened (the clocks move)
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
STATIC = {"page.css": "text/css", "live.js": "text/javascript"}


@dataclass
class Followed:
    room: WarRoom
    page: Page
    version: int = 0
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    task: asyncio.Task | None = None


class WebView:
    def __init__(
        self,
        settings: Settings,
        repo: IncidentRepository,
        token: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if not token:
            raise ValueError("a token is required")
        self.settings, self.repo, self.token, self.clock = settings, repo, token, clock
        self.env = Environment(
            loader=PackageLoader("warroom.web", "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
        )
        self.followed: dict[str, Followed] = {}

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/", self.index)
        app.router.add_get("/i/{incident}", self.incident)
        app.router.add_get("/i/{incident}/events", self.events)
        app.router.add_get("/static/{name}", self.static)
        app.on_cleanup.append(self._close)
        return app

    # ----- access ------------------------------------------------------------------------------
    def _ok(self, offered: str | None) -> bool:
        return bool(offered) and hmac.compare_digest(offered.encode(), self.token.encode())

    @web.middleware
    async def _guard(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)
        offered = request.query.get("token")
        if offered is not None:
            if not self._ok(offered):
                return _refused()
            # Keep the token out of the address bar, history and logs from here on.
            query = {k: v for k, v in request.query.items() if k != "token"}
            resp = web.HTTPSeeOther(request.rel_url.with_query(query))
            resp.set_cookie(COOKIE, self.token, httponly=True, samesite="Strict", path="/")
            resp.headers.update(HEADERS)
            return resp
        bearer = request.headers.get("Authorization", "")
        header = bearer[7:] if bearer.startswith("Bearer ") else None
        if not (self._ok(request.cookies.get(COOKIE)) or self._ok(header)):
            return _refused()
        resp = await handler(request)
        resp.headers.update({k: v for k, v in HEADERS.items() if k not in resp.headers})
        return resp

    # ----- pages -------------------------------------------------------------------------------
    async def index(self, request: web.Request) -> web.Response:
        rows = await asyncio.to_thread(self._open_incidents)
        html = self.env.get_template("index.html").render(incidents=rows)
        return web.Response(text=html, content_type="text/html")

    def _open_incidents(self) -> list[tuple[str, str]]:
        out = []
        for incident_id in reversed(self.repo.ids()):
            with contextlib.suppress(StoreError, ValueError):
                f = self.followed.get(incident_id)
                if f is not None:
                    if not f.page.resolved:
                        out.append((incident_id, f.page.title))
                    continue
                with self.repo.open(incident_id, read_only=True) as store:
                    events = store.events()
                if incident_open(events):
                    out.append((incident_id, clean(events[0].data.get("title", ""))))
        return out

    async def incident(self, request: web.Request) -> web.Response:
        f = await self._follow(request.match_info["incident"])
        html = self.env.get_template("incident.html").render(p=f.page)
        return web.Response(text=html, content_type="text/html")

    async def events(self, request: web.Request) -> web.StreamResponse:
        f = await self._follow(request.match_info["incident"])
        resp = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no", **HEADERS}
        )
        await resp.prepare(request)
        live = self.env.get_template("live.html")
        seen = -1
        with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
            while True:
                async with f.changed:
                    if f.version == seen:
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(f.changed.wait(), TICK)
                    seen = f.version
                    page = f.page
                data = "".join(f"data: {line}\n" for line in live.render(p=page).splitlines())
                await resp.write(f"event: snapshot\n{data}\n".encode())
        return resp

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        body = resources.files("warroom.web").joinpath("static", name).read_bytes()
        return web.Response(body=body, content_type=STATIC[name], headers=HEADERS)

    # ----- following ---------------------------------------------------------------------------
    async def _follow(self, incident_id: str) -> Followed:
        f = self.followed.get(incident_id)
        if f is not None:
            return f
        try:
            check_id(incident_id)
            store = await asyncio.to_thread(self.repo.open, incident_id, True)
        except (IncidentNotFound, ValueError):
            raise web.HTTPNotFound(text="no such incident") from None
        room = WarRoom(store, self.settings)
        f = self.followed.setdefault(incident_id, Followed(room, build(room, self.clock())))
        if f.room is not room:  # another request opened it first
            store.close()
        elif f.task is None:
            f.task = asyncio.create_task(self._watch(f))
        return f

    async def _watch(self, f: Followed) -> None:
        quiet = 0.0
        while True:
            await asyncio.sleep(FOLLOW_EVERY)
            quiet += FOLLOW_EVERY
            try:
                page = await asyncio.to_thread(self._look, f.room, quiet >= TICK)
            except Exception:  # keep serving what we have; the next look may succeed
                log.exception("following %s failed", f.room.incident_id)
                continue
            if page is not None:
                quiet = 0.0
                async with f.changed:
                    f.page = page
                    f.version += 1
                    f.changed.notify_all()

    def _look(self, room: WarRoom, tick: bool) -> Page | None:
        return build(room, self.clock()) if room.refresh() or tick else None

    async def _close(self, _: web.Application) -> None:
        for f in self.followed.values():
            if f.task is not None:
                f.task.cancel()
            f.room.store.close()


def _refused() -> web.Response:
    return web.Response(
        status=401,
        text="warroom serve: a token is required (open the address `warroom serve` printed)\n",
        headers={**HEADERS, "WWW-Authenticate": 'Bearer realm="warroom"'},
    )
