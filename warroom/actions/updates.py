"""Status updates: prefill the right template from the timeline, record it, queue delivery.

The update is written to the timeline first (a Kind.UPDATE event resets the cadence clock),
then one outbox entry per destination is created in the store, then delivery is attempted:
an update can fail to arrive, but it can never be lost.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from warroom.actions.notify import update_data
from warroom.actions.outbox import Outbox
from warroom.actions.redact import scrub
from warroom.actions.situation import (
    Situation,
    doing_lines,
    from_timeline,
    impact_lines,
    roles_line,
)
from warroom.destinations import TACTICAL
from warroom.model import Event, Kind, Role, format_duration
from warroom.room import RoomError, WarRoom
from warroom.templates import TemplateContext, choose_template, render
from warroom.trust.anchors import head_of

# What counts as "action taken" when summarising the time since the last update.
_ACTION_KINDS = {Kind.ACTION, Kind.STATUS, Kind.SEVERITY, Kind.ESCALATED, Kind.EVIDENCE}


def actions_since_last_update(room: WarRoom, audience: str = TACTICAL) -> list[str]:
    events = room.events
    last = max((e.seq for e in events if e.kind == Kind.UPDATE and _to(e) == audience), default=0)
    out = []
    for e in events:
        if e.seq > last and (e.kind in _ACTION_KINDS or e.data.get("section") == "resolution"):
            out.append(f"{e.time.strftime('%H:%M')} {room.state.text_of(e)}")
    return out[-12:]


def _to(ev: Event) -> str:
    return str(ev.data.get("audience") or TACTICAL)


def cadence(room: WarRoom, audience: str = TACTICAL) -> timedelta | None:
    """How often `audience` hears at the current severity (None: no cadence)."""
    aud = room.settings.paging.audience(audience)
    every = room.policy.update_every
    return aud.cadence(room.state.severity, every) if aud else every


def context(
    room: WarRoom,
    now: datetime,
    situation: Situation | None = None,
    audience: str = TACTICAL,
) -> TemplateContext:
    """What the templates may show, for `audience`. `situation`: the console's live view of
    checks, alerts and pods; without it, the timeline's."""
    st = room.state
    policy = room.policy
    sections = st.sections
    every = cadence(room, audience)
    next_at = now + every if not st.resolved and every else None
    sent = st.audience_count.get(audience, 0)
    sit = situation if situation is not None else from_timeline(room.events, st)
    impact = impact_lines(sit, sections.get("impact", []))
    return TemplateContext(
        incident_id=room.incident_id,
        title=st.title,
        severity=st.severity.value,
        status=st.status.value,
        severity_name=policy.name,
        declared_at=st.declared_at,
        detected_at=st.detected_at,
        impact="\n".join(f"- {line}" for line in impact) if len(impact) > 1 else "".join(impact),
        update_number=sent + 1,
        actions_since_last_update=actions_since_last_update(room, audience),
        # The first notification says what is being done; later updates list the actions
        # since the last one apart, and their next steps are the `Next:` notes.
        next_steps=(
            doing_lines(room.events, st)
            if sent == 0 and not st.resolved
            else sections.get("next", [])
        ),
        next_update_at=next_at,
        resolved_at=st.resolved_at,
        duration=(st.resolved_at or now) - st.declared_at if st.declared_at else None,
        root_cause="; ".join(sections.get("root_cause", [])),
        resolution="; ".join(sections.get("resolution", [])) or _resolved_summary(room),
        prevention=sections.get("prevention", []) or "",
        commander=st.roles.get(Role.COMMANDER) or f"not assigned (declared by {st.declared_by})",
        responders=roles_line(st),
        is_drill=st.drill,
        expected_resolution=(
            (st.declared_at + policy.resolve_within).strftime("%Y-%m-%d %H:%M UTC")
            if st.declared_at and not st.resolved
            else ""
        ),
        written_at=now,
    )


def _resolved_summary(room: WarRoom) -> str:
    ev = next((e for e in reversed(room.events) if e.kind == Kind.RESOLVED), None)
    return str(ev.data.get("summary", "")) if ev else ""


def _known(room: WarRoom, audience: str) -> None:
    if room.settings.paging.audience(audience) is None:
        raise RoomError(f"no audience {audience!r} in the settings ([audiences])")


def compose(
    room: WarRoom,
    now: datetime,
    templates_dir: Any = None,
    situation: Situation | None = None,
    audience: str = TACTICAL,
) -> tuple[str, str]:
    """(template kind, prefilled text) for the incident's current state and `audience`."""
    _known(room, audience)
    st = room.state
    sent = st.audience_count.get(audience, 0) > 0
    kind = choose_template(first_update_sent=sent, resolved=st.resolved)
    ctx = context(room, now, situation, audience)
    # The prefill quotes alert summaries and notes: what a responder sends starts redacted.
    return kind, scrub(render(kind, ctx, templates_dir=templates_dir, audience=audience))


def post(
    room: WarRoom,
    text: str,
    kind: str,
    now: datetime,
    outbox: Outbox | None,
    audience: str = TACTICAL,
) -> Event:
    """Record the update on the timeline and queue it for the audience's destinations,
    redacted: a secret typed or pasted into the composer is not sent (nor kept in its event)."""
    text = scrub(text.strip())
    if not text:
        raise RoomError("an empty update says nothing")
    _known(room, audience)
    ctx = context(room, now, audience=audience)
    data = update_data(ctx, kind)
    data["title"] = scrub(str(data["title"]))  # the title travels in every payload
    label = {"notification": "Notification", "resolution": "Resolution notice"}.get(
        kind, f"Status update #{ctx.update_number}"
    )
    data["label"] = label if audience == TACTICAL else f"{label} ({audience})"
    data["audience"] = audience
    data["to"] = [d.name for d in outbox.hearing(audience)] if outbox is not None else []
    room.refresh()
    data["anchor"] = head_of(room.events)  # the record as it stood when this was sent
    # The event's text is the update itself: the outbox sends exactly what the timeline holds.
    ev = room.record(Kind.UPDATE, text, data)
    if outbox is not None:
        outbox.enqueue(ev)
    return ev


def describe_next(room: WarRoom, now: datetime) -> str:
    due = room.state.next_update_due(room.policy.update_every)
    if due is None:
        return "no further updates due"
    left = due - now
    return f"next update due {due.strftime('%H:%M')} ({format_duration(left)})"
