"""Alertmanager silences and label matchers, as Alertmanager 0.25 keeps and checks them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warroom.drill.prom_params import iso

_FILTER = re.compile(
    r"""\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|[^,"}{]*?)\s*(?:,|$)"""
)


class BadMatcher(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class LabelMatcher:
    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    def matches(self, labels: dict[str, str]) -> bool:
        v = labels.get(self.name, "")
        hit = re.fullmatch(self.value, v) is not None if self.is_regex else v == self.value
        return hit == self.is_equal

    def to_api(self) -> dict[str, Any]:
        return {
            "isEqual": self.is_equal,
            "isRegex": self.is_regex,
            "name": self.name,
            "value": self.value,
        }


def parse_filter(text: str) -> list[LabelMatcher]:
    """`a="b"`, `{a=~"x.*", c!=d}`: Alertmanager's ParseMatchers; BadMatcher when invalid."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    out, pos = [], 0
    while pos < len(body):
        m = _FILTER.match(body, pos)
        if not m or m.end() == pos:
            raise BadMatcher(text)
        name, op, value = m.groups()
        if value.startswith('"'):
            try:
                value = bytes(value[1:-1], "utf-8").decode("unicode_escape")
            except UnicodeDecodeError:
                raise BadMatcher(text) from None
        regex = "~" in op
        if regex:
            try:
                re.compile(value)
            except re.error:
                raise BadMatcher(text) from None
        out.append(LabelMatcher(name, value, regex, op in ("=", "=~")))
        pos = m.end()
    if not out:
        raise BadMatcher(text)
    return out


@dataclass
class Silence:
    id: str
    matchers: list[LabelMatcher]
    starts_at: datetime
    ends_at: datetime
    updated_at: datetime
    created_by: str
    comment: str

    def state(self, now: datetime) -> str:
        if self.ends_at <= now:
            return "expired"
        if self.starts_at > now:
            return "pending"
        return "active"

    def silences(self, labels: dict[str, str], now: datetime) -> bool:
        return self.state(now) == "active" and all(m.matches(labels) for m in self.matchers)

    def to_api(self, now: datetime) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": {"state": self.state(now)},
            "updatedAt": iso(self.updated_at),
            "comment": self.comment,
            "createdBy": self.created_by,
            "endsAt": iso(self.ends_at),
            "matchers": [m.to_api() for m in self.matchers],
            "startsAt": iso(self.starts_at),
        }


class SilenceError(Exception):
    """An answer other than 200: (status, JSON body) as Alertmanager sends it."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(str(body))
        self.status, self.body = status, body


@dataclass
class Silences:
    now: Callable[[], datetime]
    items: dict[str, Silence] = field(default_factory=dict)

    def get(self, sid: str) -> Silence:
        _check_uuid(sid)
        found = self.items.get(sid)
        if found is None:
            raise SilenceError(404, None)
        return found

    def active_for(self, labels: dict[str, str]) -> list[str]:
        now = self.now()
        return sorted(s.id for s in self.items.values() if s.silences(labels, now))

    def listing(self, filters: list[LabelMatcher]) -> list[dict[str, Any]]:
        now = self.now()
        chosen = [s for s in self.items.values() if _filter_hits(s, filters)]
        order = {"active": 0, "pending": 1, "expired": 2}

        def sort_key(s: Silence) -> tuple[int, float]:
            st = s.state(now)
            if st == "active":
                return 0, s.ends_at.timestamp()
            if st == "pending":
                return 1, s.starts_at.timestamp()
            return order[st], -s.ends_at.timestamp()

        return [s.to_api(now) for s in sorted(chosen, key=sort_key)]

    def post(self, body: Any) -> str:
        """Create or update a silence from a PostableSilence; returns its id."""
        if not isinstance(body, dict):
            raise SilenceError(400, {"code": 400, "message": "parsing silence body failed"})
        for name in ("comment", "createdBy", "endsAt", "matchers", "startsAt"):
            if name not in body:
                raise SilenceError(422, {"code": 602, "message": f"{name} in body is required"})
        raw = body["matchers"]
        if not isinstance(raw, list) or not raw:
            msg = "matchers in body should have at least 1 items"
            raise SilenceError(422, {"code": 612, "message": msg})
        try:
            matchers = [
                LabelMatcher(
                    str(m["name"]),
                    str(m["value"]),
                    bool(m.get("isRegex", False)),
                    bool(m.get("isEqual", True)),
                )
                for m in raw
            ]
            starts = _parse_time(body["startsAt"])
            ends = _parse_time(body["endsAt"])
        except (KeyError, TypeError, ValueError) as e:
            raise SilenceError(400, {"code": 400, "message": f"parsing silence body: {e}"}) from e
        for m in matchers:
            if m.is_regex:
                try:
                    re.compile(m.value)
                except re.error:
                    raise SilenceError(400, f"invalid label matcher {m.name}: bad regex") from None
        now = self.now()
        if starts >= ends:
            raise SilenceError(400, "Failed to create silence: start time must be before end time")
        if ends < now:
            raise SilenceError(400, "Failed to create silence: end time can't be in the past")
        starts = max(starts, now)
        sid = body.get("id") or ""
        if sid:
            if sid not in self.items:
                raise SilenceError(404, "silence not found")
        else:
            sid = str(uuid.uuid4())
        self.items[sid] = Silence(
            sid, matchers, starts, ends, now, str(body["createdBy"]), str(body["comment"])
        )
        return sid

    def expire(self, sid: str) -> None:
        _check_uuid(sid)
        found = self.items.get(sid)
        if found is None:
            raise SilenceError(500, "silence not found")
        now = self.now()
        state = found.state(now)
        if state == "expired":
            return
        if state == "pending":
            found.starts_at = now
        found.ends_at = found.updated_at = now


def _check_uuid(sid: str) -> None:
    try:
        uuid.UUID(sid)
    except ValueError:
        msg = f'silenceID in path must be of type uuid: "{sid}"'
        raise SilenceError(422, {"code": 601, "message": msg}) from None


def _parse_time(value: Any) -> datetime:
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _filter_hits(s: Silence, filters: list[LabelMatcher]) -> bool:
    """A silence matches a filter when its equality matchers, as labels, satisfy it."""
    labels = {m.name: m.value for m in s.matchers if m.is_equal and not m.is_regex}
    return all(f.matches(labels) for f in filters)
