"""After the incident: `warroom review ID` (the post-mortem's empty sections, answered at the
prompt, and the review meeting), and `warroom action add|done|reopen|list|export`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

from warroom.action_items import ActionItem
from warroom.bootstrap import export_context, open_store, repository, settings_from
from warroom.cli.incident import opened_room
from warroom.errors import EXIT_FAIL, UsageError, WarroomError
from warroom.followup import (
    close_item,
    reopen_item,
    review_deadline,
    schedule_review,
    scheduled_review,
)
from warroom.model import Event, format_duration, utcnow
from warroom.report import build
from warroom.report.summaries import collect
from warroom.room import RoomError, WarRoom
from warroom.sanitize import one_line

# ----- action items -------------------------------------------------------------------------


def _opened(args: argparse.Namespace) -> AbstractContextManager[WarRoom]:
    """--incident, else the newest incident, open or resolved: items outlive the incident."""
    if not getattr(args, "incident", None):
        ids = repository(settings_from(args)).ids()
        args.incident = ids[-1] if ids else None
    return opened_room(args)


def action(args: argparse.Namespace) -> int:
    verbs: dict[str, Callable[[argparse.Namespace], int]] = {
        "add": _add,
        "done": lambda a: _change(a, close_item),
        "reopen": lambda a: _change(a, reopen_item),
        "list": _list,
        "export": _export,
    }
    return verbs[args.action_verb](args)


def _add(args: argparse.Namespace) -> int:
    with _opened(args) as room:
        ev = room.add_action_item(" ".join(args.text), args.owner, args.due)
        print(f"{room.incident_id} #{ev.seq} {one_line(ev.text)}")
    return 0


def _change(args: argparse.Namespace, use_case: Callable[[WarRoom, str], Event]) -> int:
    with _opened(args) as room:
        ev = use_case(room, args.item)
        print(f"{room.incident_id} #{ev.seq} {one_line(ev.text)}")
    return 0


def _item_line(incident: str, it: ActionItem, now: datetime) -> str:
    state = "OVERDUE" if it.overdue(now) else it.state
    tickets = "".join(f"  {t}: {u}" for t, u in it.tickets.items())
    return f"{incident}  {state:<7}  {one_line(it.line())}{one_line(tickets)}"


def _list(args: argparse.Namespace) -> int:
    now = utcnow()
    rows: list[tuple[bool, str]] = []  # (drill, line)
    skipped: list[tuple[str, str]] = []
    if args.all_incidents:
        found = collect(repository(settings_from(args)))
        skipped = found.skipped
        for doc in found.summaries:
            for d in doc.get("items") or ():
                rows.append((bool(doc.get("drill")), _item_row(doc["id"], d, args, now)))
    else:
        with _opened(args) as room:
            for it in room.state.action_items.values():
                rows.append(
                    (room.state.drill, _item_row(room.incident_id, it.to_dict(), args, now))
                )
    shown = [(drill, line) for drill, line in rows if line]
    for drill in (False, True):  # drills apart, after real incidents
        lines = [line for d, line in shown if d == drill]
        if lines:
            print("Drills:" if drill else "Incidents:")
            print("\n".join(f"  {line}" for line in lines))
    if not shown:
        print("no overdue action items" if args.overdue else "no action items")
    for incident_id, why in skipped:
        print(f"skipped {incident_id}: {why}", file=sys.stderr)
    return 0


def _item_row(incident: str, d: dict, args: argparse.Namespace, now: datetime) -> str:
    it = ActionItem.from_dict(d)
    if (it.done and not args.all and not args.overdue) or (args.overdue and not it.overdue(now)):
        return ""
    return _item_line(incident, it, now)


def _export(args: argparse.Namespace) -> int:
    from warroom.actions.tickets import TicketExporter

    settings = settings_from(args)
    tracker = settings.trackers.get(args.to)
    if tracker is None:
        raise UsageError(
            f"{settings.source}: no [tickets.{args.to}] section (see config/warroom.toml)"
        )
    try:
        token = settings.tracker_token(args.to)
    except ValueError as exc:  # SettingsError: file, line and key
        raise UsageError(str(exc)) from None
    with _opened(args) as room:
        if not room.state.action_items:
            print(f"{room.incident_id}: no action items to export")
            return 0
        results = TicketExporter(room, tracker, token).export(args.item)
    failed = 0
    for r in results:
        if r.ok:
            what = {"created": "created", "found": "already there (found)"}.get(r.how, "already")
            print(f"{r.item}: {what} {r.url}")
        else:
            failed += 1
            print(f"{r.item}: not exported to {r.tracker}: {one_line(str(r.error))}")
    if failed:
        print(f"{failed} item(s) not exported; run the same command again to retry")
        return EXIT_FAIL
    return 0


# ----- review -------------------------------------------------------------------------------


def _ask(prompt: str) -> str | None:
    """One line from stdin; None at end of input."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    line = sys.stdin.readline()
    return None if line == "" else line.strip()


