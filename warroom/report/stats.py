"""Trends across incidents, from their summaries (summaries.py), as our procedures ask for in
the monthly and quarterly reviews. Drills are counted apart from real incidents, always.

Definitions (stated in the output too):
- MTTD impact start -> detection; MTTA detection -> acknowledged; MTTR detection -> resolved.
  p50 and p90 are nearest-rank percentiles.
- SLA, against the SLA each incident recorded for its severity (a P3 raised to P1 owes P1's):
  acknowledged within respond_within of the declaration; no gap between status updates (from
  the declaration to the resolution, or now) longer than update_every; resolved within
  resolve_within of the declaration. An incident still inside a limit is not counted yet.
- Escalation rate: incidents escalated / incidents. Reopened: resolved, then opened again.
- Repeat: an earlier incident within 30 days named a same workload or service, or had the same
  category. False positive: resolved as "not an incident".
- Action items: open and overdue ones of every incident, whatever its date.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from warroom.action_items import DONE
from warroom.model import Severity, parse_ts

REPEAT_WINDOW = timedelta(days=30)
GROUPS = ("incidents", "drills")


@dataclass
class Stats:
    now: datetime
    since: datetime
    by: str  # month | quarter
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "warroom.stats/v1",
            "generated_at": self.now.isoformat(timespec="seconds"),
            "since": self.since.isoformat(timespec="seconds"),
            "by": self.by,
            **self.groups,
            "skipped": [{"incident": i, "reason": r} for i, r in self.skipped],
        }


def period_of(t: datetime, by: str) -> str:
    return f"{t.year}-Q{(t.month - 1) // 3 + 1}" if by == "quarter" else f"{t:%Y-%m}"


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least p of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p * len(ordered)) - 1, 0)]


def spread(values: list[float]) -> dict[str, Any]:
    return {
        "n": len(values),
        "mean_s": sum(values) / len(values) if values else None,
        "p50_s": percentile(values, 0.5),
        "p90_s": percentile(values, 0.9),
    }


def _t(doc: dict[str, Any], key: str) -> datetime | None:
    return parse_ts(doc[key]) if doc.get(key) else None


def _declared(doc: dict[str, Any]) -> datetime:
    return parse_ts(doc["declared_at"])  # summaries without one are skipped when collected


def _gap(doc: dict[str, Any], a: str, b: str) -> float | None:
    ta, tb = _t(doc, a), _t(doc, b)
    return max((tb - ta).total_seconds(), 0.0) if ta and tb else None


def _ratio(ok: int, of: int) -> dict[str, Any]:
    return {"ok": ok, "of": of, "pct": round(100.0 * ok / of, 1) if of else None}


def _sla(docs: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    tally = {"ack": [0, 0], "updates": [0, 0], "resolve": [0, 0]}

    def count(name: str, ok: bool) -> None:
        tally[name][0] += ok
        tally[name][1] += 1

    for doc in docs:
        sla, declared = doc.get("sla") or {}, _declared(doc)
        acked, resolved = _t(doc, "acked_at"), _t(doc, "resolved_at")
        if "respond_within" in sla:
            limit = declared + timedelta(seconds=sla["respond_within"])
            if acked is not None or now > limit:
                count("ack", acked is not None and acked <= limit)
        if "update_every" in sla:
            cadence = timedelta(seconds=sla["update_every"])
            marks = [declared, *(parse_ts(u) for u in doc.get("updates") or ()), resolved or now]
            worst = max((b - a for a, b in itertools.pairwise(marks)), default=None)
            if worst is not None and (resolved is not None or worst > cadence):
                count("updates", worst <= cadence)
        if "resolve_within" in sla:
            limit = declared + timedelta(seconds=sla["resolve_within"])
            if resolved is not None or now > limit:
                count("resolve", resolved is not None and resolved <= limit)
    return {name: _ratio(ok, of) for name, (ok, of) in tally.items()}


def _repeats(window: list[dict[str, Any]], every: list[dict[str, Any]]) -> dict[str, Any]:
    """`every` is sorted by declaration: the 30 days before each incident are a slice."""
    times = [_declared(e) for e in every]
    by_service, by_category = [], []
    for doc in window:
        t = _declared(doc)
        lo, hi = bisect.bisect_left(times, t - REPEAT_WINDOW), bisect.bisect_left(times, t)
        earlier = [e for e in every[lo:hi] if e["id"] != doc["id"]]
        services = set(doc.get("services") or ())
        if any(services & set(e.get("services") or ()) for e in earlier):
            by_service.append(doc["id"])
        if any(e.get("category") == doc.get("category") for e in earlier):
            by_category.append(doc["id"])
    both = sorted(set(by_service) | set(by_category))
    return {
        "count": len(both),
        "same_service": len(by_service),
        "same_category": len(by_category),
        "incidents": both,
    }


def _items(docs: list[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """Open items, and those past their due day (ISO dates compare as strings)."""
    today = now.date().isoformat()
    open_, overdue = 0, []
    for doc in docs:
        for d in doc.get("items") or ():
            if d.get("state") == DONE:
                continue
            open_ += 1
            if d.get("due") and str(d["due"]) < today:
                overdue.append({"incident": doc["id"], **d})
    return {"open": open_, "overdue": len(overdue), "overdue_items": overdue}


def _times(docs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "mttd": spread(
            [v for d in docs if (v := _gap(d, "started_at", "detected_at")) is not None]
        ),
        "mtta": spread([v for d in docs if (v := _gap(d, "detected_at", "acked_at")) is not None]),
        "mttr": spread(
            [v for d in docs if (v := _gap(d, "detected_at", "resolved_at")) is not None]
        ),
    }


def _group(
    window: list[dict[str, Any]], every: list[dict[str, Any]], now: datetime, by: str
) -> dict[str, Any]:
    n = len(window)
    periods: dict[str, list[dict[str, Any]]] = {}
    for doc in window:
        periods.setdefault(period_of(_declared(doc), by), []).append(doc)
    escalated = sum(1 for d in window if d.get("escalated"))
    fps = [d["id"] for d in window if d.get("false_positive")]
    severities = Counter(d.get("severity") for d in window)
    return {
        "count": n,
        "by_severity": {s.value: severities.get(s.value, 0) for s in Severity},
        "by_category": dict(sorted(Counter(d.get("category") or "-" for d in window).items())),
        **_times(window),
        "sla": _sla(window, now),
        "escalated": {"count": escalated, "rate": round(escalated / n, 3) if n else None},
        "reopened": sum(1 for d in window if d.get("reopened")),
        "repeats": _repeats(window, every),
        "false_positives": {
            "count": len(fps),
            "rate": round(len(fps) / n, 3) if n else None,
            "incidents": fps,
        },
        "action_items": _items(every, now),
        "periods": [
            {
                "period": key,
                "count": len(docs),
                "by_severity": {
                    s.value: sum(d.get("severity") == s.value for d in docs) for s in Severity
                },
                **_times(docs),
            }
            for key, docs in sorted(periods.items())
        ],
    }


def compute(
    summaries: list[dict[str, Any]],
    *,
    now: datetime,
    since: datetime,
    by: str = "month",
    skipped: list[tuple[str, str]] | None = None,
) -> Stats:
    stats = Stats(now=now, since=since, by=by, skipped=list(skipped or ()))
    for name in GROUPS:
        every = [d for d in summaries if bool(d.get("drill")) == (name == "drills")]
        every.sort(key=lambda d: d["declared_at"])
        window = [d for d in every if _declared(d) >= since]
        stats.groups[name] = _group(window, every, now, by)
    return stats
