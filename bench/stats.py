"""`warroom stats` over 1,000 incidents of 2,000 events each (goal: under 2 s on two cores).

The incidents are written as compacted TinyDB files with real hash chains (checks, alerts, pods,
notes, updates, action items, acknowledgements, escalations, resolutions, drills, false
positives), and each gets the summary the room keeps on every append (the same
warroom.summary.summarize and store.summary.write the room uses). Then:

- warm: `warroom stats --format json` as a user runs it (a new process: imports included),
  and the collect + compute part alone, in-process;
- one stale: one incident changed behind the summaries' back (rebuilt from its events);
- cold: every summary deleted, so every timeline is replayed (what the summaries avoid).

`python bench/stats.py [DIR]` keeps the generated data in DIR (reused when present).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from warroom.model import Event, event_hash, format_ts
from warroom.projection import project
from warroom.report.stats import compute
from warroom.report.summaries import collect
from warroom.store import GENESIS, summary
from warroom.store.tinydb import TinyDBRepository
from warroom.summary import summarize

INCIDENTS = 1_000
EVENTS = 2_000
T0 = datetime(2026, 6, 1, tzinfo=UTC)
POLICY = {
    "P0": (900, 1800, 900, 14400),
    "P1": (3600, 3600, 3600, 28800),
    "P2": (14400, 7200, 14400, 86400),
    "P3": (86400, 86400, 86400, 259200),
}


def _policy(sev: str) -> dict[str, float]:
    names = ("respond_within", "update_every", "escalate_after", "resolve_within")
    return dict(zip(names, (float(v) for v in POLICY[sev]), strict=True))


def incident_events(n: int, rng: random.Random) -> tuple[str, list[dict]]:
    drill = rng.random() < 0.1
    incident_id = f"{'DRILL' if drill else 'INC'}-{(T0 + timedelta(hours=4 * n)):%Y%m%d-%H%M%S}"
    sev = rng.choice(["P0", "P1", "P1", "P2", "P2", "P3"])
    service = rng.choice(["cart", "checkout-api", "payments", "search", "frontend"])
    t = T0 + timedelta(hours=4 * n)
    docs: list[dict] = []

    def add(kind: str, text: str, data: dict | None = None, actor: str = "ann") -> None:
        nonlocal t
        body = {
            "seq": len(docs) + 1,
            "ts": format_ts(t),
            "actor": actor,
            "kind": kind,
            "text": text,
            "data": data or {},
            "prev": docs[-1]["hash"] if docs else GENESIS,
        }
        docs.append({**body, "hash": event_hash(body)})
        t += timedelta(seconds=rng.randint(1, 20))

    add("declared", f"{sev} declared: {service} errors", {
        "incident_id": incident_id, "title": f"{service} errors", "severity": sev,
        "category": rng.choice(["application", "infrastructure", "data"]), "drill": drill,
        "policy": _policy(sev),
        "started_at": format_ts(t - timedelta(minutes=rng.randint(0, 30))),
    })  # fmt: skip
    acked = escalated = False
    for i in range(EVENTS - 3):
        r = rng.random()
        if i == 5:
            add("ack", "Acknowledged")
            acked = True
        elif r < 0.45:
            to = rng.choice(["ok", "warn", "crit"])
            add("check", f"{service} error ratio {to}", {"check": f"{service} errors", "to": to},
                "prometheus")  # fmt: skip
        elif r < 0.75:
            add("pod", f"{service}-59965679df-x7k2p restarted",
                {"namespace": "shop", "pod": f"{service}-59965679df-x7k2p",
                 "transition": "restarts"}, "kubernetes")  # fmt: skip
        elif r < 0.85:
            add("alert", f"alert {service}High fired",
                {"alertname": f"{service}High", "transition": "fired", "severity": "critical"},
                "alertmanager")  # fmt: skip
        elif r < 0.95:
            add("note", f"looked at {service} dashboards, error rate {rng.random():.2%}")
        elif r < 0.97:
            add("update", "status update", {"template": "update", "update_number": i})
        elif r < 0.975 and not escalated:
            add("escalated", "Escalated to platform", {"to": "platform"})
            escalated = True
        elif r < 0.9975:
            add("system", "Prometheus unreachable", {"source": "prometheus"}, "warroom")
        else:  # about 5 action items an incident
            due = (t + timedelta(days=rng.randint(-30, 30))).date().isoformat()
            add("action_item", "Action item", {"op": "add", "text": "follow up",
                                               "owner": "bob", "due": due})  # fmt: skip
    if not acked:
        add("ack", "Acknowledged")
    if n < INCIDENTS - 5:  # the last few stay open
        add("resolved", "Resolved", {"summary": "fixed", "false_positive": rng.random() < 0.05})
    return incident_id, docs


def generate(directory: Path) -> None:
    incidents = directory / "incidents"
    incidents.mkdir(parents=True, exist_ok=True)
    rng = random.Random(18)

    for n in range(INCIDENTS):
        incident_id, docs = incident_events(n, rng)
        path = incidents / f"{incident_id}.json"
        path.write_text(json.dumps({"events": {str(d["seq"]): d for d in docs}}), "utf-8")
        doc = summarize(project([Event.from_dict(d) for d in docs]))
        summary.write(incidents, incident_id, doc, summary.stamp(incidents, incident_id))


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def cli_seconds(directory: Path, *extra: str) -> float:
    t = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "warroom", "--data-dir", str(directory), "stats", "--since", "3650d",
         *extra],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    took = time.perf_counter() - t
    assert "count" in proc.stdout.lower()
    return took


def main() -> None:
    keep = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    directory = keep or Path(tempfile.mkdtemp(prefix="warroom-bench-stats-"))
    repo = TinyDBRepository(directory)
    if len(repo.ids()) != INCIDENTS:
        took = timed(lambda: generate(directory))
        print(f"generated {INCIDENTS} incidents x {EVENTS} events in {took:.1f} s")
    size = sum(p.stat().st_size for p in (directory / "incidents").iterdir()) / 1e6
    print(f"data: {directory} ({size:.0f} MB), {os.cpu_count()} cores")
    now = datetime.now(UTC)

    def stats() -> None:
        found = collect(repo)
        assert len(found.summaries) == INCIDENTS, (len(found.summaries), found.skipped[:3])
        compute(found.summaries, now=now, since=now - timedelta(days=3650))

    stats()  # first run: any summary missing is rebuilt here
    for extra in ((), ("--format", "json")):
        runs = [cli_seconds(directory, *extra) for _ in range(5)]
        what = " ".join(extra) or "(table and charts)"
        median, worst = statistics.median(runs), max(runs)
        print(f"warm, `warroom stats {what}` (new process): median {median:.3f} s, "
              f"max {worst:.3f} s  (goal < 2 s)")  # fmt: skip
    inproc = [timed(stats) for _ in range(5)]
    print(f"warm, collect + compute in-process: median {statistics.median(inproc):.3f} s")

    victim = repo.ids()[17]
    with repo.open(victim) as store:  # a write the summary did not see (an older warroom)
        store.append("note", "written behind the summary's back", actor="bo")
    print(f"one stale summary (rebuilt from its events): {timed(stats):.3f} s")

    for p in (directory / "incidents").glob("*.summary"):
        p.unlink()
    print(f"cold, every timeline replayed (no summaries): {timed(stats):.1f} s")
    print(f"warm again: {timed(stats):.3f} s")
    if keep is None:
        shutil.rmtree(directory)


if __name__ == "__main__":
    main()