def review(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with open_store(settings, args.incident) as store:
        room = WarRoom(store, settings)
        context = export_context(settings, store)
        context.pop("scrub")  # a last pass over the written export, not part of the build
        pm = build(room.events, **context)
        todo = pm.unfilled()
        st = room.state
        total = len(pm.parts())
        print(f"Post-mortem review of {st.incident_id}: {one_line(st.title)}")
        print(
            f"{total - len(todo)} of {total} parts are filled; {len(todo)} need what only "
            "people know. One answer a line; an empty line goes on to the next part."
        )
        answers = _walk(room, todo)
        if answers is not None:
            _items(room)
        _schedule(room, args)
    print(f"Recorded. `warroom export {args.incident}` writes the post-mortem.")
    return 0


def _walk(room: WarRoom, todo: list) -> int | None:
    """Ask each unfilled part; returns answers recorded, None once input ended."""
    count = 0
    for section, part in todo:
        print(f"\n{section.title}: {part.title} ({part.prefix})")
        while True:
            line = _ask("> ")
            if line is None:
                return None
            if not line:
                break
            room.add_note(f"{part.prefix} {line}")
            count += 1
    return count


def _items(room: WarRoom) -> None:
    open_items = [i for i in room.state.action_items.values() if not i.done]
    print(
        f"\nAction items ({len(open_items)} open). Add more as TODO(@owner, due YYYY-MM-DD): text"
    )
    while line := _ask("> "):
        if not line.lower().startswith(("todo", "action")):
            line = f"TODO{'' if line.startswith('(') else ': '}{line}"
        ev = room.add_note(line)
        if ev.data.get("hint"):
            print(f"  kept as a plain note: {one_line(str(ev.data['hint']))}")
        else:
            print(f"  {one_line(ev.text)}")


def _schedule(room: WarRoom, args: argparse.Namespace) -> None:
    now = utcnow()
    already = scheduled_review(room)
    if already is not None:
        print(f"\nReview meeting: scheduled for {already:%Y-%m-%d %H:%M} UTC")
        return
    if args.no_schedule:
        return
    deadline, window = review_deadline(room, now)
    sev = room.state.severity.value
    proposal = max(deadline.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1), now)
    print(
        f"\nReview meeting: {sev} reviews are held within {format_duration(window)} of "
        f"resolution, by {deadline:%Y-%m-%d %H:%M} UTC."
    )
    answer = args.schedule
    while True:
        if answer is None:
            answer = _ask(
                f"When (YYYY-MM-DD HH:MM UTC; Enter for {proposal:%Y-%m-%d %H:%M}, n to skip)? "
            )
            if answer is None or answer.lower() in ("n", "no"):
                return
        try:
            at = _when(answer) if answer else proposal
            for ev in schedule_review(room, at, now):
                print(f"  {one_line(ev.text)}")
            return
        except (ValueError, RoomError) as exc:
            if args.schedule is not None:
                raise WarroomError(str(exc)) from None
            print(f"  {exc}")
            answer = None


def _when(text: str) -> datetime:
    try:
        t = datetime.fromisoformat(text.strip().replace(" UTC", ""))
    except ValueError:
        raise ValueError(f"not a time: {text!r} (use YYYY-MM-DD HH:MM, UTC)") from None
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)
