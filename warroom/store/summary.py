"""The summary file beside an incident (`<id>.summary`): a small document describing the
timeline, stamped with the size and mtime of the incident's files when it was written.

The store does not know what a summary says (warroom/summary.py does); it keeps it, and hands it
back only while the stamp still matches the files: any write it did not see (another process,
an older warroom, a crash between the append and the summary) makes it stale, and the reader
rebuilds it from the events. Not fsynced: it is a cache. The room rewrites it with every event
through an open descriptor (`SummaryFile`: pwrite, then truncate; a few microseconds, where
creating a file costs a millisecond here); a reader that meets a half-written one cannot parse
it and rebuilds. Never renamed: every writer keeps writing the one file.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

Stamp = list[list[int] | None]


def summary_path(directory: Path, incident_id: str) -> Path:
    return directory / f"{incident_id}.summary"


def stamp(directory: Path, incident_id: str) -> Stamp:
    """(size, mtime_ns) of the snapshot and of the journal; None for a file that is absent."""
    out: Stamp = []
    for ext in (".json", ".journal"):
        try:
            st = os.stat(directory / f"{incident_id}{ext}")
        except FileNotFoundError:
            out.append(None)
        else:
            out.append([st.st_size, st.st_mtime_ns])
    return out


def _put(fd: int, doc: dict[str, Any], at: Stamp) -> None:
    data = json.dumps({"stamp": at, "doc": doc}, separators=(",", ":")).encode("utf-8")
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))


def _open(directory: Path, incident_id: str) -> int:
    return os.open(summary_path(directory, incident_id), os.O_RDWR | os.O_CREAT, 0o600)


def write(directory: Path, incident_id: str, doc: dict[str, Any], at: Stamp) -> None:
    """In place, like SummaryFile: the file stays the one inode every writer has open."""
    try:
        fd = _open(directory, incident_id)
    except OSError:  # a cache: a read-only data dir must not stop anything
        return
    try:
        _put(fd, doc, at)
    except OSError:
        pass
    finally:
        os.close(fd)


class SummaryFile:
    """The summary of one open store, rewritten in place."""

    def __init__(self, directory: Path, incident_id: str) -> None:
        self.directory, self.incident_id = directory, incident_id
        self._fd: int | None = None

    def put(self, doc: dict[str, Any]) -> None:
        try:
            if self._fd is None:
                self._fd = _open(self.directory, self.incident_id)
            _put(self._fd, doc, stamp(self.directory, self.incident_id))
        except OSError:  # a cache: a full disk must not stop the incident
            self.close()

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


def read(directory: Path, incident_id: str) -> tuple[dict[str, Any] | None, Stamp | None]:
    """(doc, stamp) as stored; (None, None) if absent or unreadable."""
    try:
        raw = json.loads(summary_path(directory, incident_id).read_text("utf-8"))
    except (OSError, ValueError):
        return None, None
    if not isinstance(raw, dict) or not isinstance(raw.get("doc"), dict):
        return None, None
    return raw["doc"], raw.get("stamp")


def fresh(directory: Path, incident_id: str) -> dict[str, Any] | None:
    """The stored summary if it still describes the files as they are now."""
    doc, at = read(directory, incident_id)
    if doc is None or at != stamp(directory, incident_id):
        return None
    return doc


def restamp(directory: Path, incident_id: str, was_fresh: bool) -> None:
    """After a write that changed the files but not the events (a side document, a
    compaction): a summary that was fresh before stays fresh."""
    if not was_fresh:
        return
    doc, _ = read(directory, incident_id)
    if doc is not None:
        write(directory, incident_id, doc, stamp(directory, incident_id))
