"""Files only their owner reads: the data dir 0700, warroom.log, exports and bundles 0600.

An incident's record holds what responders typed and what services leaked, so nothing warroom
writes may be group- or world-readable, whatever the umask. A folder or file made by an older
warroom (0755, 0644) is tightened in place, and that is said once per path (a warning: on stderr
from the CLI, in warroom.log from the console), so the owner knows their old files were readable.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

__all__ = ["DIR_MODE", "FILE_MODE", "private_dir", "private_file", "write_private"]

DIR_MODE = 0o700
FILE_MODE = 0o600

log = logging.getLogger("warroom")
_told: set[Path] = set()


def _tighten(path: Path, mode: int) -> None:
    """chmod `path` to `mode` if it grants more than `mode`; say so once."""
    try:
        have = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return  # not ours to fix (gone, or unreadable): the open that follows says why
    if have & ~mode == 0:
        return
    try:
        os.chmod(path, have & mode)
    except OSError as exc:  # owned by someone else: warn, do not stop the incident
        msg = f"{path} is {have:04o} and cannot be tightened to {mode:04o}: {exc.strerror}"
    else:
        msg = f"tightened {path} from {have:04o} to {have & mode:04o} (it holds incident records)"
    if path not in _told:  # a warning: the CLI prints it on stderr, the console logs it
        _told.add(path)
        log.warning("%s", msg)


def private_dir(path: Path) -> Path:
    """`path` as a folder only its owner can enter: missing levels made 0700, the folder
    itself tightened if it exists with a looser mode."""
    if path.is_dir():
        _tighten(path, DIR_MODE)
    else:
        _make(path)
    return path


def _make(path: Path) -> None:
    """Missing levels made 0700 (mkdir(parents=True) would make them 0777 & ~umask); folders
    that exist are left as they are (/tmp, the user's own)."""
    if path.is_dir():
        return
    _make(path.parent)
    path.mkdir(mode=DIR_MODE, exist_ok=True)
    os.chmod(path, DIR_MODE)  # exact, whatever the umask


def private_file(path: Path) -> Path:
    """`path` (a file that may exist) created 0600 if missing, tightened if looser."""
    _make(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
    os.close(fd)
    _tighten(path, FILE_MODE)
    return path


def write_private(path: Path, text: str) -> Path:
    """Replace `path` atomically with `text`, 0600 (the new file takes the temp file's mode);
    missing folders made 0700, existing ones untouched."""
    _make(path.parent)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # a temp file left by a crash may have had another mode
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            fd = -1
            f.write(text)
    finally:
        if fd != -1:
            os.close(fd)
    tmp.replace(path)
    return path
