"""`prometheus="real"`: the drill's series scraped by the real Prometheus binary, its alerts
evaluated by real rules and sent to a real Alertmanager, all on 127.0.0.1 random ports.

- The exporter (`/metrics`) shows every scripted series (`drill_series{record=...}`) and
  `drill_alert_firing{alertname}`, the scenario's scripted alert state.
- Prometheus scrapes it every second (job/instance dropped) and records each as `drill:<id>`
  with a recording rule, so the series read exactly as in the built-in server; it starts with
  the last 30 minutes of `drill:<id>` backfilled through `promtool tsdb create-blocks-from
  openmetrics`, and evaluates one alerting rule per scenario alert: the alert's value series,
  gated by the scripted state, so alerts fire when the script says.
- The drill's Prometheus URL is a front (`RealFront`) that rewrites the scenario's expressions
  inside any query into their recorded series and passes everything else to the real server
  unchanged: real PromQL, real errors, real /api/v1/*.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import json
import logging
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import yaml
from aiohttp import web

from warroom.drill.engine import Engine
from warroom.drill.metrics import format_value
from warroom.drill.prom_catalog import Catalog, ServedExpr
from warroom.drill.prom_params import params
from warroom.drill.promql_ast import (
    Aggregate,
    Binary,
    Call,
    Node,
    Paren,
    Subquery,
    Unary,
)
from warroom.drill.promql_parse import ParseError, parse
from warroom.drill.scenario_types import normalize_expr

log = logging.getLogger(__name__)
HOST = "127.0.0.1"
BACKFILL_SECONDS = 30 * 60
BACKFILL_STEP = 15
SCRAPE_INTERVAL = "1s"
ALERT_GAUGE = "drill_alert_firing"
SERIES_GAUGE = "drill_series"
READY_TIMEOUT = 30.0


class RealServersUnavailable(RuntimeError):
    """A binary is missing or did not start; the message is one line for the user."""


def find_binary(name: str, env_var: str) -> str:
    path = os.environ.get(env_var) or shutil.which(name) or f"/usr/bin/{name}"
    if not os.access(path, os.X_OK):
        raise RealServersUnavailable(
            f"--prometheus real needs {name} (Debian package "
            f"{'prometheus-alertmanager' if 'alertmanager' in name else 'prometheus'}; "
            f"or set ${env_var})"
        )
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _labels_text(labels: dict[str, str]) -> str:
    body = ",".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in sorted(labels.items()))
    return f"{{{body}}}" if body else ""


def exposition(catalog: Catalog, engine: Engine) -> str:
    """The exporter's page (Prometheus text format 0.0.4): `drill_series{record=...}` per
    scripted series (recording rules turn them into `drill:<id>`) and the scripted alerts."""
    now = catalog.now_ms()
    lines = [
        f"# HELP {SERIES_GAUGE} A drill scenario's scripted series; record names its rule.",
        f"# TYPE {SERIES_GAUGE} gauge",
    ]
    for e in catalog.exprs:
        for s in e.series:
            labels = _labels_text({**s.spec.labels, "record": e.record})
            v = s.value(catalog.scenario_t(now))
            lines.append(f"{SERIES_GAUGE}{labels} {format_value(v)}")
    lines.append(f"# HELP {ALERT_GAUGE} 1 while the scenario's script has the alert firing.")
    lines.append(f"# TYPE {ALERT_GAUGE} gauge")
    for a in engine.alerts.values():
        firing = 1 if a.state == "firing" else 0
        lines.append(f"{ALERT_GAUGE}{{alertname={json.dumps(a.spec.name)}}} {firing}")
    return "\n".join(lines) + "\n"


def backfill_openmetrics(catalog: Catalog, seconds: int = BACKFILL_SECONDS) -> str:
    """The last `seconds` of every recorded series, for promtool's block import. Samples stop
    a scrape before now so the head block (the live scrapes) does not overlap them."""
    end = int(time.time()) // BACKFILL_STEP * BACKFILL_STEP - BACKFILL_STEP
    stamps = range(end - seconds, end + 1, BACKFILL_STEP)
    out = []
    for e in catalog.exprs:
        out.append(f"# TYPE {e.record} gauge")
        for s in e.series:
            labels = _labels_text(dict(s.spec.labels))
            for ts in stamps:
                v = s.value(catalog.scenario_t(ts * 1000))
                out.append(f"{e.record}{labels} {format_value(v)} {ts}")
    out.append("# EOF")
    return "\n".join(out) + "\n"


def _selector(served: ServedExpr, labels: dict[str, str] | None = None) -> str:
    matchers = "".join(f",{k}={json.dumps(v)}" for k, v in sorted((labels or {}).items()))
    # sum without () drops the metric name and nothing else: the recorded series then read
    # exactly as the scenario expression's result.
    return f"sum without () ({{__name__={json.dumps(served.record)}{matchers}}})"


def drill_rules(catalog: Catalog, engine: Engine) -> dict[str, Any]:
    """Recording rules making `drill:<id>` of the exporter's series (as the built-in server
    lists them), and one alerting rule per scenario alert."""
    rules: list[dict[str, Any]] = [
        {
            "record": e.record,
            "expr": f"sum without (record) ({SERIES_GAUGE}{{record={json.dumps(e.record)}}})",
        }
        for e in catalog.exprs
    ]
    for a in engine.alerts.values():
        gate = f"{ALERT_GAUGE}{{alertname={json.dumps(a.spec.name)}}} == 1"
        series = engine.series_for_alert(a)
        served = next((e for e in catalog.exprs if series in e.series), None)
        if served is not None and series is not None:
            expr = f"{_selector(served, dict(series.spec.labels))} and on () ({gate})"
        else:
            expr = gate
        rule: dict[str, Any] = {"alert": a.spec.name, "expr": expr}
        if a.spec.labels:
            rule["labels"] = dict(a.spec.labels)
        if a.spec.annotations:
            rule["annotations"] = dict(a.spec.annotations)
        rules.append(rule)
    return {"groups": [{"name": f"drill-{engine.scenario.name}", "rules": rules}]}


def prometheus_config(exporter: str, alertmanager: str, rules_file: Path) -> dict[str, Any]:
    return {
        "global": {
            "scrape_interval": SCRAPE_INTERVAL,
            "scrape_timeout": SCRAPE_INTERVAL,
            "evaluation_interval": SCRAPE_INTERVAL,
        },
        "rule_files": [str(rules_file)],
        "alerting": {"alertmanagers": [{"static_configs": [{"targets": [alertmanager]}]}]},
        "scrape_configs": [
            {
                "job_name": "warroom-drill",
                "static_configs": [{"targets": [exporter]}],
                "metric_relabel_configs": [{"action": "labeldrop", "regex": "job|instance"}],
            }
        ],
    }


ALERTMANAGER_CONFIG = {"route": {"receiver": "default"}, "receivers": [{"name": "default"}]}


class RealProcess:
    def __init__(self, name: str, argv: list[str], url: str, workdir: Path) -> None:
        self.name, self.argv, self.url, self.workdir = name, argv, url, workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"{name}.log"

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.argv, stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir
            )
        atexit.register(self.stop)  # a drill that dies of an exception leaves no server behind
        deadline = time.monotonic() + READY_TIMEOUT
        async with aiohttp.ClientSession() as session:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RealServersUnavailable(
                        f"{self.name} exited with {self.proc.returncode}: {self.last_line()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with session.get(f"{self.url}/-/ready") as r:
                        if r.status == 200:
                            return
                await asyncio.sleep(0.1)
        self.stop()
        raise RealServersUnavailable(f"{self.name} not ready after {READY_TIMEOUT:g}s")

    def last_line(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def rewrite(node: Node, catalog: Catalog) -> tuple[Node, bool]:
    """Replace every scenario expression inside a query by its recorded series; says whether
    anything was replaced."""
    served = catalog.by_canonical.get(str(node))
    if served is not None:
        return parse(_selector(served)), True
    changed = False
    if isinstance(node, Paren | Unary | Subquery):
        node.expr, changed = rewrite(node.expr, catalog)
    elif isinstance(node, Call):
        done = [rewrite(a, catalog) for a in node.args]
        node.args = [n for n, _ in done]
        changed = any(c for _, c in done)
    elif isinstance(node, Aggregate) and node.expr is not None:
        node.expr, changed = rewrite(node.expr, catalog)
    elif isinstance(node, Binary):
        (node.lhs, left), (node.rhs, right) = rewrite(node.lhs, catalog), rewrite(node.rhs, catalog)
        changed = left or right
    return node, changed


def rewrite_query(text: str, catalog: Catalog) -> str:
    """The query the real server gets: unchanged unless it holds a scenario expression."""
    served = catalog.by_text.get(normalize_expr(text))
    if served is not None:
        return _selector(served)
    try:
        node = parse(text)
    except ParseError:
        return text  # the real server words the error
    rewritten, changed = rewrite(node, catalog)
    return str(rewritten) if changed else text


class RealFront:
    """The drill's Prometheus URL in real mode: a pass-through to the real server that turns
    scenario expressions into their recorded series."""

    def __init__(self, catalog: Catalog, upstream: str) -> None:
        self.catalog, self.upstream = catalog, upstream
        self.url = ""
        self.session: aiohttp.ClientSession | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.forward)
        app.on_cleanup.append(self._close)
        return app

    async def _close(self, app: web.Application) -> None:
        if self.session is not None:
            await self.session.close()

    async def forward(self, request: web.Request) -> web.StreamResponse:
        if self.session is None:
            self.session = aiohttp.ClientSession(auto_decompress=False)
        url = f"{self.upstream}{request.path}"
        data: bytes | None = await request.read() if request.can_read_body else None
        query = request.query_string
        headers = {k: v for k, v in request.headers.items() if k.lower() in _PASS_HEADERS}
        if request.path in ("/api/v1/query", "/api/v1/query_range"):
            p = await params(request)
            if "query" in p:
                p["query"] = rewrite_query(str(p["query"]), self.catalog)
            flat = [(k, v) for k, vs in p.items() for v in (vs if isinstance(vs, list) else [vs])]
            if request.method == "POST":
                data, query = urlencode(flat).encode(), ""
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                query = urlencode(flat)
        if query:
            url += f"?{query}"
        async with self.session.request(
            request.method, url, data=data, headers=headers, allow_redirects=False
        ) as r:
            body = await r.read()
            out = web.Response(body=body, status=r.status)
            for k, v in r.headers.items():
                if k.lower() in _PASS_HEADERS | {"location"}:
                    out.headers[k] = v
            return out


_PASS_HEADERS = {"content-type", "accept", "content-encoding", "accept-encoding"}


def write_yaml(path: Path, obj: Any) -> Path:
    path.write_text(yaml.safe_dump(obj, sort_keys=False, allow_unicode=True))
    return path


def exporter_app(catalog: Catalog, engine: Engine) -> web.Application:
    async def metrics(request: web.Request) -> web.Response:
        return web.Response(
            text=exposition(catalog, engine), content_type="text/plain", charset="utf-8"
        )

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    return app


class RealStack:
    """Real Alertmanager and Prometheus in `workdir`, scraping the exporter at `exporter`."""

    def __init__(self, catalog: Catalog, engine: Engine, workdir: Path) -> None:
        self.catalog, self.engine, self.workdir = catalog, engine, workdir
        self.processes: list[RealProcess] = []
        self.prometheus_url = self.alertmanager_url = ""

    async def start(self, exporter: str) -> None:
        prometheus = find_binary("prometheus", "WARROOM_PROMETHEUS_BIN")
        alertmanager = find_binary("prometheus-alertmanager", "WARROOM_ALERTMANAGER_BIN")
        promtool = find_binary("promtool", "WARROOM_PROMTOOL_BIN")
        self.workdir.mkdir(parents=True, exist_ok=True)
        am_port, prom_port = free_port(), free_port()
        self.alertmanager_url = f"http://{HOST}:{am_port}"
        self.prometheus_url = f"http://{HOST}:{prom_port}"
        am_dir, prom_dir = self.workdir / "alertmanager", self.workdir / "prometheus"
        am_dir.mkdir(exist_ok=True)
        prom_dir.mkdir(exist_ok=True)
        data = prom_dir / "data"
        await self._backfill(promtool, prom_dir, data)
        am_cfg = write_yaml(am_dir / "alertmanager.yml", ALERTMANAGER_CONFIG)
        rules = write_yaml(prom_dir / "rules.yml", drill_rules(self.catalog, self.engine))
        cfg = prometheus_config(exporter, f"{HOST}:{am_port}", rules)
        prom_cfg = write_yaml(prom_dir / "prometheus.yml", cfg)
        am = RealProcess(
            "alertmanager",
            [
                alertmanager,
                f"--config.file={am_cfg}",
                f"--storage.path={am_dir / 'data'}",
                f"--web.listen-address={HOST}:{am_port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            self.alertmanager_url,
            am_dir,
        )
        prom = RealProcess(
            "prometheus",
            [
                prometheus,
                f"--config.file={prom_cfg}",
                f"--storage.tsdb.path={data}",
                f"--web.listen-address={HOST}:{prom_port}",
                "--log.level=warn",
            ],
            self.prometheus_url,
            prom_dir,
        )
        for proc in (am, prom):
            self.processes.append(proc)
            await proc.start()

    async def _backfill(self, promtool: str, workdir: Path, data: Path) -> None:
        source = workdir / "backfill.om"
        source.write_text(backfill_openmetrics(self.catalog))
        proc = await asyncio.create_subprocess_exec(
            promtool,
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--quiet",
            str(source),
            str(data),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        if proc.returncode != 0:
            last = out.decode(errors="replace").strip().splitlines()[-1:] or [""]
            raise RealServersUnavailable(f"promtool backfill failed: {last[0]}")

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop()
        self.processes.clear()
