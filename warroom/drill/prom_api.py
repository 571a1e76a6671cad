"""The drill's built-in Prometheus HTTP API over a scenario's scripted series.

Any PromQL parses as in Prometheus 2.42 (syntax errors carry its messages). A scenario
expression, or any part of a query that is one, is answered from the script; the rest is
evaluated over the drill's named series (`drill:<id>` recording rules, `ALERTS`), so an unknown
metric is an empty result, not an error. Timestamps are wall-clock Unix seconds.
"""

from __future__ import annotations

import math
import time
from typing import Any

from aiohttp import web

from warroom.drill.clock import WorldClock
from warroom.drill.engine import Engine
from warroom.drill.metrics import format_value
from warroom.drill.prom_catalog import Catalog, WallClock, alert_state_at
from warroom.drill.prom_params import (
    MAX_TIME,
    MIN_TIME,
    BadData,
    error,
    go_exp,
    iso,
    not_found,
    ok,
    params,
    parse_duration,
    time_param,
)
from warroom.drill.promql_ast import Node, VectorSelector
from warroom.drill.promql_check import matches
from warroom.drill.promql_eval import (
    Evaluator,
    QueryError,
    QueryTimeout,
    Sample,
    Series,
    instant_query,
    range_query,
)
from warroom.drill.promql_parse import ParseError, parse, parse_selector

MAX_POINTS = 11000
BUILD = {
    "version": "2.42.0+ds",
    "revision": "2.42.0+ds-5+deb12u1",
    "branch": "debian/sid",
    "buildUser": "team+pkg-go@tracker.debian.org",
    "buildDate": "20260604-00:58:54",
    "goVersion": "go1.19.8",
}
RULES_FILE = "/etc/prometheus/rules/warroom-drill.yml"
GROUP_INTERVAL = 15
# Prometheus allows 2 minutes; the drill evaluates on the loop that also serves the Kubernetes
# API, so it stops a query far sooner.
QUERY_TIMEOUT = 2.0


def _ts(ms: int) -> float | int:
    s = ms / 1000
    return int(s) if s == int(s) else s


def _parse_query(text: str | None) -> Node:
    try:
        return parse(text or "")
    except ParseError as e:
        raise BadData(f'invalid parameter "query": {e}') from None


def _selectors(raw: list[str], prefix: str) -> list[VectorSelector]:
    out = []
    for text in raw:
        try:
            out.append(parse_selector(text))
        except ParseError as e:
            raise BadData(f"{prefix}{e}") from None
    return out


