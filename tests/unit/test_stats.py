"""`warroom stats`: trends across incidents from their summaries, drills apart, damaged files
skipped and named."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from xml.etree import ElementTree

import pytest

from tests.clock import FixedClock
from warroom.model import Kind, utcnow
from warroom.report.stats import compute, percentile
from warroom.report.summaries import collect
from warroom.room import WarRoom


@pytest.mark.parametrize(
    ("values", "p50", "p90"),
    [([], None, None), ([5.0], 5.0, 5.0), ([1.0, 2.0, 3.0, 4.0], 2.0, 4.0),
     ([float(v) for v in range(1, 11)], 5.0, 9.0)],
)  # fmt: skip
def test_nearest_rank_percentiles(values, p50, p90) -> None:
    assert percentile(values, 0.5) == p50 and percentile(values, 0.9) == p90


def history(repo, settings, clock: FixedClock) -> dict[str, WarRoom]:
    """Four real incidents and a drill over two months, each with what stats must see."""
    rooms: dict[str, WarRoom] = {}

    def declare(name: str, **kw) -> WarRoom:
        room = WarRoom.declare(repo, settings, clock=clock, **kw)
        rooms[name] = room
        return room

    # a: P1, impact 10m before declaring, acked in 20m, updated hourly, resolved in 2h.
    a = declare("a", title="Cart down", severity="P1", started_at=clock.now - timedelta(minutes=10))
    a.record(Kind.POD, "cart crashed", {"namespace": "shop", "pod": "cart-59965679df-x7k2p"},
             source="kubernetes")  # fmt: skip
    clock.advance(minutes=20)
    a.acknowledge()
    a.record(Kind.UPDATE, "update 1", {"template": "notification"})
    clock.advance(minutes=60)
    a.record(Kind.UPDATE, "update 2", {"template": "update"})
    clock.advance(minutes=40)
    a.resolve("rolled back")
    a.add_note("TODO(@bob, due 2026-11-25): alert on cart restarts")  # overdue by Dec 1

    # b: 10 days later, P1 again on cart (a repeat), ack late (2h > 1h), escalated, reopened,
    # no update for 3h (cadence 1h broken), resolved within 8h.
    clock.advance(days=10)
    b = declare("b", title="Cart slow", severity="P1", category="infrastructure")
    b.record(Kind.ACTION, "restart cart", {"verb": "rollout-restart",
             "target": "deployments/shop/cart", "ok": True})  # fmt: skip
    clock.advance(hours=2)
    b.acknowledge()
    b.escalate("platform")
    clock.advance(hours=1)
    b.resolve("ok")
    b.change_status("investigating", "came back")
    clock.advance(minutes=30)
    b.resolve("really ok")

    # c: next month, a false positive P3.
    clock.advance(days=25)
    c = declare("c", title="Noisy alert", severity="P3", category="security")
    clock.advance(minutes=5)
    c.acknowledge()
    c.resolve("a test alert", false_positive=True)

    # d: still open, P0, never acknowledged past its 15m response time.
    clock.advance(days=1)
    declare("d", title="Payments down", severity="P0", category="data")
    clock.advance(hours=1)

    # a drill: counted apart.
    drill = declare("drill", title="Drill: node loss", severity="P3", drill=True)
    drill.acknowledge()
    drill.add_note("TODO: practise force delete")
    return rooms


def test_trends_drills_apart(repo, settings) -> None:
    clock = FixedClock()
    rooms = history(repo, settings, clock)
    found = collect(repo)
    assert found.skipped == [] and len(found.summaries) == 5
    assert found.rebuilt == 0  # every summary was kept by the room as it wrote
    stats = compute(found.summaries, now=clock.now, since=clock.now - timedelta(days=90))
    real, drills = stats.groups["incidents"], stats.groups["drills"]
    assert real["count"] == 4 and drills["count"] == 1
    assert real["by_severity"] == {"P0": 1, "P1": 2, "P2": 0, "P3": 1}
    assert real["by_category"] == {"application": 1, "data": 1, "infrastructure": 1, "security": 1}
    assert real["mttd"]["n"] == 4 and real["mttd"]["p90_s"] == 600  # a: impact 10m earlier
    assert real["mtta"]["p50_s"] == 20 * 60 and real["mtta"]["p90_s"] == 2 * 3600
    assert real["mttr"]["n"] == 3 and real["mttr"]["p50_s"] == 2 * 3600
    sla = real["sla"]
    assert sla["ack"] == {"ok": 2, "of": 4, "pct": 50.0}  # b late, d never (past 15m)
    assert sla["updates"] == {"ok": 2, "of": 4, "pct": 50.0}  # a and c (P3: 24h) kept it
    assert sla["resolve"] == {"ok": 3, "of": 3, "pct": 100.0}  # d is still inside its 4h
    assert real["escalated"] == {"count": 1, "rate": 0.25}
    assert real["reopened"] == 1
    assert real["repeats"]["incidents"] == [rooms["b"].incident_id]
    assert real["repeats"]["same_service"] == 1 and real["repeats"]["same_category"] == 0
    assert real["false_positives"] == {
        "count": 1,
        "rate": 0.25,
        "incidents": [rooms["c"].incident_id],
    }
    assert real["action_items"]["open"] == 1 and real["action_items"]["overdue"] == 1
    assert drills["action_items"]["open"] == 1 and drills["action_items"]["overdue"] == 0
    assert [p["period"] for p in real["periods"]] == ["2026-11", "2026-12"]
    by_quarter = compute(found.summaries, now=clock.now, since=clock.now - timedelta(days=90),
                         by="quarter")  # fmt: skip
    assert [p["period"] for p in by_quarter.groups["incidents"]["periods"]] == ["2026-Q4"]
    # --since narrows the window (items are counted whatever their incident's date).
    recent = compute(found.summaries, now=clock.now, since=clock.now - timedelta(days=5))
    assert recent.groups["incidents"]["count"] == 2  # c and d
    assert recent.groups["incidents"]["action_items"]["overdue"] == 1


def test_damaged_incidents_are_skipped_and_named(repo, settings) -> None:
    clock = FixedClock()
    history(repo, settings, clock)
    ids = repo.ids()
    broken = repo.dir / f"{ids[0]}.json"
    broken.write_text("{this is not json")
    (repo.dir / f"{ids[0]}.journal").write_text("")
    found = collect(repo)
    assert [i for i, _ in found.skipped] == [ids[0]]
    assert len(found.summaries) == 4


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "warroom",
            "--data-dir",
            str(data),
            "stats",
            "--since",
            "1000d",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_stats_formats(repo, settings, tmp_path) -> None:
    # The CLI counts against the real clock: the history ends some hours ago.
    clock = FixedClock(utcnow() - timedelta(days=37))
    history(repo, settings, clock)
    (repo.dir / "INC-20261201-000000.json").write_text("[broken")
    data = settings.data_dir
    table = _cli(data)
    assert table.returncode == 0, table.stderr
    assert "Incidents\n---------" in table.stdout and "Drills (counted apart)" in table.stdout
    assert "False positives              25.0% (1)" in table.stdout
    assert "Incidents per period (real incidents)" in table.stdout  # the plotext chart
    assert "\x1b[" not in table.stdout  # not a terminal: no colour codes
    assert "Skipped 1 incident(s) that could not be read:\n- INC-20261201-000000:" in table.stdout
    assert "skipped 1 unreadable incident(s): INC-20261201-000000" in table.stderr

    out = tmp_path / "trends.md"
    md = _cli(data, "--format", "md", "-o", str(out), "--by", "quarter")
    assert md.returncode == 0, md.stderr
    text = out.read_text()
    assert "| Repeat incidents | 1 (same workload 1, same category 0) |" in text
    charts = sorted((tmp_path / "trends-charts").glob("*.svg"))
    assert len(charts) == 2
    assert "![Incidents per period](trends-charts/chart-1.svg)" in text
    svg = ElementTree.fromstring(charts[0].read_text())  # well-formed
    assert svg.tag.endswith("svg") and f"{clock.now.year}-Q" in charts[0].read_text()

    doc = json.loads(_cli(data, "--format", "json").stdout)
    assert doc["incidents"]["count"] == 4 and doc["drills"]["count"] == 1
    assert doc["skipped"][0]["incident"] == "INC-20261201-000000"

    rows = list(csv.DictReader(io.StringIO(_cli(data, "--format", "csv").stdout)))
    total = next(r for r in rows if r["group"] == "incidents" and r["period"] == "total")
    assert (
        total["count"] == "4" and total["false_positives"] == "1" and total["ack_sla_pct"] == "50.0"
    )

    bad = _cli(data, "--since", "last tuesday")
    assert bad.returncode == 2 and "--since: 'last tuesday' is neither" in bad.stderr


def test_stats_redacts_outside_text(repo, settings) -> None:
    """An action item's title is typed by a person under pressure: a pasted credential in it
    must not reach a trends report in any format (the export redacts the same way)."""
    clock = FixedClock(utcnow() - timedelta(days=37))
    room = WarRoom.declare(repo, settings, clock=clock, title="DB auth", severity="P2")
    room.resolve("fixed")
    key, password = "AKIAIOSFODNN7EXAMPLE", "hunter2-Sekr1t-Pa55"
    room.add_action_item(f"rotate {key}; DB_PASSWORD={password}", owner="ann", due="2026-01-02")
    (repo.dir / "INC-20261201-000000.json").write_text(f'["token={password}"')  # unreadable
    data = settings.data_dir
    for fmt in ("table", "md", "json", "csv"):
        out = _cli(data, "--format", fmt)
        assert out.returncode == 0, out.stderr
        for secret in (key, password):
            assert secret not in out.stdout and secret not in out.stderr, fmt
    table = _cli(data).stdout
    assert "overdue:" in table and "rotate [REDACTED]" in table  # the item is still listed
