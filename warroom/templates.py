"""Status-update templates: incident notification, status update #N, resolution notice.

Templates are plain text with `${name}` placeholders (string.Template). The shipped ones live in
`warroom.config` (config/templates/<kind>.txt); a `templates_dir` from settings overrides them
file by file. Substitution is single-pass and never evaluates anything: an unknown placeholder
stays visible as `${name}`, and `${...}` inside a value is left as typed. Values are passed
through as data (control characters included): the UI sanitises what it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from string import Template
from typing import Literal, get_args

from warroom.model import format_duration, utcnow

TemplateKind = Literal["notification", "update", "resolution"]
KINDS: tuple[TemplateKind, ...] = get_args(TemplateKind)

DRILL_MARKER = "[DRILL]"
DRILL_LINE = f"{DRILL_MARKER} This is an exercise, not a real incident."
EMPTY = "TBD"  # a blank field the commander still has to fill in
EMPTY_LIST = "- none recorded"


class TemplateError(ValueError):
    """A template that cannot be read. str() names the file."""


@dataclass(frozen=True)
class TemplateContext:
    """Everything a template may show; filled by the caller from the incident's projection."""

    incident_id: str
    title: str
    severity: str  # "P1"
    status: str  # "investigating"
    severity_name: str = ""  # "high"
    declared_at: datetime | None = None
    detected_at: datetime | None = None
    impact: str = ""
    update_number: int = 0
    actions_since_last_update: list[str] = field(default_factory=list)
    next_steps: str | list[str] = ""
    next_update_at: datetime | None = None
    resolved_at: datetime | None = None
    duration: timedelta | None = None
    root_cause: str = ""
    resolution: str = ""
    prevention: str | list[str] = ""
    commander: str = ""
    responders: str = ""  # "commander ann, tech lead bo"
    is_drill: bool = False
    expected_resolution: str = ""
    written_at: datetime | None = None  # "Time:" of an update; None = when rendered


def choose_template(first_update_sent: bool, resolved: bool) -> TemplateKind:
    """Resolution once resolved; the first message is a notification; then numbered updates."""
    if resolved:
        return "resolution"
    return "update" if first_update_sent else "notification"


def load_template(kind: str, templates_dir: Path | None = None, audience: str | None = None) -> str:
    """The template text of `kind` for `audience`: `<audience>/<kind>.txt`, then `<kind>.txt`,
    each from `templates_dir` first, then shipped (an audience's own wording, else the
    responders')."""
    if kind not in KINDS:
        raise ValueError(f"unknown template {kind!r} (use {', '.join(KINDS)})")
    name = f"{kind}.txt"
    shipped_dir = resources.files("warroom.config").joinpath("templates")
    for sub in ([audience] if audience else []) + [None]:
        rel = f"{sub}/{name}" if sub else name
        if templates_dir is not None and (templates_dir / rel).is_file():
            path = templates_dir / rel
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise TemplateError(f"{path}: cannot read template: {exc}") from None
            return text.replace("\r\n", "\n")
        shipped = shipped_dir.joinpath(*rel.split("/"))
        if shipped.is_file():
            return shipped.read_text(encoding="utf-8").replace("\r\n", "\n")
    raise TemplateError(f"no template {name}")  # the shipped one is always there


def render(
    kind: str,
    ctx: TemplateContext,
    *,
    templates_dir: Path | None = None,
    audience: str | None = None,
) -> str:
    """The prefilled text of `kind` for `ctx`; a drill's text starts with DRILL_MARKER."""
    template = load_template(kind, templates_dir, audience)
    text = Template(template).safe_substitute(template_values(ctx))
    text = text.strip("\n")
    if ctx.is_drill and not text.startswith(DRILL_MARKER):
        text = f"{DRILL_LINE}\n{text}"
    return text


def template_values(ctx: TemplateContext) -> dict[str, str]:
    """The placeholder values of `ctx`, each already rendered to text."""
    return {
        "incident_id": ctx.incident_id,
        "title": _text(ctx.title),
        "severity": ctx.severity,
        "severity_name": _text(ctx.severity_name),
        "status": _text(ctx.status),
        "declared_at": _time(ctx.declared_at),
        "detected_at": _time(ctx.detected_at),
        "impact": _text(ctx.impact),
        "update_number": str(ctx.update_number),
        "actions_since_last_update": _list(ctx.actions_since_last_update),
        "next_steps": _text_or_list(ctx.next_steps),
        "next_update_at": _time(ctx.next_update_at),
        "resolved_at": _time(ctx.resolved_at),
        "duration": format_duration(ctx.duration) if ctx.duration is not None else EMPTY,
        "root_cause": _text(ctx.root_cause),
        "resolution": _text(ctx.resolution),
        "prevention": _text_or_list(ctx.prevention),
        "commander": _text(ctx.commander),
        "responders": _text(ctx.responders),
        "drill": DRILL_MARKER if ctx.is_drill else "",
        "expected_resolution": _text(ctx.expected_resolution),
        "written_at": _time(ctx.written_at or utcnow()),
    }


def format_time(t: datetime) -> str:
    """Minute precision in UTC, as people read it in a channel: 2024-01-01 10:00 UTC."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _time(t: datetime | None) -> str:
    return format_time(t) if t is not None else EMPTY


def _text(value: str) -> str:
    return value.strip() or EMPTY


def _list(items: list[str]) -> str:
    lines = []
    for item in items:
        # Continuation lines of a multi-line item are indented under its "- ".
        body = "\n  ".join(part.rstrip() for part in str(item).strip().splitlines())
        if body:
            lines.append(f"- {body}")
    return "\n".join(lines) or EMPTY_LIST


def _text_or_list(value: str | list[str]) -> str:
    return _text(value) if isinstance(value, str) else _list(value)