class PromServer:
    def __init__(self, engine: Engine, clock: WorldClock) -> None:
        self.engine = engine
        self.clock = WallClock(clock)
        self.catalog = Catalog(engine, self.clock)
        self.url = ""
        self.alertmanager_url = ""

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
            ("/api/v1/series", self.series),
            ("/api/v1/labels", self.labels),
            ("/api/v1/query_exemplars", self.exemplars),
        ):
            r.add_get(path, h)
            r.add_post(path, h)
        r.add_get("/api/v1/label/{name}/values", self.label_values)
        r.add_get("/api/v1/metadata", self.metadata)
        r.add_get("/api/v1/rules", self.rules)
        r.add_get("/api/v1/alerts", self.alerts)
        r.add_get("/api/v1/targets", self.targets)
        r.add_get("/api/v1/alertmanagers", self.alertmanagers)
        r.add_get("/api/v1/status/config", self.config)
        r.add_get("/api/v1/status/flags", self.flags)
        r.add_route("*", "/{tail:.*}", self.unknown)
        return app

    async def unknown(self, request: web.Request) -> web.Response:
        return not_found()

    async def buildinfo(self, request: web.Request) -> web.Response:
        return ok(BUILD)

    async def root(self, request: web.Request) -> web.Response:
        raise web.HTTPFound("/graph")

    async def graph(self, request: web.Request) -> web.Response:
        return web.Response(
            text="<html><body>warroom drill Prometheus</body></html>", content_type="text/html"
        )

    def _evaluator(self, p: dict[str, Any], start_ms: int = 0, end_ms: int = 0) -> Evaluator:
        timeout = QUERY_TIMEOUT
        if p.get("timeout"):
            try:
                timeout = min(timeout, parse_duration(str(p["timeout"])))
            except ValueError as e:
                raise BadData(f'invalid parameter "timeout": {e}') from None
        deadline = time.monotonic() + timeout
        return Evaluator(self.catalog, self.catalog.served, start_ms, end_ms, deadline)

    # --- queries -------------------------------------------------------------------------

    async def query(self, request: web.Request) -> web.Response:
        try:
            p = await params(request)
            at = time_param(p, "time", self.clock.epoch(), prefixed=True)
            text = p.get("query")
            t = round(at * 1000)
            served = self.catalog.lookup_text(text) if text else None
            if served is not None:  # the scenario's own text, even where it does not parse
                samples = self.catalog.served_samples(served, t)
                return ok({"resultType": "vector", "result": _vector(samples, t)})
            node = _parse_query(text)
            kind, result = instant_query(self._evaluator(p, t, t), node, t)
            return ok({"resultType": kind, "result": _result(kind, result, t)})
        except BadData as e:
            return error(str(e))
        except QueryTimeout as e:
            return error(str(e), "timeout", 503)
        except QueryError as e:
            return error(str(e), "execution", 422)

    async def query_range(self, request: web.Request) -> web.Response:
        try:
            p = await params(request)
            start = time_param(p, "start", math.nan, prefixed=False)
            end = time_param(p, "end", math.nan, prefixed=False)
            for name, v in (("start", start), ("end", end)):
                if math.isnan(v):
                    raise BadData(
                        f'invalid parameter "{name}": cannot parse "" to a valid timestamp'
                    )
            try:
                step = parse_duration(str(p.get("step", "")))
            except ValueError as e:
                raise BadData(f'invalid parameter "step": {e}') from None
            if end < start:
                raise BadData(
                    'invalid parameter "end": end timestamp must not be before start time'
                )
            if step <= 0:
                raise BadData(
                    'invalid parameter "step": zero or negative query resolution step widths '
                    "are not accepted. Try a positive integer"
                )
            if (end - start) / step > MAX_POINTS:
                raise BadData(
                    "exceeded maximum resolution of 11,000 points per timeseries. "
                    "Try decreasing the query resolution (?step=XX)"
                )
            s_ms, e_ms, step_ms = round(start * 1000), round(end * 1000), round(step * 1000)
            text = p.get("query")
            served = self.catalog.lookup_text(text) if text else None
            if served is not None:
                series = self._served_range(served, s_ms, e_ms, step_ms)
            else:
                node = _parse_query(text)
                if node.type not in ("scalar", "vector"):
                    kind = "range vector" if node.type == "matrix" else node.type
                    raise BadData(
                        f'invalid expression type "{kind}" for range query, must be Scalar or '
                        "instant Vector"
                    )
                series = range_query(self._evaluator(p, s_ms, e_ms), node, s_ms, e_ms, step_ms)
            return ok({"resultType": "matrix", "result": _matrix(series)})
        except BadData as e:
            return error(str(e))
        except QueryTimeout as e:
            return error(str(e), "timeout", 503)
        except QueryError as e:
            return error(str(e), "execution", 422)

    def _served_range(self, served: Any, start: int, end: int, step: int) -> list[Series]:
        out: dict[tuple[tuple[str, str], ...], Series] = {}
        t = start
        while t <= end:
            for s in self.catalog.served_samples(served, t):
                k = tuple(sorted(s.labels.items()))
                out.setdefault(k, Series(s.labels, [])).points.append((t, s.value))
            t += step
        return list(out.values())

    # --- metadata ------------------------------------------------------------------------

    def _matching(self, p: dict[str, Any], prefix: str = "") -> list[dict[str, str]]:
        """Label sets matching any match[] selector (all without one)."""
        sels = _selectors(p.get("match[]", []), prefix)
        time_param(p, "start", MIN_TIME, prefixed=True)
        time_param(p, "end", MAX_TIME, prefixed=True)
        every = self.catalog.all_labels()
        if not sels:
            return every
        return [
            labels
            for labels in every
            if any(all(matches(m, labels.get(m.name, "")) for m in s.matchers) for s in sels)
        ]

    async def series(self, request: web.Request) -> web.Response:
        try:
            p = await params(request)
            if not p.get("match[]"):
                raise BadData("no match[] parameter provided")
            return ok(self._matching(p, 'invalid parameter "match[]": '))
        except BadData as e:
            return error(str(e))

    async def labels(self, request: web.Request) -> web.Response:
        try:
            p = await params(request)
            return ok(sorted({k for labels in self._matching(p) for k in labels}))
        except BadData as e:
            return error(str(e))

    async def label_values(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if (
            not name
            or not (name[0].isalpha() or name[0] == "_")
            or not all(c.isalnum() or c == "_" for c in name)
        ):
            return error(f'invalid label name: "{name}"')
        try:
            p = await params(request)
            return ok(sorted({lab[name] for lab in self._matching(p) if name in lab}))
        except BadData as e:
            return error(str(e))

    async def exemplars(self, request: web.Request) -> web.Response:
        try:
            p = await params(request)
            _parse_query(p.get("query"))
            return ok([])
        except BadData as e:
            return error(str(e))

    async def metadata(self, request: web.Request) -> web.Response:
        """One gauge per recording rule, its help text the expression it records."""
        want = request.query.get("metric")
        out: dict[str, list[dict[str, str]]] = {}
        for e in self.catalog.exprs:
            if want is None or want == e.record:
                out[e.record] = [{"type": "gauge", "help": e.expr, "unit": ""}]
        limit = request.query.get("limit")
        if limit and limit.lstrip("-").isdigit() and int(limit) >= 0:
            out = dict(list(out.items())[: int(limit)])
        return ok(out)

    # --- rules and alerts ----------------------------------------------------------------

    def _alerts(self) -> list[dict[str, Any]]:
        out = []
        now = self.clock.elapsed()
        for a in self.engine.alerts.values():
            state = alert_state_at(a, now)
            if state == "inactive" or a.active_at is None:
                continue
            first = self.engine.series_for_alert(a)
            value = first.value(now) if first else 1.0
            out.append(
                {
                    "labels": a.labels,
                    "annotations": dict(a.spec.annotations),
                    "state": state,
                    "activeAt": iso(self.clock.at(a.active_at)),
                    "value": go_exp(value),
                }
            )
        return out

    async def alerts(self, request: web.Request) -> web.Response:
        return ok({"alerts": self._alerts()})

    async def rules(self, request: web.Request) -> web.Response:
        kind = request.query.get("type", "").lower()
        if kind not in ("", "alert", "record"):
            return error(f'invalid parameter "type": not supported value "{kind}"')
        now = iso(self.clock.now())
        rules: list[dict[str, Any]] = []
        if kind in ("", "record"):
            for e in self.catalog.exprs:
                rules.append(
                    {
                        "name": e.record,
                        "query": e.canonical or e.expr,
                        "health": "ok",
                        "evaluationTime": 0.0001,
                        "lastEvaluation": now,
                        "type": "recording",
                    }
                )
        if kind in ("", "alert"):
            firing = {a["labels"]["alertname"]: a for a in self._alerts()}
            for a in self.engine.alerts.values():
                active = firing.get(a.spec.name)
                rules.append(
                    {
                        "state": active["state"] if active else "inactive",
                        "name": a.spec.name,
                        "query": a.spec.expr,
                        "duration": 0,
                        "keepFiringFor": 0,
                        "labels": dict(a.spec.labels),
                        "annotations": dict(a.spec.annotations),
                        "alerts": [active] if active else [],
                        "health": "ok",
                        "evaluationTime": 0.0001,
                        "lastEvaluation": now,
                        "type": "alerting",
                    }
                )
        group = {
            "name": f"drill-{self.engine.scenario.name}",
            "file": RULES_FILE,
            "rules": rules,
            "interval": GROUP_INTERVAL,
            "limit": 0,
            "evaluationTime": 0.0002,
            "lastEvaluation": now,
        }
        return ok({"groups": [group]})

    async def targets(self, request: web.Request) -> web.Response:
        # The built-in server scrapes nothing: its series come from the scenario's script.
        return ok({"activeTargets": [], "droppedTargets": []})

    async def config(self, request: web.Request) -> web.Response:
        am = self.alertmanager_url.removeprefix("http://")
        alerting = f"    - targets:\n      - {am}\n" if am else ""
        text = (
            "global:\n  scrape_interval: 15s\n  scrape_timeout: 10s\n"
            "  evaluation_interval: 15s\nalerting:\n  alertmanagers:\n  - follow_redirects: true\n"
            "    enable_http2: true\n    scheme: http\n    timeout: 10s\n    api_version: v2\n"
            f"    static_configs:\n{alerting}"
            f"rule_files:\n- {RULES_FILE}\n"
        )
        return ok({"yaml": text})

    async def flags(self, request: web.Request) -> web.Response:
        listen = self.url.removeprefix("http://")
        return ok(
            {
                "web.listen-address": listen,
                "query.lookback-delta": "5m",
                "query.max-samples": "5000000",
                "query.timeout": f"{QUERY_TIMEOUT:g}s",
                "storage.tsdb.retention.time": "1d",
                "rules.alert.resend-delay": "1m",
            }
        )

    async def alertmanagers(self, request: web.Request) -> web.Response:
        active = (
            [{"url": f"{self.alertmanager_url}/api/v2/alerts"}] if self.alertmanager_url else []
        )
        return ok({"activeAlertmanagers": active, "droppedAlertmanagers": []})


def _text(body: str) -> Any:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=body)

    return handler


def _vector(samples: list[Sample], t: int) -> list[dict[str, Any]]:
    return [{"metric": s.labels, "value": [_ts(t), format_value(s.value)]} for s in samples]


def _matrix(series: list[Series]) -> list[dict[str, Any]]:
    return [
        {"metric": s.labels, "values": [[_ts(t), format_value(v)] for t, v in s.points]}
        for s in series
        if s.points
    ]


def _result(kind: str, result: Any, t: int) -> Any:
    if kind == "vector":
        return _vector(result, t)
    if kind == "matrix":
        return _matrix(result)
    if kind == "scalar":
        return [_ts(t), format_value(result)]
    return [_ts(t), result]
