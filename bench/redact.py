"""Redaction of a 5 MB log: warroom's Redactor against detect-secrets' plugins.

The log is what services print: access lines, JSON debug lines, stack traces; one line in 50
carries one of the planted secrets of tests/fixtures/secrets.py. Measured:

- warroom: `Redactor.redact` on the whole text (one call) and streamed line by line.
- detect-secrets (if importable; `pip install detect-secrets`): every line through every
  regex-based plugin's `analyze_line` (entropy and keyword plugins off, as they report without
  giving spans). Only detection: cutting the findings out would come on top. Also: how many of
  the planted kinds it finds at all.

    python bench/redact.py            # warroom only if detect-secrets is not installed
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fixtures.secrets import PLANTED
from warroom.actions.redact import Redactor

SIZE = 5 * 1024 * 1024
PLAIN = [
    '10.0.3.7 - - [01/Dec/2026:10:00:00 +0000] "GET /api/products?page=2 HTTP/1.1" 200 5123',
    '{"level":"debug","ts":"2026-12-01T10:00:00Z","msg":"cart updated","items":3,"user":"u-42"}',
    "2026-12-01T10:00:00.123Z INFO  c.e.shop.checkout.Service : order 81723 placed in 41 ms",
    "    at com.example.shop.payments.PspClient.charge(PspClient.java:118)",
    "2026-12-01T10:00:00Z WARN retrying upstream inventory (attempt 2/5) after 250ms",
]


def make_log() -> list[str]:
    lines: list[str] = []
    size = i = 0
    while size < SIZE:
        line = PLANTED[i // 50 % len(PLANTED)].line if i % 50 == 49 else PLAIN[i % len(PLAIN)]
        for part in line.split("\n"):
            lines.append(part + "\n")
            size += len(part) + 1
        i += 1
    return lines


def best(fn, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def detect_secrets_plugins() -> list | None:  # type: ignore[type-arg]
    try:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    except ImportError:
        return None
    skip = {
        "Base64HighEntropyString",
        "HexHighEntropyString",
        "KeywordDetector",
        "IPPublicDetector",
    }
    return [
        cls()
        for cls in get_mapping_from_secret_type_to_class().values()
        if cls.__name__ not in skip
    ]


def main() -> None:
    lines = make_log()
    text = "".join(lines)
    mb = len(text.encode()) / 1e6
    print(f"log: {mb:.1f} MB, {len(lines)} lines, {len(PLANTED)} planted kinds")
    whole = best(lambda: Redactor().redact(text))
    print(f"warroom Redactor, one call:    {whole * 1000:7.0f} ms  ({mb / whole:6.1f} MB/s)")

    def stream() -> None:
        r = Redactor()
        for line in lines:
            r.redact(line)

    per_line = best(stream)
    print(f"warroom Redactor, per line:    {per_line * 1000:7.0f} ms  ({mb / per_line:6.1f} MB/s)")
    out, _ = Redactor().redact(text)
    left = [p.kind for p in PLANTED if p.secret in out]
    print(f"warroom: planted kinds left in the output: {len(left)} {left}")

    plugins = detect_secrets_plugins()
    if plugins is None:
        print("detect-secrets: not installed (pip install detect-secrets)")
        return

    def scan() -> int:
        found = 0
        for n, line in enumerate(lines, 1):
            for p in plugins:
                found += len(p.analyze_line(filename="x.log", line=line, line_number=n))
        return found

    ds = best(scan, runs=1)
    print(f"detect-secrets, {len(plugins)} plugins: {ds * 1000:7.0f} ms  ({mb / ds:6.1f} MB/s)")
    missed = []
    for p in PLANTED:
        hits = [
            s.secret_value or ""
            for pl in plugins
            for ln in p.line.split("\n")
            for s in pl.analyze_line(filename="x.log", line=ln, line_number=1)
        ]
        if not any(p.secret in h or h in p.secret for h in hits if h):
            missed.append(p.kind)
    print(f"detect-secrets: planted kinds it does not find: {len(missed)} {missed}")


if __name__ == "__main__":
    main()
