"""The bundle on disk: a folder of 0600 files hashed while written, then one sealed archive.

Dirs are 0700 and files 0600 whatever the umask; every file gets a manifest entry (sha256,
size, source, time, redactions). `archive` writes `<folder>.tar.gz.part` (manifest first,
fsynced) for the caller to rename into place.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import os
import re
import socket
import tarfile
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from warroom.actions.redact import Redactor, redact, redact_json
from warroom.model import format_ts, utcnow
from warroom.sources.kube_api import KubeError
from warroom.store.private import private_dir

FORMAT = "warroom.evidence/v1"
MANIFEST = "manifest.json"
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    return _SAFE.sub("_", name).strip("._") or "_"


def mkdir_private(path: Path) -> None:
    """Every missing level 0700; the folder itself tightened if an older warroom left it looser."""
    private_dir(path)


class FileWriter:
    """One file of the bundle, 0600, hashed while written."""

    def __init__(self, path: Path) -> None:
        mkdir_private(path.parent)
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.fchmod(self.fd, 0o600)
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        if data:
            self.sha.update(data)
            self.size += len(data)
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Bundle:
    def __init__(self, folder: Path, extra: Sequence[str]) -> None:
        self.folder = folder
        self.extra = list(extra)
        self.files: list[dict[str, Any]] = []
        self.failures: list[dict[str, str]] = []
        self.skipped: list[str] = []

    def redactor(self) -> Redactor:
        return Redactor(self.extra)

    def fail(self, what: str, error: BaseException | str) -> None:
        msg = error if isinstance(error, str) else describe_error(error)
        self.failures.append({"what": what, "error": redact(msg, self.extra)[0][:500]})

    def entry(self, rel: str, w: FileWriter, source: str, red: Redactor, **meta: Any) -> None:
        e: dict[str, Any] = {
            "path": rel,
            "sha256": w.sha.hexdigest(),
            "size": w.size,
            "source": redact(source, self.extra)[0],
            "collected_at": format_ts(utcnow()),
            "redactions": red.total,
        }
        if red.total:
            e["redactions_by_rule"] = dict(sorted(red.counts.items()))
        e.update(meta)
        self.files.append(e)

    def add_json(self, rel: str, obj: Any, source: str, **meta: Any) -> None:
        red = self.redactor()
        text, _ = redact_json(obj, red)
        w = FileWriter(self.folder / rel)
        try:
            w.write(text.encode("utf-8", "surrogateescape"))
        finally:
            w.close()
        self.entry(rel, w, source, red, **meta)


def describe_error(e: BaseException) -> str:
    import aiohttp

    if isinstance(e, KubeError):
        return f"HTTP {e.status} {e.reason}: {e.message}".rstrip(": ")
    if isinstance(e, TimeoutError):
        return "timed out"
    if isinstance(e, aiohttp.ClientError):
        return f"cannot reach the API server: {type(e).__name__}: {e}"
    status = getattr(e, "status", None)  # ApiException from the client or its config loader
    if status is not None:
        return f"HTTP {status} {getattr(e, 'reason', '')}".strip()
    return f"{type(e).__name__}: {e}"


def _member(ti: tarfile.TarInfo) -> tarfile.TarInfo:
    ti.mode = 0o700 if ti.isdir() else 0o600
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    return ti


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1024 * 1024), b""):
            h.update(chunk)
    return h.hexdigest()


def archive(folder: Path, part: Path, abort: threading.Event) -> tuple[str, int]:
    """Tar+gzip the folder to `part` (0600, fsynced), the manifest first. Runs in a thread,
    which a cancel cannot stop: `abort` is checked between files and `part` removed."""
    if abort.is_set():
        raise Aborted
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as raw:
            with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                tar.add(folder, arcname=folder.name, recursive=False, filter=_member)
                tar.add(folder / MANIFEST, arcname=f"{folder.name}/{MANIFEST}", filter=_member)
                for path in sorted(folder.rglob("*")):
                    if abort.is_set():
                        raise Aborted
                    if path.name == MANIFEST and path.parent == folder:
                        continue
                    arc = f"{folder.name}/{path.relative_to(folder).as_posix()}"
                    tar.add(path, arcname=arc, recursive=False, filter=_member)
            raw.flush()
            os.fsync(raw.fileno())
        return sha256_file(part), part.stat().st_size
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        raise


class Aborted(Exception):
    pass


def new_folder(evidence_dir: Path, incident_id: str, at: datetime, pod: str | None) -> Path:
    base = f"{incident_id}-{at:%Y%m%dT%H%M%SZ}" + (f"-{safe_name(pod)}" if pod else "")
    for n in range(1, 100):
        name = base if n == 1 else f"{base}-{n}"
        path = evidence_dir / name
        if (evidence_dir / f"{name}.tar.gz").exists():
            continue
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(path, 0o700)
        return path
    raise FileExistsError(f"no free bundle name for {base} in {evidence_dir}")


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def collector(actor: str) -> dict[str, Any]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    try:
        from importlib.metadata import version

        tool = f"warroom {version('warroom')}"
    except Exception:
        tool = "warroom"
    return {
        "actor": actor,
        "host": socket.gethostname(),
        "os_user": user,
        "pid": os.getpid(),
        "tool": tool,
    }


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
