"""Metric snapshots for the evidence folder: the range data behind every check, as JSON.

Values stay the strings Prometheus sent ("0.25", "NaN", "+Inf"): lossless, and valid JSON
where a float NaN would not be.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from warroom.checks import CheckSpec
from warroom.model import format_ts, utcnow
from warroom.sources.prometheus import PrometheusError, PrometheusSource, step_for


def capture_metric_snapshots(
    source: PrometheusSource,
    specs: Sequence[CheckSpec],
    minutes: float = 30,
    *,
    end: datetime | None = None,
) -> dict[str, Any]:
    """Range data of every check over the last `minutes`, fetched in parallel. A failing
    check records its error and the others are kept."""
    end = end or utcnow()
    start = end - timedelta(minutes=minutes)
    step = step_for(minutes)
    answers = source.range_many([s.expr for s in specs], start, end, step)
    checks = []
    for spec, answer in zip(specs, answers, strict=True):
        entry: dict[str, Any] = {
            "name": spec.name,
            "expr": spec.expr,
            "unit": spec.unit,
            "warn": spec.warn,
            "crit": spec.crit,
            "direction": spec.direction,
            "start": format_ts(start),
            "end": format_ts(end),
            "step": step,
            "series": [],
            "error": None,
        }
        if isinstance(answer, PrometheusError):
            entry["error"] = str(answer)
        else:
            entry["series"] = [
                {
                    "labels": {str(k): str(v) for k, v in row.get("metric", {}).items()},
                    "values": [[float(ts), str(v)] for ts, v in row.get("values", [])],
                }
                for row in answer
            ]
        checks.append(entry)
    return {
        "source": source.url,
        "captured_at": format_ts(utcnow()),
        "start": format_ts(start),
        "end": format_ts(end),
        "step": step,
        "minutes": minutes,
        "checks": checks,
    }
