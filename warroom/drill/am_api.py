"""The drill's built-in Alertmanager API (v2, and v1 alerts as 0.25 still serves them).

Alerts are the scenario's firing alerts (sent by the drill Prometheus, as a real one would) plus
any posted to /api/v2/alerts (`amtool alert add`). Silences really silence: a matching active
silence makes an alert `suppressed` with `silencedBy`, and DELETE expires it. The routing tree is
the one in /api/v2/status: a single `default` receiver without group_by, so every alert is in
one group with empty group labels.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web

from warroom.drill.am_silences import BadMatcher, LabelMatcher, SilenceError, Silences, parse_filter
from warroom.drill.clock import WorldClock
from warroom.drill.engine import Engine
from warroom.drill.metrics import fingerprint
from warroom.drill.prom_api import PromServer
from warroom.drill.prom_catalog import alert_state_at
from warroom.drill.prom_params import dumps, iso, not_found

RESEND = timedelta(minutes=4)  # Prometheus sends endsAt = now + 4 x its resend delay (1m)
RESOLVE_TIMEOUT = timedelta(minutes=5)
AM_VERSION = {
    "branch": "debian/sid",
    "buildDate": "20230409-09:50:43",
    "buildUser": "team+pkg-go@tracker.debian.org",
    "goVersion": "go1.19.8",
    "revision": "0.25.0-1+b4",
    "version": "0.25.0",
}
CONFIG = (
    "global:\n  resolve_timeout: 5m\n  http_config:\n    follow_redirects: true\n"
    "    enable_http2: true\n  smtp_hello: localhost\n  smtp_require_tls: true\n"
    "route:\n  receiver: default\n  continue: false\nreceivers:\n- name: default\n"
    "templates: []\n"
)
V2_METHODS = {
    "/api/v2/alerts": "GET,POST",
    "/api/v2/silences": "GET,POST",
    "/api/v2/alerts/groups": "GET",
    "/api/v2/receivers": "GET",
    "/api/v2/status": "GET",
}


@dataclass
class Posted:
    """An alert posted by a client (amtool alert add)."""

    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime
    generator_url: str = ""


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.Response(body=dumps(obj), status=status, content_type="application/json")


class AlertmanagerServer:
    def __init__(self, engine: Engine, clock: WorldClock, prom: PromServer) -> None:
        # Alertmanager speaks the wall clock, as the drill's Prometheus does (prom.clock).
        self.engine, self.prom = engine, prom
        self.clock = prom.clock
        self.started = self.clock.now()
        self.silences = Silences(self.clock.now)
        self.posted: dict[str, Posted] = {}
        self.url = ""

    def app(self) -> web.Application:
        app = web.Application()
        r = app.router
        r.add_get("/-/ready", _text("OK"))
        r.add_get("/-/healthy", _text("OK"))
        r.add_get("/api/v2/alerts", self.alerts)
        r.add_post("/api/v2/alerts", self.post_alerts)
        r.add_get("/api/v2/alerts/groups", self.groups)
        r.add_get("/api/v2/silences", self.list_silences)
        r.add_post("/api/v2/silences", self.post_silence)
        r.add_get("/api/v2/silence/{id}", self.get_silence)
        r.add_delete("/api/v2/silence/{id}", self.delete_silence)
        r.add_get("/api/v2/receivers", self.receivers)
        r.add_get("/api/v2/status", self.status)
        r.add_get("/api/v1/alerts", self.v1_alerts)
        r.add_route("*", "/api/v2/{tail:.*}", self.unknown_v2)
        r.add_route("*", "/{tail:.*}", self.unknown)
        return app

    async def unknown(self, request: web.Request) -> web.Response:
        return not_found()

    async def unknown_v2(self, request: web.Request) -> web.Response:
        allowed = V2_METHODS.get(request.path)
        if allowed:
            msg = f"method {request.method} is not allowed, but [{allowed}] are"
            return _json({"code": 405, "message": msg}, 405)
        return _json({"code": 404, "message": f"path {request.path} was not found"}, 404)

    # --- alerts --------------------------------------------------------------------------

    def _current(self) -> list[dict[str, Any]]:
        """Every unresolved alert as a GettableAlert, status from the silences."""
        now = self.clock.now()
        elapsed = self.clock.elapsed()
        out = []
        for a in self.engine.alerts.values():
            if alert_state_at(a, elapsed) != "firing" or a.fired_at is None:
                continue
            expr = quote(a.spec.expr or a.spec.name, safe="")
            out.append(
                self._gettable(
                    a.labels,
                    dict(a.spec.annotations),
                    self.clock.at(a.fired_at),
                    now + RESEND,
                    now,
                    f"{self.prom.url}/graph?g0.expr={expr}&g0.tab=1",
                )
            )
        for p in self.posted.values():
            if p.ends_at > now:
                out.append(
                    self._gettable(
                        p.labels,
                        p.annotations,
                        p.starts_at,
                        p.ends_at,
                        p.updated_at,
                        p.generator_url,
                    )
                )
        return sorted(out, key=lambda g: g["fingerprint"])

    def _gettable(
        self,
        labels: dict[str, str],
        annotations: dict[str, str],
        starts: datetime,
        ends: datetime,
        updated: datetime,
        generator: str,
    ) -> dict[str, Any]:
        silenced = self.silences.active_for(labels)
        out: dict[str, Any] = {
            "annotations": annotations,
            "endsAt": iso(ends),
            "fingerprint": fingerprint(labels),
            "receivers": [{"name": "default"}],
            "startsAt": iso(starts),
            "status": {
                "inhibitedBy": [],
                "silencedBy": silenced,
                "state": "suppressed" if silenced else "active",
            },
            "updatedAt": iso(updated),
        }
        if generator:
            out["generatorURL"] = generator
        out["labels"] = labels
        return out

    def _filtered(self, request: web.Request) -> list[dict[str, Any]] | web.Response:
        q = request.query
        try:
            matchers: list[LabelMatcher] = []
            for f in q.getall("filter", []):
                matchers += parse_filter(f)
        except BadMatcher as e:
            return _json(f"bad matcher format: {e}", 400)
        want = {k: q.get(k, "true").lower() != "false" for k in ("active", "silenced")}
        if q.get("receiver"):
            try:
                routed = re.fullmatch(q["receiver"], "default") is not None
            except re.error as e:
                return _json(f"failed to parse receiver param: {e}", 400)
            if not routed:  # every alert goes to the one receiver, "default"
                return []
        out = []
        for g in self._current():
            state = g["status"]["state"]
            if state == "active" and not want["active"]:
                continue
            if state == "suppressed" and not want["silenced"]:
                continue
            if all(m.matches(g["labels"]) for m in matchers):
                out.append(g)
        return out

    async def alerts(self, request: web.Request) -> web.Response:
        found = self._filtered(request)
        return found if isinstance(found, web.Response) else _json(found)

    async def groups(self, request: web.Request) -> web.Response:
        found = self._filtered(request)
        if isinstance(found, web.Response):
            return found
        if not found:
            return _json([])
        # No group_by in the route: one group, empty group labels (as the real one answers).
        return _json([{"alerts": found, "labels": {}, "receiver": {"name": "default"}}])

    async def post_alerts(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body = json.loads(raw)
            if not isinstance(body, list):
                raise ValueError("expected a list of alerts")
        except ValueError as e:
            msg = f'parsing alerts body from "" failed, because {e}'
            return _json({"code": 400, "message": msg}, 400)
        now = self.clock.now()
        incoming = []
        for item in body:
            labels = item.get("labels") if isinstance(item, dict) else None
            if not isinstance(labels, dict) or not labels:
                return _json("at least one label pair required", 400)
            try:
                starts = _time(item.get("startsAt")) or now
                ends = _time(item.get("endsAt")) or now + RESOLVE_TIMEOUT
            except ValueError as e:
                return _json({"code": 400, "message": str(e)}, 400)
            if starts > ends:
                return _json("start time must be before end time", 400)
            labels = {str(k): str(v) for k, v in labels.items()}
            annotations = {str(k): str(v) for k, v in (item.get("annotations") or {}).items()}
            generator = str(item.get("generatorURL") or "")
            incoming.append(Posted(labels, annotations, starts, ends, now, generator))
        for p in incoming:
            old = self.posted.get(fingerprint(p.labels))
            if old is not None and old.ends_at > now:
                p.starts_at = min(old.starts_at, p.starts_at)  # a re-send keeps its start
            self.posted[fingerprint(p.labels)] = p
        return web.Response(status=200)

    async def v1_alerts(self, request: web.Request) -> web.Response:
        data = []
        for g in self._current():
            st = g["status"]
            data.append(
                {
                    "labels": g["labels"],
                    "annotations": g["annotations"],
                    "startsAt": g["startsAt"],
                    "endsAt": g["endsAt"],
                    "generatorURL": g.get("generatorURL", ""),
                    "status": {
                        "state": st["state"],
                        "silencedBy": st["silencedBy"] or None,
                        "inhibitedBy": None,
                    },
                    "receivers": ["default"],
                    "fingerprint": g["fingerprint"],
                }
            )
        return _json({"status": "success", "data": data})

    # --- silences ------------------------------------------------------------------------

    async def list_silences(self, request: web.Request) -> web.Response:
        try:
            matchers: list[LabelMatcher] = []
            for f in request.query.getall("filter", []):
                matchers += parse_filter(f)
        except BadMatcher as e:
            return _json(f"bad matcher format: {e}", 400)
        return _json(self.silences.listing(matchers))

    async def post_silence(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read())
        except ValueError as e:
            return _json({"code": 400, "message": f"parsing silence body failed: {e}"}, 400)
        try:
            sid = self.silences.post(body)
        except SilenceError as e:
            return _json(e.body, e.status)
        return _json({"silenceID": sid})

    async def get_silence(self, request: web.Request) -> web.Response:
        try:
            found = self.silences.get(request.match_info["id"])
        except SilenceError as e:
            return _json(e.body, e.status) if e.body is not None else web.Response(status=e.status)
        return _json(found.to_api(self.clock.now()))

    async def delete_silence(self, request: web.Request) -> web.Response:
        try:
            self.silences.expire(request.match_info["id"])
        except SilenceError as e:
            return _json(e.body, e.status)
        return web.Response(status=200)

    # --- status --------------------------------------------------------------------------

    async def receivers(self, request: web.Request) -> web.Response:
        return _json([{"name": "default"}])

    async def status(self, request: web.Request) -> web.Response:
        return _json(
            {
                "cluster": {"peers": [], "status": "disabled"},
                "config": {"original": CONFIG},
                "uptime": iso(self.started),
                "versionInfo": AM_VERSION,
            }
        )


def _time(value: Any) -> datetime | None:
    if not value or str(value).startswith("0001-01-01"):
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _text(body: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body)

    return handler
