"""Reading bundles back: list them, and verify each against the timeline and its manifest
without extracting anything."""

from __future__ import annotations

import hashlib
import json
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warroom.actions.evidence.bundle import MANIFEST, sha256_file
from warroom.model import Event, Kind
from warroom.store import IncidentStore


def _bundle_events(store: IncidentStore) -> list[Event]:
    return [e for e in store.events() if e.kind == Kind.EVIDENCE and e.data.get("bundle")]


def _bundle_path(store: IncidentStore, name: str) -> Path | None:
    if "/" in name or "\\" in name or name in ("", ".", "..") or not name.endswith(".tar.gz"):
        return None
    return store.evidence_dir / name


def list_bundles(store: IncidentStore) -> list[dict[str, Any]]:
    """One row per EVIDENCE event, oldest first: for `warroom evidence ID`."""
    rows = []
    for e in _bundle_events(store):
        d = e.data
        path = _bundle_path(store, str(d["bundle"]))
        rows.append(
            {
                "seq": e.seq,
                "time": e.ts,
                "actor": e.actor,
                "bundle": d["bundle"],
                "sha256": d.get("sha256", ""),
                "size": d.get("size"),
                "files": d.get("files"),
                "failures": d.get("failures"),
                "path": str(path) if path else None,
                "present": bool(path and path.is_file()),
            }
        )
    return rows


def verify_bundles(store: IncidentStore) -> tuple[list[str], int]:
    """Recompute every recorded bundle: the archive against the timeline's sha256, the manifest
    against the timeline's manifest_sha256, every file against the manifest. Never extracts."""
    problems: list[str] = []
    events = _bundle_events(store)
    for e in events:
        name = str(e.data["bundle"])
        path = _bundle_path(store, name)
        if path is None:
            problems.append(f"bundle {name}: not a bundle file name")
            continue
        if not path.is_file():
            problems.append(f"bundle {name} missing")
            continue
        if sha256_file(path) != e.data.get("sha256"):
            problems.append(f"bundle {name} sha256 differs from the timeline")
        problems += _verify_contents(name, path, e.data.get("manifest_sha256"))
    return problems, len(events)


@dataclass(frozen=True)
class BundleCheck:
    """A bundle checked alone, from its own manifest (`warroom evidence verify FILE`)."""

    sha256: str  # of the archive: compare with the timeline's or a custody record's
    files: int
    manifest: dict[str, Any]
    problems: list[str]


def verify_bundle_file(path: Path) -> BundleCheck:
    """Every file against the manifest inside the archive; no store, no timeline needed.
    OSError if the file cannot be read at all."""
    sha = sha256_file(path)
    manifest: dict[str, Any] = {}
    problems = _verify_contents(path.name, path, None, found=manifest)
    files = manifest.get("files")
    return BundleCheck(sha, len(files) if isinstance(files, list) else 0, manifest, problems)


def _top_dir(tar: tarfile.TarFile) -> str:
    """The bundle's folder inside the archive: the one holding manifest.json (written first)."""
    for m in tar.getmembers():
        head, _, tail = m.name.partition("/")
        if tail == MANIFEST:
            return head
    return ""


def _verify_contents(
    name: str, path: Path, manifest_sha: str | None, found: dict[str, Any] | None = None
) -> list[str]:
    out: list[str] = []
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            top = _top_dir(tar) if found is not None else name.removesuffix(".tar.gz")
            members: dict[str, tarfile.TarInfo] = {}
            for m in tar.getmembers():
                if m.isfile():
                    members[m.name] = m
                elif not m.isdir():  # a link or device never comes out of _archive
                    out.append(f"bundle {name}: unexpected member {m.name}")
            mf = members.pop(f"{top}/{MANIFEST}", None)
            if mf is None:
                return [f"bundle {name}: {MANIFEST} missing"]
            raw = _read_member(tar, mf)
            if manifest_sha and hashlib.sha256(raw).hexdigest() != manifest_sha:
                out.append(f"bundle {name}: {MANIFEST} differs from the timeline")
            try:
                doc = json.loads(raw)
                files = doc["files"]
            except (ValueError, KeyError, TypeError):
                return [*out, f"bundle {name}: {MANIFEST} is unreadable"]
            if found is not None and isinstance(doc, dict):
                found.update(doc)
            for f in files if isinstance(files, list) else []:
                if not isinstance(f, dict):
                    out.append(f"bundle {name}: {MANIFEST} has a malformed entry")
                    continue
                rel = str(f.get("path", ""))
                m = members.pop(f"{top}/{rel}", None)
                if m is None:
                    out.append(f"bundle {name}: file {rel} missing")
                    continue
                h = hashlib.sha256()
                src = tar.extractfile(m)
                assert src is not None  # a regular file
                for chunk in iter(lambda src=src: src.read(1024 * 1024), b""):
                    h.update(chunk)
                if h.hexdigest() != f.get("sha256") or m.size != f.get("size"):
                    out.append(f"bundle {name}: file {rel} hash mismatch")
            for extra in sorted(members):
                rel = extra.removeprefix(top + "/")
                out.append(f"bundle {name}: file {rel} not in the manifest")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        out.append(f"bundle {name}: unreadable archive ({type(exc).__name__}: {exc})")
    return out


def _read_member(tar: tarfile.TarFile, m: tarfile.TarInfo, cap: int = 64 * 1024 * 1024) -> bytes:
    src = tar.extractfile(m)
    return src.read(cap) if src is not None else b""
