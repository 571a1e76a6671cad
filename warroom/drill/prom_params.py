"""Prometheus HTTP API plumbing: responses, parameters and their error texts, value formats.
Shapes and wording are those of Prometheus 2.42 (web/api/v1/api.go), recorded in
tests/fixtures/recorded/."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from aiohttp import web

_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
MIN_TIME = -9223309901257974.0  # Prometheus' minTime/maxTime as Unix seconds
MAX_TIME = 9223309901257974.0


class BadData(Exception):
    """A 400 bad_data answer."""


def dumps(obj: Any) -> bytes:
    """JSON as Go's encoding/json writes it: compact, with <, > and & escaped."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def ok(data: Any) -> web.Response:
    return web.Response(
        body=dumps({"status": "success", "data": data}), content_type="application/json"
    )


def error(msg: str, etype: str = "bad_data", code: int = 400) -> web.Response:
    body = {"status": "error", "errorType": etype, "error": msg}
    return web.Response(body=dumps(body), status=code, content_type="application/json")


def not_found() -> web.Response:
    """Go's http.NotFound, which Prometheus and Alertmanager answer for an unknown path."""
    return web.Response(
        text="404 page not found\n", status=404, content_type="text/plain", charset="utf-8"
    )


def iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def parse_time(s: str) -> float:
    """A timestamp parameter: Unix seconds or RFC 3339; raises ValueError with Prometheus' text."""
    try:
        v = float(s)
        if not math.isnan(v):
            return v
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ValueError(f'cannot parse "{s}" to a valid timestamp') from None


def parse_duration(s: str) -> float:
    """A duration parameter (step, timeout): seconds or a Prometheus duration."""
    try:
        v = float(s)
        if math.isfinite(v):
            return v
    except ValueError:
        pass
    total, pos = 0.0, 0
    for m in _DURATION.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise ValueError(f'cannot parse "{s}" to a valid duration')
    return total


def time_param(params: dict[str, Any], name: str, default: float, prefixed: bool) -> float:
    """`prefixed`: the query/series endpoints add "Invalid time value for 'x': "."""
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return parse_time(str(raw))
    except ValueError as e:
        inner = f"Invalid time value for '{name}': {e}" if prefixed else str(e)
        raise BadData(f'invalid parameter "{name}": {inner}') from None


def go_exp(v: float) -> str:
    """strconv.FormatFloat(v, 'e', -1, 64): the shortest exponent form, as alert values read
    ("1e+00", "4.1e-01")."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    sign = "-" if math.copysign(1, v) < 0 else ""
    if v == 0:
        return f"{sign}0e+00"
    _, digits, exp = Decimal(repr(abs(v))).normalize().as_tuple()
    assert isinstance(exp, int)
    text = "".join(map(str, digits))
    e = exp + len(text) - 1
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return f"{sign}{mantissa}e{'+' if e >= 0 else '-'}{abs(e):02d}"


async def params(request: web.Request) -> dict[str, Any]:
    """Query string and form body merged; repeated keys (match[]) become lists."""
    out: dict[str, Any] = {}
    sources = [request.query]
    if request.method == "POST":
        sources.append(await request.post())  # type: ignore[arg-type]
    for src in sources:
        for k in src:
            values = [str(v) for v in src.getall(k)]
            if k.endswith("[]"):
                out.setdefault(k, []).extend(values)
            else:
                out[k] = values[-1]
    return out
