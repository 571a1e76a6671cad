"""Verbs that read an incident's record: export (the post-mortem), verify (the hash chain, the
signed checkpoints, anchors and the evidence bundles). `warroom evidence` is in evidence.py."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from warroom.actions.evidence import verify_bundles
from warroom.bootstrap import export_context, open_store, settings_from
from warroom.errors import EXIT_FAIL, UsageError
from warroom.report import render, write_export
from warroom.sanitize import one_line
from warroom.settings import Settings
from warroom.trust.anchors import Anchor, anchors_from_file, check_anchor, parse_anchor
from warroom.trust.sshsig import SshTool
from warroom.trust.verify import verify_checkpoints


def export(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with open_store(settings, args.incident, read_only=True) as store:
        events = store.events()
        context = export_context(settings, store)
    if args.output and Path(args.output).is_dir():
        raise UsageError(f"-o {args.output}: is a directory; name the file to write")
    if args.output:
        write_export(events, Path(args.output), args.format, **context)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(render(events, args.format, **context))
    return 0


def verify(args: argparse.Namespace) -> int:
    """The chain, then what the signatures vouch for, the anchors, the evidence bundles."""
    from warroom.trust.sshsig import SigningError

    settings = settings_from(args)
    anchors = _anchors(args)
    with open_store(settings, args.incident, read_only=True) as store:
        report = store.verify()
        problems = [] if report.ok else [report.problem or "chain broken"]
        events = store.events()
        bundle_problems, checked_bundles = verify_bundles(store)
    notes = [f"chain intact ({report.checked} events)"] if report.ok else []
    try:
        trust = verify_checkpoints(args.incident, events, _allowed(args, settings), _tool(settings))
    except SigningError as exc:
        problems.append(f"signatures not checked: {exc}")
    else:
        notes += trust.lines()
        problems += [c.problem for c in trust.failures]
    for anchor in anchors:
        check = check_anchor(events, anchor)
        (notes if check.ok else problems).append(check.text)
    problems += bundle_problems
    if checked_bundles and not bundle_problems:
        notes.append(f"{checked_bundles} evidence bundle(s) match")
    # A rewritten store can say anything (a signer, a fingerprint): printed inert.
    for line in notes:
        print(f"{args.incident}: {one_line(line)}")
    for p in problems:
        print(f"{args.incident}: TAMPERED: {one_line(p)}", file=sys.stderr)
    return EXIT_FAIL if problems else 0


def _anchors(args: argparse.Namespace) -> list[Anchor]:
    out = []
    try:
        out += [parse_anchor(a) for a in args.anchor or []]
        if args.anchors:
            out += anchors_from_file(Path(args.anchors))
    except ValueError as exc:
        raise UsageError(f"--anchor: {exc}") from None
    except OSError as exc:
        raise UsageError(f"--anchors: cannot read {args.anchors}: {exc.strerror or exc}") from None
    return list(dict.fromkeys(out))  # the same anchor given twice is checked once


def _allowed(args: argparse.Namespace, settings: Settings) -> Path | None:
    given = getattr(args, "allowed_signers", None)
    path = Path(given).expanduser() if given else settings.signing.allowed_signers
    if path is not None and not path.is_file():
        where = "--allowed-signers" if given else "signing.allowed_signers"
        raise UsageError(f"{where}: {path} does not exist")
    return path


def _tool(settings: Settings) -> SshTool:
    return SshTool(settings.signing.ssh_keygen, settings.signing.agent_socket)
