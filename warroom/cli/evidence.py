"""`warroom evidence`: list an incident's bundles, hand one over, copy one off the host, or
check a bundle file alone (no store).

    warroom evidence ID
    warroom evidence handoff ID BUNDLE --to NAME
    warroom evidence copy ID BUNDLE DEST          DEST: a directory, or [user@]host:DIR (scp)
    warroom evidence verify FILE

A handoff or a copy is a CUSTODY event, then a signed checkpoint covering it (and the witness
gets that checkpoint); without a usable key it says so in one line and stays recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from warroom.actions.evidence import list_bundles
from warroom.actions.evidence.custody import CustodyError, copy_bundle, handoff
from warroom.actions.evidence.verify import verify_bundle_file
from warroom.bootstrap import open_room, open_store, settings_from
from warroom.errors import EXIT_FAIL, UsageError, WarroomError
from warroom.model import Event
from warroom.room import WarRoom
from warroom.sanitize import one_line
from warroom.settings import Settings
from warroom.trust.checkpoints import Signer
from warroom.trust.sshsig import SigningError

USAGE = "warroom evidence ID | handoff ID BUNDLE --to NAME | copy ID BUNDLE DEST | verify FILE"
ARITY = {"handoff": 3, "copy": 4, "verify": 2}


def evidence(args: argparse.Namespace) -> int:
    words = list(args.words)
    verb = words[0] if words[0] in ARITY else "list"
    want = ARITY.get(verb, 1)
    if len(words) != want:
        raise UsageError(f"usage: {USAGE}")
    if verb != "handoff" and args.to:
        raise UsageError("--to only goes with `warroom evidence handoff`")
    if verb == "verify":
        return verify_file(Path(words[1]))
    settings = settings_from(args)
    if verb == "list":
        return list_incident(settings, words[0])
    room = open_room(settings, words[1])
    assert room is not None  # an id was named: open_room raises when it is unknown
    try:
        if verb == "handoff":
            if not args.to:
                raise UsageError("--to NAME: who receives the bundle")
            ev = handoff(room, words[2], args.to)
        else:
            ev = copy_bundle(room, words[2], words[3], settings.evidence.ssh_config)
        print(f"{room.incident_id} #{ev.seq} {one_line(ev.text)}")
        sign_and_witness(room, settings, ev)
    except CustodyError as exc:
        raise WarroomError(one_line(str(exc))) from None  # names what the user typed
    finally:
        room.store.close()
    return 0


def sign_and_witness(room: WarRoom, settings: Settings, after: Event) -> None:
    """A checkpoint covering `after`, sent to the witness; one line either way."""
    if not settings.signing.enabled:
        return
    try:
        cp = Signer(settings.signing).sign_head(room)
    except SigningError as exc:
        print(f"unsigned: {one_line(str(exc))} (the record goes on unsigned)", file=sys.stderr)
        return
    if cp is None:
        return
    print(f"{room.incident_id} #{cp.seq} signed events 1-{cp.data['seq']} (ref {cp.data['ref']})")
    witness = settings.signing.witness
    if witness is None:
        return
    from warroom.actions.outbox import Outbox

    outbox = Outbox(room, [], witness=witness, actor=settings.actor)
    outbox.enqueue(cp)
    for r in asyncio.run(outbox.deliver_due()):
        state = "delivered" if r.ok else f"queued ({one_line(str(r.error))})"
        print(f"  witness {r.destination}: {state}")


def list_incident(settings: Settings, incident_id: str) -> int:
    with open_store(settings, incident_id, read_only=True) as store:
        rows = list_bundles(store)
    if not rows:
        print(f"{incident_id}: no evidence bundles")
        return 0
    for r in rows:
        missing = "" if r.get("present", True) else "  MISSING"
        line = (
            f"{r['time']}  {r['actor']}  {r['bundle']}  sha256 {r['sha256']}  "
            f"{r['files']} files, {r['failures']} failures{missing}"
        )
        print(one_line(line))
    return 0


def verify_file(path: Path) -> int:
    """A bundle alone; what it says about itself (its manifest) is outside text: echoed inert."""
    name = one_line(str(path))
    try:
        check = verify_bundle_file(path)
    except OSError as exc:
        raise WarroomError(f"{name}: cannot read: {exc.strerror or exc}") from None
    m = check.manifest
    for p in check.problems:
        print(f"{name}: TAMPERED: {one_line(p)}", file=sys.stderr)
    if check.problems:
        return EXIT_FAIL
    who = m.get("collector") if isinstance(m.get("collector"), dict) else {}
    head = m.get("timeline_head") if isinstance(m.get("timeline_head"), dict) else {}
    ref = f", ref {head['ref']}" if head.get("ref") else ""
    said = (
        f"incident {m.get('incident')}, collected by {who.get('actor')} on {who.get('host')} "
        f"at {m.get('finished_at')}{ref}"
    )
    print(f"{name}: intact: {check.files} files match its manifest ({one_line(said)})")
    print(f"{name}: sha256 {check.sha256}")
    return 0
