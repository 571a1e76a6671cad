"""The PostgreSQL schema, versioned: `warroom store migrate` applies what is missing, in order,
each version in its own transaction under an advisory lock (two hosts migrating at once apply
each version once). Opening a repository on an older or newer schema is one clear error.

Events keep their exact JSON (`body`), so the hash chain is verified over what was hashed;
`origin` is unique per append, which makes replaying a spool idempotent.
"""

from __future__ import annotations

from typing import Any

from psycopg.conninfo import conninfo_to_dict

from warroom.store.errors import StoreError

LOCK_CLASS = 0x5741  # advisory lock namespace (first key): 'WA'
MIGRATION_LOCK = 0  # second key while migrating; incidents use hashtext(id)

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "incidents, hash-chained events, side documents",
        """
        CREATE TABLE incidents (
            id text PRIMARY KEY,
            created_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE TABLE events (
            incident_id text NOT NULL REFERENCES incidents (id),
            seq integer NOT NULL CHECK (seq > 0),
            origin text NOT NULL UNIQUE,
            kind text NOT NULL,
            body text NOT NULL,
            PRIMARY KEY (incident_id, seq)
        );
        CREATE TABLE docs (
            incident_id text NOT NULL REFERENCES incidents (id),
            tbl text NOT NULL,
            key text NOT NULL,
            doc jsonb NOT NULL,
            PRIMARY KEY (incident_id, tbl, key)
        );
        """,
    ),
    (
        2,
        "incident summaries for warroom stats",
        """
        CREATE TABLE summaries (
            incident_id text PRIMARY KEY REFERENCES incidents (id),
            last_seq integer NOT NULL,
            doc jsonb NOT NULL
        );
        """,
    ),
]
LATEST = MIGRATIONS[-1][0]

_SCHEMA_TABLE = """
CREATE TABLE IF NOT EXISTS warroom_schema (
    version integer PRIMARY KEY,
    description text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


def describe(dsn: str) -> str:
    """Where a DSN points, without its password: "warroom@127.0.0.1:5432/warroom"."""
    try:
        parts = conninfo_to_dict(dsn)
    except Exception:  # psycopg.ProgrammingError for a malformed DSN
        return "PostgreSQL (unparsable DSN)"
    host = str(parts.get("host") or parts.get("hostaddr") or "localhost")
    where = f"{host}:{parts['port']}" if parts.get("port") else host
    user = f"{parts['user']}@" if parts.get("user") else ""
    return f"{user}{where}/{parts.get('dbname', '')}"


def version(conn: Any) -> int:
    """The schema version of the database (0: never migrated)."""
    row = conn.execute("SELECT to_regclass('warroom_schema') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    got = conn.execute("SELECT coalesce(max(version), 0) FROM warroom_schema").fetchone()
    return int(got[0]) if got else 0


def require_current(conn: Any, where: str) -> None:
    have = version(conn)
    if have < LATEST:
        raise StoreError(
            f"{where}: schema version {have}, this warroom needs {LATEST}: "
            "run `warroom store migrate`"
        )
    if have > LATEST:
        raise StoreError(
            f"{where}: schema version {have} is newer than this warroom ({LATEST}): upgrade it"
        )


def migrate(conn: Any) -> list[tuple[int, str]]:
    """Apply the missing versions (conn in autocommit mode); returns what was applied."""
    applied: list[tuple[int, str]] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_CLASS, MIGRATION_LOCK))
        conn.execute(_SCHEMA_TABLE)
    for number, description, sql in MIGRATIONS:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_CLASS, MIGRATION_LOCK))
            done = conn.execute("SELECT 1 FROM warroom_schema WHERE version = %s", (number,))
            if done.fetchone():
                continue
            conn.execute(sql)
            conn.execute(
                "INSERT INTO warroom_schema (version, description) VALUES (%s, %s)",
                (number, description),
            )
            applied.append((number, description))
    return applied
