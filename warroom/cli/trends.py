"""`warroom stats`: trends across incidents, drills apart, from the summaries the store keeps
(report/summaries.py), in a table with terminal charts (plotext), Markdown with SVG charts,
JSON or CSV."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from warroom.bootstrap import repository, scrubber, settings_from
from warroom.errors import UsageError
from warroom.model import parse_duration, utcnow
from warroom.report import scrub_leaves, stats_out
from warroom.report.stats import Stats, compute
from warroom.report.summaries import collect


def since_of(text: str, now: datetime) -> datetime:
    """'90d' (an age) or '2026-01-01' (a date, UTC)."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--since: {text!r} is neither an age (90d, 12w) nor a date") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def terminal_charts(stats: Stats, color: bool) -> str:
    import plotext as plt

    out = []
    for title, (labels, series, _unit) in stats_out.chart_series(stats).items():
        real = series.get("Incidents") or []
        if not labels or not any(v for v in real):
            continue
        plt.clear_figure()
        plt.bar(labels, [v or 0 for v in real])
        plt.title(f"{title} (real incidents)")
        plt.plotsize(min(100, max(60, 12 + 12 * len(labels))), 14)
        plt.theme("clear")
        text = plt.build()
        out.append(text if color else plt.uncolorize(text))
    return "\n".join(out)


def stats(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    now = utcnow()
    since = since_of(args.since, now)
    found = collect(repository(settings))
    result = compute(found.summaries, now=now, since=since, by=args.by, skipped=found.skipped)
    # Outside text (action item titles and owners, why an incident was unreadable) is redacted
    # before rendering, where Markdown's escapes (DB\_PASS) would hide a key's name, and after.
    scrub = scrubber(settings)
    for group in result.groups.values():
        items = group["action_items"]
        items["overdue_items"] = scrub_leaves(items["overdue_items"], scrub)
    result.skipped = [(i, scrub(why)) for i, why in result.skipped]
    output = Path(args.output) if args.output else None
    if args.format == "md":
        charts_dir = Path(args.charts) if args.charts else None
        if charts_dir is None and output is not None:
            charts_dir = output.parent / f"{output.stem}-charts"
        base = output.parent if output is not None else Path.cwd()
        charts = stats_out.write_charts(result, charts_dir, base) if charts_dir else {}
        text = stats_out.markdown(result, charts)
    elif args.format == "json":
        text = stats_out.to_json(result)
    elif args.format == "csv":
        text = stats_out.to_csv(result)
    else:
        text = stats_out.table(result)
        if not args.no_charts:
            tty = output is None and sys.stdout.isatty()
            text += terminal_charts(result, color=tty) + "\n"
    text = scrub(text)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if found.skipped:
        names = ", ".join(i for i, _ in found.skipped)
        print(
            f"warroom: skipped {len(found.skipped)} unreadable incident(s): {names}",
            file=sys.stderr,
        )
    return 0
