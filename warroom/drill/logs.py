"""Deterministic container logs: the same run of a container always prints the same lines.

Each run prints its profile's startup lines, then one periodic line every `every` seconds while
it runs, then (if it crashed) the crash lines. Lines are computed from time, never stored.
"""

from __future__ import annotations

import random
import string
import zlib
from collections.abc import Callable
from datetime import datetime

from warroom.drill.scenario_types import LogProfile

MAX_LINES = 5000  # older periodic lines are "rotated away", as kubelet log rotation would

# A fake credential planted in logs so redaction can be tested; not a secret of anything.
FAKE_BEARER = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjaGVja291dC1hcGkiLCJzY29wZSI6InBheW1lbnRzOndyaXRlIn0"
    ".dr1llS1gn4tur3N0tAR3alT0k3nXyZ"
)


def _values(rng: random.Random, ts: str, base: dict[str, str]) -> dict[str, str]:
    ms = max(1, int(rng.lognormvariate(3.3, 0.7)))
    return {
        **base,
        "ts": ts,
        "ms": str(ms),
        "status": str(rng.choice([200] * 18 + [304, 404])),
        "rid": f"{rng.getrandbits(64):016x}",
        "ip": f"10.{rng.randint(0, 3)}.{rng.randint(1, 254)}.{rng.randint(1, 254)}",
        "user": f"u-{rng.randint(100000, 999999)}",
        "amount": f"{rng.randint(5, 480)}.{rng.randint(0, 99):02d}",
        "n": str(rng.randint(1, 9)),
        "secret": FAKE_BEARER,
    }


def _fmt(line: str, values: dict[str, str]) -> str:
    return string.Template(line).safe_substitute(values)


def _spread(seed: str, key: str, width: float) -> float:
    """A deterministic offset in [0, width) for one line of one run."""
    return random.Random(zlib.crc32(f"{seed}/at/{key}".encode())).uniform(0.0, width)


def run_lines(
    profile: LogProfile | None,
    *,
    seed: str,
    start: float,
    end: float,
    crashed: bool,
    base: dict[str, str],
    at: Callable[[float], datetime],
) -> list[tuple[float, str]]:
    """(scenario time, line) printed by one container run between `start` and `end`."""
    if profile is None or end < start:
        return []
    out: list[tuple[float, str]] = []

    def emit(t: float, tmpl: str, k: str) -> None:
        rng = random.Random(zlib.crc32(f"{seed}/{k}".encode()))
        ts = at(t).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at(t).microsecond // 1000:03d}Z"
        out.append((t, _fmt(tmpl, _values(rng, ts, base))))

    n_periodic = int((end - start - 0.5) // profile.every) + 1 if profile.lines else 0
    n_periodic = max(0, n_periodic)
    first = max(0, n_periodic - MAX_LINES)
    if first == 0:
        for i, tmpl in enumerate(profile.startup):
            # a few milliseconds apart, never the same few twice (the seed names the run)
            t = start + 0.05 * i + _spread(seed, f"s{i}", 0.04)
            if t <= end:
                emit(t, tmpl, f"s{i}")
    for k in range(first, n_periodic):
        # requests do not arrive on a metronome: each line lands somewhere in its slot
        t = start + 0.5 + k * profile.every + _spread(seed, f"p{k}", 0.4 * profile.every)
        if t > end:
            break
        rng = random.Random(zlib.crc32(f"{seed}/pick{k}".encode()))
        emit(t, profile.lines[rng.randrange(len(profile.lines))], f"p{k}")
    if crashed:
        for i, tmpl in enumerate(profile.crash):
            emit(end, tmpl, f"c{i}")
    return out


def format_lines(
    lines: list[tuple[float, str]],
    at: Callable[[float], datetime],
    *,
    timestamps: bool = False,
) -> bytes:
    if not timestamps:
        return "".join(f"{line}\n" for _, line in lines).encode()
    out = []
    for t, line in lines:
        d = at(t)
        out.append(d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{d.microsecond * 1000:09d}Z {line}\n")
    return "".join(out).encode()
