"""Verbs about the store itself: `store migrate` (the PostgreSQL schema), `store copy` (an
incident to the other backend, chain intact, verified on arrival) and `stats` (over every
incident of the configured store, either backend)."""

from __future__ import annotations

import argparse

from warroom.bootstrap import repository, settings_from
from warroom.errors import UsageError, WarroomError
from warroom.sanitize import one_line
from warroom.settings import Settings
from warroom.store import StoreError

OUTBOX = "outbox"  # the side tables an incident has (copied with it)


def store(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if args.store_verb == "migrate":
        return migrate(settings)
    return copy(settings, args.incident, args.to)


def migrate(settings: Settings) -> int:
    dsn = settings.store.dsn
    if not dsn:
        raise UsageError("no PostgreSQL DSN: set $WARROOM_PG_DSN or store.dsn_file")
    import psycopg

    from warroom.store.pg_repository import connect
    from warroom.store.pg_schema import LATEST, describe
    from warroom.store.pg_schema import migrate as run

    try:
        with connect(dsn) as conn:
            applied = run(conn)
    except psycopg.Error as exc:
        where = describe(dsn)
        raise WarroomError(f"PostgreSQL at {where}: {one_line(str(exc))}") from None
    for number, what in applied:
        print(f"applied schema version {number}: {what}")
    print(f"{describe(dsn)}: schema at version {LATEST}" + ("" if applied else " (up to date)"))
    return 0


def copy(settings: Settings, incident_id: str, to: str) -> int:
    source_backend = "tinydb" if to == "postgres" else "postgres"
    source, target = repository(settings, source_backend), repository(settings, to)
    try:
        with source.open(incident_id, read_only=True) as src:
            report = src.verify()
            if not report.ok:
                raise WarroomError(
                    f"{incident_id} in {source_backend}: chain broken, not copied: {report.problem}"
                )
            events = src.events()
            docs = {OUTBOX: src.docs(OUTBOX)}
        try:
            arrived = target.restore(incident_id, events, docs)
        except FileExistsError:
            raise WarroomError(f"{incident_id} already exists in {to}: nothing copied") from None
        with arrived:
            check = arrived.verify()
            head = arrived.last()
    except StoreError as exc:
        raise WarroomError(str(exc)) from None
    if not check.ok or check.checked != len(events) or (events and head != events[-1]):
        raise WarroomError(
            f"{incident_id} in {to}: verification after the copy failed: "
            f"{check.problem or 'events differ'}"
        )
    tip = f", head {head.hash[:12]}" if head else ""
    print(f"{incident_id}: {len(events)} events copied to {to}, chain verified{tip}")
    return 0
