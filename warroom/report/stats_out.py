"""`warroom stats` output: a text table, Markdown (with SVG charts beside it), JSON and CSV.
Real incidents first, drills apart, and the incidents that could not be read, named."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from warroom.model import Severity, format_duration
from warroom.report.charts import bar_chart
from warroom.report.markdown import md_inline
from warroom.report.stats import Stats
from warroom.sanitize import one_line

TITLES = {"incidents": "Incidents", "drills": "Drills (counted apart)"}
LISTED = 20  # overdue items listed by name in the table and Markdown (JSON has them all)
MORE = "warroom action list --all-incidents --overdue"
DEFINITIONS = (
    "MTTD impact start -> detection; MTTA detection -> acknowledged; MTTR detection -> "
    "resolved; p50/p90 nearest-rank. SLA against each incident's recorded severity SLA, "
    "counted from the declaration; repeat = same workload or category within 30 days."
)


def _d(seconds: float | None) -> str:
    return format_duration(seconds) if seconds is not None else "-"


def _pct(r: dict[str, Any]) -> str:
    return f"{r['pct']:.1f}% ({r['ok']}/{r['of']})" if r["of"] else "- (0/0)"


def summary_rows(g: dict[str, Any]) -> list[tuple[str, str]]:
    """(measure, value) lines of one group: what every format shows."""
    sev = ", ".join(f"{k} {v}" for k, v in g["by_severity"].items())
    cat = ", ".join(f"{k} {v}" for k, v in g["by_category"].items()) or "-"
    rows = [("Count", str(g["count"])), ("By severity", sev), ("By category", cat)]
    for key, label in (("mttd", "MTTD"), ("mtta", "MTTA"), ("mttr", "MTTR")):
        t = g[key]
        rows.append(
            (
                label,
                f"mean {_d(t['mean_s'])}, p50 {_d(t['p50_s'])}, p90 {_d(t['p90_s'])} (n={t['n']})",
            )
        )
    sla = g["sla"]
    rows += [
        ("SLA: acknowledged in time", _pct(sla["ack"])),
        ("SLA: updates within cadence", _pct(sla["updates"])),
        ("SLA: resolved within target", _pct(sla["resolve"])),
    ]
    esc, fp, rep, items = g["escalated"], g["false_positives"], g["repeats"], g["action_items"]
    rate = lambda r: f"{r * 100:.1f}%" if r is not None else "-"  # noqa: E731
    rows += [
        ("Escalation rate", f"{rate(esc['rate'])} ({esc['count']})"),
        ("Reopened", str(g["reopened"])),
        (
            "Repeat incidents",
            f"{rep['count']} (same workload {rep['same_service']}, "
            f"same category {rep['same_category']})",
        ),
        ("False positives", f"{rate(fp['rate'])} ({fp['count']})"),
        ("Action items", f"{items['open']} open, {items['overdue']} overdue"),
    ]
    return rows


def period_rows(g: dict[str, Any]) -> list[list[str]]:
    head = ["Period", "Count", *[s.value for s in Severity], "MTTD p50", "MTTA p50", "MTTR p50"]
    head += ["MTTR p90"]
    rows = [head]
    for p in g["periods"]:
        rows.append(
            [
                p["period"],
                str(p["count"]),
                *[str(p["by_severity"][s.value]) for s in Severity],
                _d(p["mttd"]["p50_s"]),
                _d(p["mtta"]["p50_s"]),
                _d(p["mttr"]["p50_s"]),
                _d(p["mttr"]["p90_s"]),
            ]
        )
    return rows


def _grid(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def _header(stats: Stats) -> str:
    return f"since {stats.since:%Y-%m-%d}, by {stats.by}, as of {stats.now:%Y-%m-%d %H:%M} UTC"


def table(stats: Stats) -> str:
    out = [f"warroom stats: {_header(stats)}", ""]
    for name, g in stats.groups.items():
        out += [TITLES[name], "-" * len(TITLES[name])]
        if not g["count"] and not g["action_items"]["open"]:
            out += ["none in this window", ""]
            continue
        out += _grid([[k, v] for k, v in summary_rows(g)])
        if g["periods"]:
            out += ["", *_grid(period_rows(g))]
        out += [f"  {line}" for line in _overdue(g, one_line)]
        out.append("")
    out += _skipped(stats, lambda s: s)
    out.append(DEFINITIONS)
    return "\n".join(out) + "\n"


def _overdue(g: dict[str, Any], esc: Any) -> list[str]:
    """The first LISTED overdue items, one line each (`esc` makes outside text safe)."""
    overdue = g["action_items"]["overdue_items"]
    lines = [
        f"overdue: {esc(it['incident'])} {esc(it['id'])} {esc(it['text'])} "
        f"(@{esc(it['owner'] or '-')}, due {esc(str(it['due']))})"
        for it in overdue[:LISTED]
    ]
    if len(overdue) > LISTED:
        lines.append(f"... {len(overdue) - LISTED} more: {esc(MORE)}")
    return lines


def _skipped(stats: Stats, esc: Any) -> list[str]:
    if not stats.skipped:
        return []
    lines = [f"Skipped {len(stats.skipped)} incident(s) that could not be read:"]
    lines += [f"- {esc(i)}: {esc(one_line(r))}" for i, r in stats.skipped]
    return [*lines, ""]


def markdown(stats: Stats, charts: dict[str, str] | None = None) -> str:
    """`charts`: chart name -> path relative to the Markdown file, written by write_charts."""
    out = ["# Incident trends", "", f"_{_header(stats)}_", ""]
    for name, g in stats.groups.items():
        out += [f"## {TITLES[name]}", ""]
        if not g["count"] and not g["action_items"]["open"]:
            out += ["_None in this window._", ""]
            continue
        out += ["| Measure | Value |", "|---|---|"]
        out += [f"| {k} | {md_inline(v)} |" for k, v in summary_rows(g)]
        out.append("")
        if g["periods"]:
            rows = period_rows(g)
            out += ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
            out += ["| " + " | ".join(md_inline(c) for c in r) + " |" for r in rows[1:]]
            out.append("")
        lines = _overdue(g, md_inline)
        out += [*(f"- {line}" for line in lines), *([""] if lines else [])]
    for title, path in (charts or {}).items():
        out += [f"![{md_inline(title)}]({path})", ""]
    out += _skipped(stats, md_inline)
    out += [f"_{md_inline(DEFINITIONS)}_", ""]
    return "\n".join(out)


def to_json(stats: Stats) -> str:
    return json.dumps(stats.to_dict(), indent=2, ensure_ascii=False) + "\n"


def to_csv(stats: Stats) -> str:
    """One row per group and period, plus a 'total' row per group."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    sevs = [s.value for s in Severity]
    times = [f"{m}_{p}_s" for m in ("mttd", "mtta", "mttr") for p in ("p50", "p90")]
    w.writerow(["group", "period", "count", *sevs, *times, "ack_sla_pct", "update_sla_pct",
                "resolve_sla_pct", "escalation_rate", "reopened", "repeats", "false_positives",
                "open_items", "overdue_items"])  # fmt: skip
    for name, g in stats.groups.items():
        for p in g["periods"]:
            tv = [p[m][f"{q}_s"] for m in ("mttd", "mtta", "mttr") for q in ("p50", "p90")]
            w.writerow([name, p["period"], p["count"], *[p["by_severity"][s] for s in sevs], *tv])
        tv = [g[m][f"{q}_s"] for m in ("mttd", "mtta", "mttr") for q in ("p50", "p90")]
        sla = g["sla"]
        w.writerow([name, "total", g["count"], *[g["by_severity"][s] for s in sevs], *tv,
                    sla["ack"]["pct"], sla["updates"]["pct"], sla["resolve"]["pct"],
                    g["escalated"]["rate"], g["reopened"], g["repeats"]["count"],
                    g["false_positives"]["count"], g["action_items"]["open"],
                    g["action_items"]["overdue"]])  # fmt: skip
    for incident, reason in stats.skipped:
        w.writerow(["skipped", incident, one_line(reason)])
    return buf.getvalue()


