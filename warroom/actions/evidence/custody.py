"""Custody of evidence bundles: each transfer between people, and each copy off the host, is a
CUSTODY event on the timeline (and the signed checkpoint after it vouches for it).

A bundle is handed over or copied only while it still matches the sha256 its EVIDENCE event
recorded. A copy goes to a path (mounted storage: written beside as `.part`, fsynced, read
back and hashed, then renamed) or to `[user@]host:DIR` with scp, hashed there with sha256sum
over ssh. A copy that cannot be made or does not match loses nothing: the bundle stays where it
was, a partial copy is removed (locally), and nothing is recorded.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warroom.actions.evidence.bundle import fsync_dir, sha256_file
from warroom.model import Event, Kind
from warroom.room import WarRoom

_REMOTE = re.compile(r"(?:[^@/:\s]+@)?[^@/:\s]+:")  # scp's host:path (user@ allowed)
SSH_TIMEOUT = 300.0


class CustodyError(Exception):
    """Refused or failed; str() is one line that says what happened to the bundle."""


@dataclass(frozen=True)
class Bundle:
    name: str
    path: Path
    sha256: str  # as the timeline recorded it
    event: Event


def find_bundle(room: WarRoom, given: str) -> Bundle:
    """A bundle on the incident's timeline, by name or path, still matching its hash."""
    name = Path(given).name
    recorded = [e for e in room.events if e.kind == Kind.EVIDENCE and e.data.get("bundle") == name]
    if not recorded:
        raise CustodyError(
            f"{name}: no such bundle on {room.incident_id}'s timeline "
            f"(`warroom evidence {room.incident_id}` lists them)"
        )
    ev = recorded[-1]
    path = Path(given) if Path(given).is_file() else room.store.evidence_dir / name
    if not path.is_file():
        raise CustodyError(f"{name}: the bundle file is missing ({path})")
    sha = str(ev.data.get("sha256", ""))
    if sha256_file(path) != sha:
        raise CustodyError(f"{path} differs from the sha256 on the timeline: nothing was recorded")
    return Bundle(name, path, sha, ev)


def handoff(room: WarRoom, given: str, to: str) -> Event:
    """`to` takes the bundle from the room's actor."""
    to = " ".join(to.split())
    if not to:
        raise CustodyError("--to: who receives the bundle?")
    b = find_bundle(room, given)
    text = f"Evidence {b.name} handed from {room.actor} to {to} (sha256 {b.sha256[:12]}…)"
    data = _data(b, "handoff", to=to)
    data["from"] = room.actor
    return room.record(Kind.CUSTODY, text, data)


def copy_bundle(room: WarRoom, given: str, dest: str, ssh_config: Path | None = None) -> Event:
    """Copy the bundle to a directory (or file path), or to `[user@]host:DIR` with scp, and
    record the copy once its sha256 is checked where it landed."""
    b = find_bundle(room, given)
    if _REMOTE.match(dest) and not Path(dest).exists():
        where, copied = _copy_remote(b, dest, ssh_config)
    else:
        where, copied = _copy_local(b, Path(dest).expanduser())
    text = f"Evidence {b.name} copied to {where} by {room.actor}, sha256 checked there"
    return room.record(Kind.CUSTODY, text, _data(b, "copy", to=where, sha256_there=copied))


def _data(b: Bundle, op: str, **extra: Any) -> dict[str, Any]:
    return {"op": op, "bundle": b.name, "sha256": b.sha256, "evidence_seq": b.event.seq, **extra}


def _copy_local(b: Bundle, dest: Path) -> tuple[str, str]:
    target = dest / b.name if dest.is_dir() else dest
    if not target.parent.is_dir():
        raise CustodyError(f"cannot copy to {dest}: no such directory; {b.name} stays at {b.path}")
    if target.exists():
        there = sha256_file(target)
        if there != b.sha256:
            raise CustodyError(f"{target} exists and differs from {b.name}: not overwritten")
        return str(target), there  # already there, and intact: the copy is recorded again
    part = target.with_name(target.name + ".part")
    try:
        fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out, b.path.open("rb") as src:
            for chunk in iter(lambda: src.read(1024 * 1024), b""):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        there = sha256_file(part)  # as stored there, read back
        if there != b.sha256:
            raise CustodyError(f"the copy at {part} does not match (sha256 {there[:12]}…)")
        os.replace(part, target)
        fsync_dir(target.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            part.unlink()
        why = exc.strerror or str(exc)
        raise CustodyError(f"cannot copy to {dest}: {why}; {b.name} stays at {b.path}") from None
    except CustodyError:
        with contextlib.suppress(OSError):
            part.unlink()
        raise
    return str(target), there


def _copy_remote(b: Bundle, dest: str, ssh_config: Path | None) -> tuple[str, str]:
    host, _, folder = dest.partition(":")
    remote = f"{folder.rstrip('/') or '.'}/{b.name}"
    opts = ["-o", "BatchMode=yes"] + (["-F", str(ssh_config)] if ssh_config else [])
    _run(["scp", "-q", "-p", *opts, str(b.path), f"{host}:{remote}"], f"scp to {dest}", b)
    out = _run(["ssh", *opts, host, "sha256sum", "--", shlex.quote(remote)], "sha256sum", b)
    there = out.split()[0] if out.split() else ""
    where = f"{host}:{remote}"
    if there != b.sha256:
        raise CustodyError(
            f"the copy at {where} does not match (sha256 {there[:12] or '?'}…): not recorded; "
            f"{b.name} stays at {b.path}"
        )
    return where, there


def _run(args: list[str], what: str, b: Bundle) -> str:
    try:
        done = subprocess.run(
            args,
            capture_output=True,
            text=True,
            timeout=SSH_TIMEOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # never a password prompt: BatchMode, no terminal
            check=False,
        )
    except FileNotFoundError:
        raise CustodyError(f"{args[0]} not found: install openssh-client") from None
    except subprocess.TimeoutExpired:
        raise CustodyError(
            f"{what} took over {SSH_TIMEOUT:g}s; {b.name} stays at {b.path}"
        ) from None
    if done.returncode != 0:
        lines = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
        why = lines[-1][:200] if lines else f"exit status {done.returncode}"
        raise CustodyError(f"{what} failed: {why}; {b.name} stays at {b.path}")
    return done.stdout
