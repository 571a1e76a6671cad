"""Verbs that change an incident: declare, note, ack, status, severity, role, resolve, update;
and `list`. Each opens the incident through bootstrap and runs one WarRoom use case."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from warroom.bootstrap import open_room, repository, settings_from
from warroom.errors import UsageError, WarroomError
from warroom.model import Event, format_duration, parse_ts, utcnow
from warroom.projection import project
from warroom.room import WarRoom
from warroom.sanitize import one_line


def _joined(args: argparse.Namespace, name: str) -> str:
    return " ".join(getattr(args, name) or [])


@contextmanager
def opened_room(args: argparse.Namespace) -> Iterator[WarRoom]:
    """The incident the verb acts on (--incident, else the newest open one), closed after."""
    settings = settings_from(args)
    room = open_room(settings, getattr(args, "incident", None))
    if room is None:
        raise WarroomError(
            "no open incident: declare one with `warroom declare` or name --incident"
        )
    try:
        yield room
    finally:
        room.store.close()


def with_room(
    args: argparse.Namespace, use_case: Callable[[WarRoom], Event], *, page: bool = False
) -> int:
    with opened_room(args) as room:
        ev = use_case(room)
        print(f"{room.incident_id} #{ev.seq} {one_line(ev.text)}")
        if page:
            send_pages(room)
    return 0


def declare(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    started = None
    if args.started:
        try:
            started = parse_ts(args.started)
        except ValueError:
            raise UsageError(f"--started: not an ISO 8601 time: {args.started!r}") from None
        if started > utcnow():
            raise UsageError(f"--started: {args.started} is in the future")
    room = WarRoom.declare(
        repository(settings),
        settings,
        title=args.title,
        severity=args.severity,
        category=args.category,
        started_at=started,
    )
    print(room.incident_id)
    room.store.close()
    return 0


def note(args: argparse.Namespace) -> int:
    def add(room: WarRoom) -> Event:
        ev = room.add_note(_joined(args, "text"))
        if ev.data.get("hint"):  # a TODO( that does not read: kept as a plain note
            print(
                f"hint: kept as a plain note, not an action item: {ev.data['hint']}",
                file=sys.stderr,
            )
        return ev

    return with_room(args, add)


def ack(args: argparse.Namespace) -> int:
    return with_room(args, lambda r: r.acknowledge(), page=True)


def status(args: argparse.Namespace) -> int:
    return with_room(args, lambda r: r.change_status(args.status, _joined(args, "note")))


def severity(args: argparse.Namespace) -> int:
    return with_room(args, lambda r: r.change_severity(args.severity, _joined(args, "reason"))[0])


def role(args: argparse.Namespace) -> int:
    return with_room(args, lambda r: r.assign_role(args.role, _joined(args, "name")))


def resolve(args: argparse.Namespace) -> int:
    fp = bool(getattr(args, "false_positive", False))
    return with_room(
        args, lambda r: r.resolve(_joined(args, "summary"), false_positive=fp), page=True
    )


def escalate(args: argparse.Namespace) -> int:
    from warroom.escalation import escalate_to_level

    def up(room: WarRoom) -> Event:
        if args.to:
            return room.escalate(args.to)
        d = room.settings.paging
        if d.empty:
            raise UsageError("no contacts configured ([contacts], [teams]): use --to NAME")
        level = args.level.upper() if args.level else None
        if level is None:
            nxt = d.next_level(room.state.level)
            if nxt is None:
                raise WarroomError(f"already at the highest level ({room.state.level})")
            level = nxt.id
        return escalate_to_level(room, level)

    return with_room(args, up, page=True)


def send_pages(room: WarRoom) -> None:
    """The pages (and acknowledgements) the timeline asks for, sent once now; what does not
    arrive waits in the outbox for the console (or the next verb)."""
    from warroom.actions.paging import Pager, outbox_for

    outbox = outbox_for(room, actor=room.settings.actor)
    if outbox is None or not Pager(room, outbox).sync():
        return
    for r in asyncio.run(outbox.deliver_due()):
        state = "delivered" if r.ok else f"queued ({one_line(r.error or '')})"
        print(f"  {r.destination}: {state}")


def update(args: argparse.Namespace) -> int:
    from warroom.actions.paging import outbox_for
    from warroom.actions.updates import compose, post

    settings = settings_from(args)
    if args.id and args.incident and args.id != args.incident:
        raise UsageError(f"two incidents named: {args.id} and --incident {args.incident}")
    args.incident = args.incident or args.id
    text = sys.stdin.read() if args.text == "-" else args.text
    audience = args.audience
    with opened_room(args) as room:
        kind, draft = compose(room, utcnow(), settings.templates_dir, audience=audience)
        if args.draft:
            print(draft)
            return 0
        outbox = outbox_for(room, actor=settings.actor)
        if text is None:
            from warroom.cli.editor import edit_text

            hearing = outbox.hearing(audience) if outbox is not None else []
            dests = ", ".join(d.name for d in hearing) or "no destinations set"
            text = edit_text(
                draft,
                [
                    f"{kind} for {room.incident_id} ({audience}), to: {dests}",
                    "Lines starting with '#' are dropped. Save and quit to send;",
                    "an empty text or a non-zero editor exit sends nothing.",
                ],
            )
            if text is None:
                print("nothing sent: the update was empty or the editor was aborted")
                return 1
        ev = post(room, text, kind, utcnow(), outbox, audience)
        print(f"{room.incident_id} #{ev.seq} {kind} recorded")
        if outbox is None:
            print("no destinations configured ([[notify.destinations]]): recorded only")
            return 0
        for r in asyncio.run(outbox.deliver_due()):
            state = "delivered" if r.ok else f"queued ({r.error})"
            print(f"  {r.destination}: {state}")
        left = outbox.undelivered_count()
        if left:
            print(f"{left} update(s) undelivered: the console or the next `warroom update` retries")
    return 0


def list_incidents(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    repo = repository(settings)
    rows = []
    for incident_id in repo.ids():
        try:
            with repo.open(incident_id, read_only=True) as store:
                st = project(store.events())
        except Exception as exc:  # one unreadable file must not hide the others
            rows.append((incident_id, "?", "unreadable", "-", f"({one_line(str(exc))})"))
            continue
        if args.open and st.resolved:
            continue
        end = st.resolved_at or utcnow()
        age = format_duration(end - st.declared_at) if st.declared_at else "-"
        title = ("[DRILL] " if st.drill else "") + one_line(st.title)
        rows.append((incident_id, st.severity.value, st.status.value, age, title))
    if not rows:
        which = "open incidents" if args.open else "incidents"
        print(f"no {which} in {settings.incidents_dir}")
        return 0
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    return 0
