"""Loopback Prometheus HTTP API and Alertmanager API v2 over a scenario's scripted series.

Only the expressions a scenario declares are served (matched after whitespace removal); any
other expression gets Prometheus' 400 bad_data error. Timestamps are world-clock Unix seconds.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from aiohttp import web

from warroom.drill.clock import WorldClock
from warroom.drill.engine import Engine
from warroom.drill.metrics import AlertState, fingerprint, format_value
from warroom.drill.store import dumps

MAX_POINTS = 11000
LOOKBACK = 300.0
BUILD = {
    "version": "2.53.1",
    "revision": "14cfec3f6048b735e08c1e9c64c8d4211d32bab4",
    "branch": "HEAD",
    "buildUser": "root@9f8b3e6f5d1c",
    "buildDate": "20240710-10:16:27",
    "goVersion": "go1.22.5",
}
AM_VERSION = {
    "branch": "HEAD",
    "buildDate": "20221222-14:51:36",
    "buildUser": "root@abe866dd5717",
    "goVersion": "go1.19.4",
    "revision": "258fab7cdd551f2cf251ed0348f0ad7289aee789",
    "version": "0.25.0",
}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_MATCHER = re.compile(r'^\s*\{?\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*\}?\s*$')
_METRIC_NAME = re.compile(r"([A-Za-z_:][A-Za-z0-9_:]*)\s*\{")


class BadData(Exception):
    pass


def _ok(data: Any) -> web.Response:
    return web.Response(
        body=dumps({"status": "success", "data": data}), content_type="application/json"
    )


def _error(msg: str, etype: str = "bad_data", code: int = 400) -> web.Response:
    body = {"status": "error", "errorType": etype, "error": msg}
    return web.Response(body=dumps(body), status=code, content_type="application/json")


def _text(body: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body)

    return handler


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_time(s: str, name: str) -> float:
    try:
        return float(s)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise BadData(
            f'invalid parameter "{name}": cannot parse "{s}" to a valid timestamp'
        ) from None


def parse_step(s: str) -> float:
    try:
        return float(s)
    except ValueError:
        pass
    total, pos = 0.0, 0
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise BadData(f'invalid parameter "step": cannot parse "{s}" to a valid duration')
    return total


def _ts(t: float) -> float | int:
    r = round(t, 3)
    return int(r) if r == int(r) else r


class PromServer:
    def __init__(self, engine: Engine, clock: WorldClock) -> None:
        self.engine, self.clock = engine, clock
        self.url = ""

    def app(self) -> web.Application:
        app = web.Application()
        r = app.router
        r.add_get("/", self.root)
        r.add_get("/graph", self.graph)
        r.add_get("/-/ready", _text("Prometheus Server is Ready.\n"))
        r.add_get("/-/healthy", _text("Prometheus Server is Healthy.\n"))
        r.add_get("/api/v1/status/buildinfo", self.buildinfo)
        for path, h in (
            ("/api/v1/query", self.query),
            ("/api/v1/query_range", self.query_range),
        ):
            r.add_get(path, h)
            r.add_post(path, h)
        r.add_get("/api/v1/alerts", self.alerts)
        r.add_get("/api/v1/labels", self.labels)
        r.add_get("/api/v1/label/{name}/values", self.label_values)
        return app

    async def buildinfo(self, request: web.Request) -> web.Response:
        return _ok(BUILD)

    async def root(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/graph")

    async def graph(self, request: web.Request) -> web.Response:
        return web.Response(
            text="<html><body>warroom drill Prometheus</body></html>", content_type="text/html"
        )

    async def _params(self, request: web.Request) -> dict[str, str]:
        params = dict(request.query)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.post()).items()})
        return params

    def _series(self, expr: str | None) -> list[Any]:
        if not expr:
            raise BadData(
                'invalid parameter "query": unknown position: parse error: '
                "no expression found in input"
            )
        found = self.engine.lookup(expr)
        if found is None:
            raise BadData(
                f'invalid parameter "query": drill scenario "{self.engine.scenario.name}" '
                f"serves no series for expression {expr!r}"
            )
        return found

    def _now_epoch(self) -> float:
        return self.clock.epoch()

    def _scenario_t(self, epoch: float) -> float:
        """Scenario time of a query timestamp; the future is not scripted yet: clamp to now."""
        return min(self.clock.scenario_time(epoch), self.clock.elapsed())

    async def query(self, request: web.Request) -> web.Response:
        try:
            p = await self._params(request)
            series = self._series(p.get("query"))
            at = parse_time(p["time"], "time") if p.get("time") else self._now_epoch()
            t = self._scenario_t(at)
            result = [
                {"metric": dict(s.spec.labels), "value": [_ts(at), format_value(s.value(t))]}
                for s in series
            ]
            return _ok({"resultType": "vector", "result": result})
        except BadData as e:
            return _error(str(e))

    async def query_range(self, request: web.Request) -> web.Response:
        try:
            p = await self._params(request)
            for k in ("start", "end", "step"):
                if not p.get(k):
                    raise BadData(f'invalid parameter "{k}": cannot parse "" to a valid timestamp')
            start, end = parse_time(p["start"], "start"), parse_time(p["end"], "end")
            step = parse_step(p["step"])
            if end < start:
                raise BadData("end timestamp must not be before start time")
            if step <= 0:
                raise BadData(
                    "zero or negative query resolution step widths are not accepted. "
                    "Try a positive integer"
                )
            if (end - start) / step > MAX_POINTS:
                raise BadData(
                    "exceeded maximum resolution of 11,000 points per timeseries. "
                    "Try decreasing the query resolution (?step=XX)"
                )
            series = self._series(p.get("query"))
            # Like Prometheus' 5m lookback: points a little past "now" repeat the latest value,
            # so clients whose clocks run ahead (or round up) still get their last point.
            last = min(end, self._now_epoch() + LOOKBACK)
            n = math.floor((last - start) / step + 1e-9) + 1 if start <= last else 0
            times = [start + i * step for i in range(max(0, n))]
            result = []
            for s in series:
                values = [[_ts(x), format_value(s.value(self._scenario_t(x)))] for x in times]
                if values:
                    result.append({"metric": dict(s.spec.labels), "values": values})
            return _ok({"resultType": "matrix", "result": result})
        except BadData as e:
            return _error(str(e))

    async def alerts(self, request: web.Request) -> web.Response:
        out = []
        for a in self.engine.alerts.values():
            if a.state == "inactive" or a.active_at is None:
                continue
            first = self.engine.series_for_alert(a)
            value = first.value(self.clock.elapsed()) if first else 1.0
            out.append(
                {
                    "labels": a.labels,
                    "annotations": dict(a.spec.annotations),
                    "state": a.state,
                    "activeAt": iso(self.clock.at(a.active_at)),
                    "value": f"{value:e}",
                }
            )
        return _ok({"alerts": out})

    def _names(self) -> list[str]:
        return sorted(
            {n for s in self.engine.series.values() for n in _METRIC_NAME.findall(s.spec.expr)}
        )

    async def labels(self, request: web.Request) -> web.Response:
        names = {"__name__"} | {k for s in self.engine.series.values() for k in s.spec.labels}
        return _ok(sorted(names))

    async def label_values(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name == "__name__":
            return _ok(self._names())
        return _ok(
            sorted(
                {s.spec.labels[name] for s in self.engine.series.values() if name in s.spec.labels}
            )
        )


class AlertmanagerServer:
    def __init__(self, engine: Engine, clock: WorldClock, prom: PromServer) -> None:
        self.engine, self.clock, self.prom = engine, clock, prom
        self.url = ""
        self.started = clock.now()

    def app(self) -> web.Application:
        app = web.Application()
        r = app.router
        r.add_get("/-/ready", _text("OK"))
        r.add_get("/-/healthy", _text("OK"))
        r.add_get("/api/v2/alerts", self.alerts)
        r.add_get("/api/v2/alerts/groups", self.groups)
        r.add_get("/api/v2/silences", self.silences)
        r.add_get("/api/v2/receivers", self.receivers)
        r.add_get("/api/v2/status", self.status)
        return app

    @staticmethod
    def _json(obj: Any, status: int = 200) -> web.Response:
        return web.Response(body=dumps(obj), status=status, content_type="application/json")

    def _gettable(self, a: AlertState) -> dict[str, Any]:
        now = self.clock.now()
        assert a.fired_at is not None
        url = f"{self.prom.url}/graph?g0.expr={quote(a.spec.expr or a.spec.name)}&g0.tab=1"
        return {
            "annotations": dict(a.spec.annotations),
            # Prometheus re-sends firing alerts with endsAt = now + 4 * resend delay (1m).
            "endsAt": iso(now + timedelta(minutes=4)),
            "fingerprint": fingerprint(a.labels),
            "receivers": [{"name": "default"}],
            "startsAt": iso(self.clock.at(a.fired_at)),
            "status": {"inhibitedBy": [], "silencedBy": [], "state": "active"},
            "updatedAt": iso(now),
            "generatorURL": url,
            "labels": a.labels,
        }

    def _firing(self, request: web.Request) -> list[AlertState] | web.Response:
        q = request.query
        if q.get("active", "true").lower() == "false":
            return []
        matchers = []
        for f in q.getall("filter", []):
            m = _MATCHER.match(f)
            if not m:
                return self._json({"code": 400, "message": f"bad matcher format: {f}"}, 400)
            name, op, value = m.groups()
            try:
                rx = re.compile(f"^(?:{value})$") if "~" in op else None
            except re.error:
                return self._json({"code": 400, "message": f"bad matcher format: {f}"}, 400)
            matchers.append((name, op, value, rx))
        out = []
        for a in self.engine.alerts.values():
            if a.state != "firing":
                continue
            labels = a.labels
            ok = True
            for name, op, value, rx in matchers:
                v = labels.get(name, "")
                hit = bool(rx.match(v)) if rx else v == value
                if op in ("!=", "!~"):
                    hit = not hit
                ok = ok and hit
            if ok:
                out.append(a)
        return out

    async def silences(self, request: web.Request) -> web.Response:
        return self._json([])

    async def receivers(self, request: web.Request) -> web.Response:
        return self._json([{"name": "default"}])

    async def alerts(self, request: web.Request) -> web.Response:
        found = self._firing(request)
        if isinstance(found, web.Response):
            return found
        return self._json([self._gettable(a) for a in found])

    async def groups(self, request: web.Request) -> web.Response:
        found = self._firing(request)
        if isinstance(found, web.Response):
            return found
        groups: dict[str, list[AlertState]] = {}
        for a in found:
            groups.setdefault(a.spec.name, []).append(a)
        return self._json(
            [
                {
                    "labels": {"alertname": name},
                    "receiver": {"name": "default"},
                    "alerts": [self._gettable(a) for a in items],
                }
                for name, items in groups.items()
            ]
        )

    async def status(self, request: web.Request) -> web.Response:
        return self._json(
            {
                "cluster": {"name": "", "peers": [], "status": "disabled"},
                "config": {
                    "original": "route:\n  receiver: default\nreceivers:\n- name: default\n"
                },
                "uptime": iso(self.started),
                "versionInfo": AM_VERSION,
            }
        )
