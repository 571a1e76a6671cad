"""The summary file beside an incident (`<id>.summary`): a small document describing the
timeline, stamped with the size and mtime of the incident's files when it was written.

The store does not know what a summary says (warroom/summary.py does); it keeps it, and hands it
back only while the stamp still matches the files: any write it did not see (another process,
an older warroom, a crash between the append and the summary) makes it stale, and the reader
rebuilds it from the events. Written atomically (temp file, rename), not fsynced: it is a cache.
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


def write(directory: Path, incident_id: str, doc: dict[str, Any], at: Stamp) -> None:
    path = summary_path(directory, incident_id)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"stamp": at, "doc": doc}, separators=(",", ":")), "utf-8")
        os.replace(tmp, path)
    except OSError:  # a cache: a read-only data dir or a full disk must not stop the incident
        with contextlib.suppress(OSError):
            tmp.unlink()


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
