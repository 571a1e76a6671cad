"""The drill report (Markdown): the score per objective with measured times, what was missed,
what the scenario did, and the timeline. Built from the incident's events alone (scoring.py),
so `warroom drill --report ID` writes the same report long after the drill ended.

All outside text (event texts, actors, scenario notes) goes through md_inline: a pod name or a
log line cannot open a link, a table cell or an HTML tag in the report.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from warroom.drill.scenario_types import Scenario
from warroom.drill.scoring import DRILL_END, DrillScore, PolicyFor, score
from warroom.model import Event, Kind, format_duration
from warroom.projection import project
from warroom.report import md_inline
from warroom.store.private import private_dir, write_private

REPORT_DIR = "drill-reports"


def score_drill(events: list[Event], scenario: Scenario, policy_for: PolicyFor) -> DrillScore:
    return score(
        events,
        scenario.objectives,
        policy_for,
        scenario=scenario.name,
        workloads=[w.ref for w in scenario.workloads],
    )


def report_path(data_dir: Path, incident_id: str) -> Path:
    return data_dir / REPORT_DIR / f"{incident_id}.md"


def write_report(path: Path, text: str) -> Path:
    """Atomically, 0600, in a 0700 folder (tightened if an older warroom made it 0755)."""
    private_dir(path.parent)
    return write_private(path, text)


def to_markdown(events: list[Event], scenario: Scenario, result: DrillScore) -> str:
    state = project(events)
    clock = result.clock
    out: list[str] = []
    out.append(f"# Drill report: {md_inline(result.incident_id)}: {md_inline(scenario.title)}")
    out.append("")
    out.append(
        f"> Simulated incident (`warroom drill`), scenario `{md_inline(scenario.name)}`, "
        f"speed x{clock.speed:g}, started {_t(clock.t0)}."
    )
    out.append(
        "> Clocks: measured times are wall-clock time since the drill was declared, the clock the"
        " severity policy and the console's deadlines use. `scenario t+` is the scenario's own"
        f" clock (wall seconds since drill start x {clock.speed:g}), the one the scenario file"
        " and drill scripts are written in."
    )
    out.append("")
    verdict = "WON" if result.won else "LOST"
    needs = ", ".join(result.required)
    out.append(
        f"**Result: {verdict}, {result.points}/{result.max_points} points ({result.percent}%).** "
        f"A win needs {result.pass_mark}% and these objectives: {needs or 'none'}."
    )
    out.append("")
    out.append("| Objective | Result | Points | Measured | Expected |")
    out.append("|---|---|---|---|---|")
    for o in result.objectives:
        mark = "pass" if o.passed else "**MISSED**"
        out.append(
            f"| {md_inline(o.title)} | {mark} | {o.points}/{o.max_points} | "
            f"{md_inline(o.measured)} | {md_inline(o.limit)} |"
        )
    out.append("")

    out += ["## What was missed", ""]
    missed = [o for o in result.objectives if not o.passed]
    if missed:
        out.extend(f"- **{md_inline(o.title)}**: {md_inline(o.missed)}" for o in missed)
    else:
        out.append("_Nothing: every objective was met._")
    out.append("")
    if result.wrong_moves:
        out += ["## Wrong moves", ""]
        out.extend(f"- {md_inline(m)}" for m in result.wrong_moves)
        out.append("")

    out += ["## The scenario", "", md_inline(scenario.description) or "_No description._", ""]
    happenings = _happenings(events)
    if happenings:
        out.append("What the scenario did and how it reacted (scenario clock):")
        out.append("")
        out.append("| Scenario t | Source | What |")
        out.append("|---|---|---|")
        for h in happenings:
            t = format_duration(float(h.get("t", 0)))
            what = " ".join(str(h[k]) for k in ("kind", "target", "detail") if h.get(k))
            out.append(f"| t+{t} | {md_inline(str(h.get('source', '')))} | {md_inline(what)} |")
        out.append("")

    out += ["## Timeline", ""]
    out.append("| Time (UTC) | Scenario t | Who | Kind | What |")
    out.append("|---|---|---|---|---|")
    for ev in events:
        if ev.kind in (Kind.PIN, Kind.EDIT):
            continue
        out.append(
            f"| {ev.time.strftime('%H:%M:%S')} | t+{format_duration(clock.scenario_t(ev.time))} | "
            f"{md_inline(ev.actor)} | {ev.kind} | {md_inline(state.text_of(ev))} |"
        )
    out.append("")
    last = events[-1] if events else None
    if last:
        out.append(
            f"_Timeline: {len(events)} events, hash chain head `{last.hash[:16]}`. "
            f"Verify with `warroom verify {md_inline(result.incident_id)}`; the full post-mortem "
            f"is `warroom export {md_inline(result.incident_id)}`._"
        )
    return "\n".join(out) + "\n"


def _happenings(events: list[Event]) -> list[dict]:
    """The scenario's own log, recorded on the timeline when the drill ended."""
    for e in reversed(events):
        if e.kind == Kind.SYSTEM and e.data.get("drill") == DRILL_END:
            items = e.data.get("happenings") or []
            return [h for h in items if isinstance(h, dict)]
    return []


def _t(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")
