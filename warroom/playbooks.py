"""Checklist playbooks: YAML files chosen by severity and category.

The checklist of an incident is the union of every playbook that matches it: the severity's
playbook plus any category playbook (security adds forensic steps). When severity changes, the
new playbook's items are added; nothing already on the checklist is removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from warroom.model import (
    Playbook,
    PlaybookItem,
    Severity,
    SeverityPolicy,
    format_duration,
    parse_duration,
)
from warroom.paging import REGULATORY_ITEM, Directory

SLA_FIELDS = ("respond_within", "update_every", "escalate_after", "resolve_within")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


# Conditions that tick an item, done by the event that makes them hold (projection.satisfied):
# a bundle with pod data sealed, a status update sent, a mitigation that took effect, the ack,
# a commander assigned, both tech and comms leads assigned, a `Root cause:` / `Impact:` note,
# the incident escalated, every alert resolved, health ok for health.verify_after after a
# mitigation, the resolution notice sent.
DONE_WHEN = (
    "evidence",
    "update",
    "action",
    "ack",
    "commander",
    "leads",
    "security_officer",
    "root_cause",
    "impact",
    "escalated",
    "alerts_clear",
    "health_ok",
    "resolution_notice",
    "isolated",
    "notified",
)


class PlaybookError(ValueError):
    """A malformed playbook; str() names the file, the line and the item."""


@dataclass(frozen=True)
class ChecklistEntry:
    """A playbook item resolved for one incident: its due time is a duration from declaration."""

    id: str
    phase: str
    phase_title: str
    text: str
    due_after: timedelta | None
    due_key: str | None = None  # an SLA field: the due time follows the current severity
    done_when: str | None = None  # an event kind that ticks the item (see DONE_WHEN)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "phase": self.phase,
            "phase_title": self.phase_title,
            "text": self.text,
            "due_after_s": self.due_after.total_seconds() if self.due_after else None,
            "due_key": self.due_key,
            "done_when": self.done_when,
        }


def load_playbooks(extra_dir: Path | None = None) -> list[Playbook]:
    """Shipped playbooks, then those in extra_dir (a file with the same name replaces ours)."""
    found: dict[str, tuple[str, str]] = {}
    shipped = resources.files("warroom.config").joinpath("playbooks")
    for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            found[entry.name] = (f"playbooks/{entry.name}", entry.read_text(encoding="utf-8"))
    if extra_dir is not None:
        if not extra_dir.is_dir():
            raise PlaybookError(f"{extra_dir}: playbooks directory not found")
        for path in sorted(extra_dir.glob("*.y*ml")):
            try:
                found[path.name] = (str(path), path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                raise PlaybookError(f"{path}: cannot read: {exc}") from None
    return [parse_playbook(text, source) for source, text in found.values()]


def parse_playbook(text: str, source: str) -> Playbook:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        problem = getattr(exc, "problem", None) or str(exc)
        raise PlaybookError(f"{where}: invalid YAML: {problem}") from None

    def fail(node: yaml.Node | None, what: str) -> PlaybookError:
        line = f":{node.start_mark.line + 1}" if node is not None else ""
        return PlaybookError(f"{source}{line}: {what}")

    if not isinstance(data, dict):
        raise fail(root, "a playbook is a mapping with name, severities and phases")

    def child(node: yaml.Node | None, key: str | int) -> yaml.Node | None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == key:
                    return v
        if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            return node.value[key]
        return None

    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise fail(child(root, "name") or root, "name: required, a string")
    sev_raw = data.get("severities", [s.value for s in Severity])
    try:
        severities = tuple(Severity(str(s)) for s in sev_raw)
    except (ValueError, TypeError):
        raise fail(child(root, "severities"), f"severities: use P0..P3, got {sev_raw!r}") from None
    cats = data.get("categories") or []
    if not isinstance(cats, list) or not all(isinstance(c, str) for c in cats):
        raise fail(child(root, "categories"), "categories: a list of names")
    phases_raw = data.get("phases")
    if not isinstance(phases_raw, list) or not phases_raw:
        raise fail(child(root, "phases") or root, "phases: required, a non-empty list")

    phases: list[str] = []
    items: list[PlaybookItem] = []
    seen: set[str] = set()
    phases_node = child(root, "phases")
    for pi, phase in enumerate(phases_raw):
        pnode = child(phases_node, pi)
        if not isinstance(phase, dict) or not isinstance(phase.get("id"), str):
            raise fail(pnode, f"phase {pi + 1}: needs an id")
        pid = phase["id"]
        title = phase.get("title") or pid
        phases.append(f"{pid}|{title}")
        items_node = child(pnode, "items")
        for ii, item in enumerate(phase.get("items") or []):
            inode = child(items_node, ii)
            label = f"phase {pid!r}, item {ii + 1}"
            if not isinstance(item, dict):
                raise fail(inode, f"{label}: expected a mapping with id and text")
            iid = item.get("id")
            label = f"item {iid!r}" if isinstance(iid, str) else label
            if not isinstance(iid, str) or not _ID.match(iid):
                raise fail(child(inode, "id") or inode, f"{label}: id must be lowercase-words")
            if iid in seen:
                raise fail(child(inode, "id"), f"{label}: duplicate id")
            seen.add(iid)
            text = item.get("text")
            if not isinstance(text, str) or not text.strip():
                raise fail(child(inode, "text") or inode, f"{label}: text is required")
            due = item.get("due")
            due_after: timedelta | None = None
            due_key: str | None = None
            if due is not None:
                if isinstance(due, str) and due in SLA_FIELDS:
                    due_key = due
                else:
                    try:
                        due_after = parse_duration(due)
                    except ValueError as exc:
                        raise fail(
                            child(inode, "due"),
                            f"{label}: due: {exc}; or one of {', '.join(SLA_FIELDS)}",
                        ) from None
            done_when = item.get("done_when")
            if done_when is not None and done_when not in DONE_WHEN:
                raise fail(
                    child(inode, "done_when"),
                    f"{label}: done_when: one of {', '.join(DONE_WHEN)}, got {done_when!r}",
                )
            extra = set(item) - {"id", "text", "due", "done_when"}
            if extra:
                raise fail(inode, f"{label}: unknown key {sorted(extra)[0]!r}")
            items.append(PlaybookItem(iid, pid, text.strip(), due_after, due_key, done_when))
    return Playbook(
        name=name.strip(),
        source=source,
        severities=severities,
        categories=tuple(cats),
        phases=tuple(phases),
        items=tuple(items),
    )


def checklist_for(
    playbooks: list[Playbook],
    severity: Severity,
    category: str,
    policy: SeverityPolicy,
) -> list[ChecklistEntry]:
    """The merged checklist for an incident, phase by phase, first playbook's order first."""
    matching = [
        p
        for p in playbooks
        if severity in p.severities and (not p.categories or category in p.categories)
    ]
    # Severity playbooks (no category) before category ones, so their items lead each phase.
    matching.sort(key=lambda p: (bool(p.categories), p.name))
    phase_order: list[str] = []
    titles: dict[str, str] = {}
    by_phase: dict[str, list[ChecklistEntry]] = {}
    seen: set[str] = set()
    for pb in matching:
        for ph in pb.phases:
            pid, _, title = ph.partition("|")
            if pid not in titles:
                phase_order.append(pid)
                titles[pid] = title
        for item in pb.items:
            if item.id in seen:
                continue
            seen.add(item.id)
            due = item.due_after
            if item.due_key:
                due = getattr(policy, item.due_key)
            entry = ChecklistEntry(
                item.id,
                item.phase,
                titles[item.phase],
                item.text,
                due,
                item.due_key,
                item.done_when,
            )
            by_phase.setdefault(item.phase, []).append(entry)
    return [e for pid in phase_order for e in by_phase.get(pid, [])]


