"""Verbs that read an incident's record: export (the post-mortem), verify (the hash chain and
the evidence bundles) and evidence (the bundles with their hashes)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from warroom.actions.evidence import list_bundles, verify_bundles
from warroom.bootstrap import export_context, open_store, settings_from
from warroom.errors import EXIT_FAIL, UsageError
from warroom.report import render, write_export


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
    settings = settings_from(args)
    with open_store(settings, args.incident, read_only=True) as store:
        report = store.verify()
        problems = [] if report.ok else [report.problem or "chain broken"]
        bundle_problems, checked_bundles = verify_bundles(store)
        problems += bundle_problems
    if problems:
        for p in problems:
            print(f"{args.incident}: TAMPERED: {p}", file=sys.stderr)
        return EXIT_FAIL
    extra = f", {checked_bundles} evidence bundle(s) match" if checked_bundles else ""
    print(f"{args.incident}: chain intact ({report.checked} events){extra}")
    return 0


def evidence(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with open_store(settings, args.incident, read_only=True) as store:
        rows = list_bundles(store)
    if not rows:
        print(f"{args.incident}: no evidence bundles")
        return 0
    for r in rows:
        missing = "" if r.get("present", True) else "  MISSING"
        print(
            f"{r['time']}  {r['actor']}  {r['bundle']}  sha256 {r['sha256']}  "
            f"{r['files']} files, {r['failures']} failures{missing}"
        )
    return 0
