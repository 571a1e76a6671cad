"""The post-mortem in Markdown, for people: every section of the template in order, an empty
part marked not recorded with the way to fill it, and the whole event log at the end."""

from __future__ import annotations

import re
from typing import Any

from warroom.model import Kind, format_duration
from warroom.report.facts import hhmm
from warroom.report.postmortem import Part, PostMortem, Section
from warroom.sanitize import strip_control


def md_inline(text: str) -> str:
    """Text that cannot break a Markdown table row or start a heading/list/HTML tag."""
    text = strip_control(text).replace("\r", " ").replace("\n", " ").replace("\t", " ")
    text = text.replace("\\", "\\\\").replace("|", "\\|")
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"([`*_\[\]#])", r"\\\1", text)
    return text.strip()


def render(pm: PostMortem) -> str:
    state = pm.state
    title = md_inline(state.title)
    out = [f"# {'[DRILL] ' if state.drill else ''}Incident report: {state.incident_id}: {title}"]
    out.append("")
    if state.drill:
        out += ["> **DRILL**: this was a simulated incident (a `warroom drill` exercise).", ""]
    for section in pm.sections:
        out += _section(pm, section)
    out += _event_log(pm)
    if pm.events:
        head = pm.events[-1].hash[:16]
        out.append(
            f"_Timeline: {len(pm.events)} events, hash chain head `{head}`. "
            f"Verify with `warroom verify {state.incident_id}`._"
        )
    return "\n".join(out) + "\n"


def _section(pm: PostMortem, section: Section) -> list[str]:
    out = [f"## {section.title}", ""]
    single = len(section.parts) == 1
    for part in section.parts:
        if not single:
            out += [f"### {part.title}", ""]
        out += _part(pm, part)
        out.append("")
    return out


def _part(pm: PostMortem, part: Part) -> list[str]:
    if part.key == "metrics":
        return _metrics(pm, part)
    if not part.recorded:
        return [f"_Not recorded._ {md_inline(part.hint)}".rstrip()]
    if part.key == "evidence":
        rows = ["| Time (UTC) | Who | Bundle | sha256 |", "|---|---|---|---|"]
        for e in part.items:
            at = str(e["at"])[11:19]
            rows.append(
                f"| {at} | {md_inline(e['by'])} | {md_inline(e['bundle'])} | "
                f"`{md_inline(e['sha256'])}` |"
            )
        return rows
    if part.key == "items":
        return [
            f"- [{'x' if i['state'] == 'done' else ' '}] {md_inline(i['text'])}" for i in part.items
        ]
    if part.key == "checklist_open":
        return [f"- [ ] {md_inline(i['text'])}" for i in part.items]
    return [f"- {md_inline(str(i['text']))}" for i in part.items]


def _metrics(pm: PostMortem, part: Part) -> list[str]:
    out = ["| Metric | Value | From -> to |", "|---|---|---|"]
    for row in part.items:
        value = format_duration(row["seconds"]) if row["seconds"] is not None else "-"
        out.append(f"| {row['label']} | {value} | {row['span']} |")
    tis = pm.metrics.time_in_severity
    if tis:
        out += ["", "| Severity | Time spent |", "|---|---|"]
        for sev in sorted(tis, key=lambda s: s.rank):
            out.append(f"| {sev.value} | {format_duration(tis[sev])} |")
    return out


def _event_log(pm: PostMortem) -> list[str]:
    state = pm.state
    out = ["## Event Log", "", "| Time (UTC) | Who | Kind | What |", "|---|---|---|---|"]
    for ev in pm.events:
        if ev.kind in (Kind.PIN, Kind.EDIT):
            continue  # reflected in the rows they refer to
        mark = " **(pinned)**" if ev.seq in state.pinned else ""
        edited = " _(edited)_" if ev.seq in state.edits else ""
        text = md_inline(state.text_of(ev))
        out.append(
            f"| {hhmm(ev.time)} | {md_inline(ev.actor)} | {ev.kind} | {text}{edited}{mark} |"
        )
    out.append("")
    return out


def part_lines(items: list[dict[str, Any]]) -> list[str]:
    """Plain lines of a part's items (the CLI prints these)."""
    return [strip_control(str(i.get("text", ""))) for i in items]