def checklist_change(
    entries: list[ChecklistEntry],
    have: dict[str, Any],
    declared_at: datetime | None,
    *,
    revise: bool,
    severity: str = "",
) -> tuple[str, dict[str, Any]] | None:
    """The CHECKLIST "add" event (text, data) that brings an incident's checklist (`have`:
    item id -> state with text, phase, due_key, done_when, due_at) up to `entries`: the items
    it lacks, and with `revise` (raised beyond its worst severity so far) the new wording, due
    times and order for items it has (the same id means the same step). None: nothing to do."""
    new = [e.to_dict() for e in entries if e.id not in have]
    revised = []
    if revise:
        for e in entries:
            old = have.get(e.id)
            if old is None:
                continue
            due = declared_at + e.due_after if declared_at and e.due_after else None
            was = (old.text, old.phase, old.due_key, old.done_when)
            if was != (e.text, e.phase, e.due_key, e.done_when) or (
                e.due_key is None and due != old.due_at
            ):
                revised.append({**e.to_dict(), "revise": True})
    if not new and not revised:
        return None
    data: dict[str, Any] = {"op": "add", "items": new + revised}
    text = f"Checklist for {severity}: {len(new)} item(s) added" if severity else "Checklist"
    if revised:
        data["order"] = [e.id for e in entries]
        text += f", {len(revised)} reworded"
    return text, data


def regulatory_entries(directory: Directory, state: Any) -> list[ChecklistEntry]:
    """The regulator's notification, for a category flagged in [regulatory]: due `within`
    from awareness (the detection time), as a checklist item with its due time."""
    if state.declared_at is None or not directory.regulated(state.category or ""):
        return []
    due = directory.regulatory_due(state.detected_at or state.declared_at)
    assert due is not None
    within = format_duration(directory.regulatory_within)
    text = f"Regulator notified (due {due:%Y-%m-%d %H:%M} UTC, {within} from awareness)"
    after = max(due - state.declared_at, timedelta(seconds=1))  # 0 would read as "no due"
    return [ChecklistEntry(REGULATORY_ITEM, "regulatory", "Regulatory notification", text, after)]
