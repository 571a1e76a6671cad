"""Action items: the follow-up work an incident leaves, with an owner, a due date, a state and
optional ticket links. Pure vocabulary: the TODO syntax of notes, due dates, overdue.

A note `TODO(@ann, due 2026-12-08): add an alert on pool exhaustion` becomes an item owned by
ann, due at the end of 2026-12-08 (UTC). A plain `TODO: ...` is an item with neither (the
post-mortem shows "no owner"). A `TODO(` the parser cannot read is kept as a plain note, with a
hint saying how to write it: a typo never loses the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

TODO_HINT = "write TODO(@owner, due YYYY-MM-DD): text"
OPEN, DONE = "open", "done"
TRACKERS = ("github", "gitlab", "jira")

_TODO = re.compile(r"^\s*(?:todo|action)\s*\((?P<args>[^()]*)\)\s*:\s*(?P<text>.*)$", re.I | re.S)
_TODO_START = re.compile(r"^\s*(?:todo|action)\s*\(", re.I)
_OWNER = re.compile(r"@?(?P<owner>[\w.+-]+(?:@[\w.-]+)?)")


class TodoSyntaxError(ValueError):
    """A `TODO(` that does not read as TODO(@owner, due YYYY-MM-DD): str() is the hint."""


@dataclass(frozen=True)
class Todo:
    text: str
    owner: str | None = None
    due: date | None = None


def parse_due(value: str) -> date:
    """'2026-12-08' -> date. ValueError naming the expected form otherwise."""
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"not a date: {value.strip()!r} (use YYYY-MM-DD)") from None


def clean_owner(value: str) -> str:
    """'@ann' or 'ann' -> 'ann'. ValueError for anything that is not one name."""
    m = _OWNER.fullmatch(value.strip())
    if not m:
        raise ValueError(f"not an owner: {value.strip()!r} (use @name)")
    return m.group("owner")


def parse_todo(text: str) -> Todo | None:
    """The item a note asks for: None if the note is not a `TODO(...)` note at all, a Todo if
    it reads, TodoSyntaxError (with the hint) if it starts like one and does not."""
    if not _TODO_START.match(text):
        return None
    m = _TODO.match(text)
    if not m:
        raise TodoSyntaxError(f"unclosed TODO( or no ':' after it; {TODO_HINT}")
    body = " ".join(m.group("text").split())
    if not body:
        raise TodoSyntaxError(f"nothing to do after the ':'; {TODO_HINT}")
    owner: str | None = None
    due: date | None = None
    for part in (p.strip() for p in m.group("args").split(",")):
        if not part:
            continue
        if part.lower().startswith("due"):
            if due is not None:
                raise TodoSyntaxError(f"two due dates; {TODO_HINT}")
            try:
                due = parse_due(part[3:].lstrip(" :="))
            except ValueError as exc:
                raise TodoSyntaxError(f"{exc}; {TODO_HINT}") from None
        elif part.startswith("@"):
            if owner is not None:
                raise TodoSyntaxError(f"two owners; {TODO_HINT}")
            try:
                owner = clean_owner(part)
            except ValueError as exc:
                raise TodoSyntaxError(f"{exc}; {TODO_HINT}") from None
        else:
            raise TodoSyntaxError(f"cannot read {part!r}; {TODO_HINT}")
    return Todo(body, owner, due)


def due_end(due: date) -> datetime:
    """An item due on a day is overdue once that day is over (UTC)."""
    return datetime.combine(due + timedelta(days=1), time(0), tzinfo=UTC)


@dataclass
class ActionItem:
    """One item as the timeline has it now (folded by the projection)."""

    id: str  # "A1", "A2"... in the order they were recorded
    text: str
    owner: str | None
    due: date | None
    state: str = OPEN
    created_at: datetime | None = None
    created_by: str = ""
    closed_at: datetime | None = None
    closed_by: str | None = None
    seq: int = 0  # the event that created it
    tickets: dict[str, str] = field(default_factory=dict)  # tracker -> ticket URL

    @property
    def done(self) -> bool:
        return self.state == DONE

    def overdue(self, now: datetime) -> bool:
        return not self.done and self.due is not None and now >= due_end(self.due)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "owner": self.owner,
            "due": self.due.isoformat() if self.due else None,
            "state": self.state,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "created_by": self.created_by,
            "closed_at": self.closed_at.isoformat() if self.closed_at else None,
            "closed_by": self.closed_by,
            "tickets": dict(self.tickets),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ActionItem:
        def when(key: str) -> datetime | None:
            return datetime.fromisoformat(d[key]) if d.get(key) else None

        return cls(
            id=str(d["id"]),
            text=str(d.get("text", "")),
            owner=d.get("owner") or None,
            due=date.fromisoformat(d["due"]) if d.get("due") else None,
            state=str(d.get("state", OPEN)),
            created_at=when("created_at"),
            created_by=str(d.get("created_by", "")),
            closed_at=when("closed_at"),
            closed_by=d.get("closed_by"),
            tickets={str(k): str(v) for k, v in (d.get("tickets") or {}).items()},
        )

    def line(self) -> str:
        return describe(self.id, self.text, self.owner, self.due)


def describe(item_id: str, text: str, owner: str | None, due: date | None) -> str:
    """'A1: add an alert (@ann, due 2026-12-08)': how lists and the timeline name an item."""
    who = f"@{owner}" if owner else "no owner"
    when = f"due {due.isoformat()}" if due else "no due date"
    return f"{item_id}: {text} ({who}, {when})"