def chart_series(stats: Stats) -> dict[str, tuple[list[str], dict[str, list[float | None]], str]]:
    """What the charts show: incidents per period, and MTTR p50 per period (minutes)."""
    labels = sorted({p["period"] for g in stats.groups.values() for p in g["periods"]})

    def per(name: str, pick: Any) -> list[float | None]:
        by = {p["period"]: p for p in stats.groups[name]["periods"]}
        return [pick(by[k]) if k in by else None for k in labels]

    def minutes(p: dict[str, Any]) -> float | None:
        v = p["mttr"]["p50_s"]
        return v / 60 if v is not None else None

    return {
        "Incidents per period": (
            labels,
            {TITLES[n].split()[0]: per(n, lambda p: float(p["count"])) for n in stats.groups},
            "",
        ),
        "MTTR p50 per period (minutes)": (
            labels,
            {TITLES[n].split()[0]: per(n, minutes) for n in stats.groups},
            "m",
        ),
    }


def write_charts(stats: Stats, directory: Path, relative_to: Path) -> dict[str, str]:
    """SVG charts into `directory`; returns title -> path relative to `relative_to`."""
    directory.mkdir(parents=True, exist_ok=True)
    out = {}
    for i, (title, (labels, series, unit)) in enumerate(chart_series(stats).items()):
        path = directory / f"chart-{i + 1}.svg"
        path.write_text(bar_chart(title, labels, series, unit), encoding="utf-8")
        try:
            out[title] = str(path.relative_to(relative_to))
        except ValueError:
            out[title] = str(path)
    return out
