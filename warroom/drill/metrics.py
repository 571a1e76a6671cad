"""Scripted metric series and alerts: values as a function of scenario time."""

from __future__ import annotations

import bisect
import math
import zlib
from dataclasses import dataclass, field
from decimal import Decimal

from warroom.drill.scenario_types import AlertSpec, MetricSpec

SCRAPE = 15.0  # noise changes once per scrape interval, as real samples do


class MetricSeries:
    """Baseline value, changed by ramps: (t0, v0) -> (t1, v1), linear in between."""

    def __init__(self, spec: MetricSpec) -> None:
        self.spec = spec
        self._starts: list[float] = []
        self._ramps: list[tuple[float, float, float, float]] = []

    def ramp(self, t0: float, to: float, over: float) -> None:
        v0 = self.target(t0)
        # A ramp replaces whatever was scheduled after it (actions arrive in time order).
        i = bisect.bisect_right(self._starts, t0)
        del self._starts[i:], self._ramps[i:]
        self._starts.append(t0)
        self._ramps.append((t0, v0, t0 + over, to))

    def target(self, t: float) -> float:
        i = bisect.bisect_right(self._starts, t) - 1
        if i < 0:
            return self.spec.value
        t0, v0, t1, v1 = self._ramps[i]
        if t >= t1 or t1 <= t0:
            return v1
        return v0 + (v1 - v0) * (t - t0) / (t1 - t0)

    def value(self, t: float) -> float:
        v = self.target(t)
        if self.spec.noise:
            bucket = math.floor(t / SCRAPE)
            h = zlib.crc32(f"{self.spec.id}/{bucket}".encode()) / 0xFFFFFFFF
            v *= 1 + self.spec.noise * (2 * h - 1)
        if self.spec.min is not None:
            v = max(self.spec.min, v)
        if self.spec.max is not None:
            v = min(self.spec.max, v)
        return v


def format_value(v: float) -> str:
    """A sample value as Prometheus prints it (Go's strconv 'f', -1: no exponent)."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    r = repr(float(v))
    if "e" in r or "E" in r:
        r = format(Decimal(r), "f")
    return r[:-2] if r.endswith(".0") else r


def fingerprint(labels: dict[str, str]) -> str:
    """Alertmanager's fingerprint: FNV-1a 64 over sorted name/value pairs, 0xff-separated."""
    h = 0xCBF29CE484222325
    for name in sorted(labels):
        for part in (name.encode(), b"\xff", labels[name].encode(), b"\xff"):
            for b in part:
                h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


@dataclass
class AlertState:
    spec: AlertSpec
    state: str = "inactive"  # inactive | pending | firing
    active_at: float | None = None  # became pending or firing (Prometheus activeAt)
    fired_at: float | None = None  # became firing (Alertmanager startsAt)
    changes: list[tuple[float, str]] = field(default_factory=list)

    @property
    def labels(self) -> dict[str, str]:
        return {"alertname": self.spec.name, **self.spec.labels}

    def set(self, t: float, state: str) -> None:
        new = "inactive" if state == "resolved" else state
        if new == self.state:
            return
        if new in ("pending", "firing") and self.state == "inactive":
            self.active_at = t
        if new == "firing":
            self.fired_at = t
        self.state = new
        self.changes.append((t, new))
