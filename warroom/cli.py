"""`warroom [run] | declare | note | ack | status | severity | role | resolve | list | export |
verify | drill`.

Every verb loads settings the same way and turns our own errors into one line on stderr with a
non-zero exit (2 for bad configuration or usage, 1 for a refused or failed operation): a
commander scripting around warroom should never have to read a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from warroom import __version__

_T0 = time.perf_counter()  # start-up time is logged once the first frame is drawn

EXIT_FAIL = 1
EXIT_CONFIG = 2


class CliError(Exception):
    def __init__(self, message: str, code: int = EXIT_FAIL) -> None:
        super().__init__(message)
        self.code = code


def _common(p: argparse.ArgumentParser, sub: bool = False) -> None:
    # On subcommands the defaults are suppressed, so `warroom --as ann note x` keeps "ann".
    kw: dict[str, Any] = {"default": argparse.SUPPRESS} if sub else {}
    p.add_argument(
        "--config",
        metavar="FILE",
        **kw,
        help="settings file (default: $WARROOM_CONFIG, else warroom.toml in the user config dir)",
    )
    p.add_argument(
        "--data-dir", metavar="DIR", **kw, help="where incidents live ($WARROOM_DATA_DIR)"
    )
    p.add_argument("--as", dest="actor", metavar="NAME", **kw, help="who you are (default: $USER)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="warroom",
        description="A terminal war room for the commander of a live incident.",
    )
    parser.add_argument("--version", action="version", version=f"warroom {__version__}")
    _common(parser)
    parser.add_argument(
        "--incident", metavar="ID", help="open this incident (default: newest open)"
    )
    parser.add_argument("--read-only", action="store_true", help="no destructive keys at all")
    parser.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig (default: $KUBECONFIG)")
    parser.add_argument("--context", metavar="NAME", help="kubeconfig context")
    parser.add_argument(
        "--namespace",
        "-n",
        action="append",
        metavar="NS",
        help="namespace to watch (repeat; '*' for all)",
    )
    sub = parser.add_subparsers(dest="verb", metavar="COMMAND")

    def verb(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        _common(p, sub=True)
        return p

    p = verb("run", "open the war-room console (the default)")
    p.add_argument("--incident", metavar="ID", default=argparse.SUPPRESS)
    p.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS)
    p.add_argument("--kubeconfig", metavar="FILE", default=argparse.SUPPRESS)
    p.add_argument("--context", metavar="NAME", default=argparse.SUPPRESS)
    p.add_argument("--namespace", "-n", action="append", metavar="NS", default=argparse.SUPPRESS)

    p = verb("declare", "declare an incident and print its id")
    p.add_argument("--title", required=True)
    p.add_argument("--severity", required=True, help="P0 (critical) .. P3 (low)")
    p.add_argument("--category", default="application")
    p.add_argument("--started", metavar="TIME", help="when impact began (ISO 8601, UTC)")

    p = verb("note", "add a note ('TODO: ...', 'Root cause: ...' file it for the post-mortem)")
    p.add_argument("--incident", metavar="ID")
    p.add_argument("text", nargs="+")

    p = verb("ack", "acknowledge the incident")
    p.add_argument("--incident", metavar="ID")

    p = verb("status", "change status: investigating, identified, monitoring, resolved")
    p.add_argument("--incident", metavar="ID")
    p.add_argument("status")
    p.add_argument("note", nargs="*")

    p = verb("severity", "change severity")
    p.add_argument("--incident", metavar="ID")
    p.add_argument("severity")
    p.add_argument("reason", nargs="*")

    p = verb("role", "assign a role: commander, tech_lead, comms_lead, security_officer, scribe")
    p.add_argument("--incident", metavar="ID")
    p.add_argument("role")
    p.add_argument("name", nargs="*")

    p = verb("resolve", "resolve the incident")
    p.add_argument("--incident", metavar="ID")
    p.add_argument("summary", nargs="*")

    p = verb("update", "post a status update to the configured destinations (outbox)")
    p.add_argument("--incident", metavar="ID")
    p.add_argument("--text", required=True, help="the update text ('-' reads stdin)")

    p = verb("list", "list incidents")
    p.add_argument("--open", action="store_true", help="only unresolved ones")

    p = verb("export", "write the post-mortem (Markdown or JSON)")
    p.add_argument("incident", metavar="ID")
    p.add_argument("--format", choices=("md", "json"), default="md")
    p.add_argument("-o", "--output", metavar="FILE", help="default: stdout")

    p = verb("verify", "check the timeline's hash chain (and evidence bundles)")
    p.add_argument("incident", metavar="ID")

    p = verb("evidence", "list an incident's evidence bundles with their hashes")
    p.add_argument("incident", metavar="ID")

    p = verb("drill", "run a simulated incident against a loopback cluster")
    p.add_argument("scenario", nargs="?", default=None)
    p.add_argument("--list", action="store_true", help="list scenarios")
    p.add_argument("--speed", type=float, default=None, help="scenario time multiplier (default 1)")
    p.add_argument(
        "--script", metavar="FILE", help="replay responder steps headless (CI), then report"
    )
    p.add_argument(
        "--report",
        metavar="ID",
        help="write the scored drill report of drill ID and print its path",
    )
    return parser


def _settings(args: argparse.Namespace) -> Any:
    from warroom.settings import SettingsError, load_settings

    try:
        return load_settings(
            args.config,
            data_dir=args.data_dir,
            actor=args.actor,
            read_only=True if getattr(args, "read_only", False) else None,
        )
    except SettingsError as exc:
        raise CliError(str(exc), EXIT_CONFIG) from None


def _repo(settings: Any) -> Any:
    from warroom.store import IncidentRepository

    return IncidentRepository(settings.data_dir)


def open_store(settings: Any, incident_id: str, read_only: bool = False) -> Any:
    """The incident's store, or one clear CliError for an unknown or unsafe id."""
    from warroom.store import IncidentNotFound

    try:
        return _repo(settings).open(incident_id, read_only=read_only)
    except IncidentNotFound:
        raise CliError(f"no incident {incident_id!r} in {settings.incidents_dir}") from None
    except ValueError as exc:  # the store's message names the id and the rule
        raise CliError(str(exc)) from None


def newest_open_incident(repo: Any) -> str | None:
    from warroom.projection import project

    for incident_id in reversed(repo.ids()):
        with repo.open(incident_id, read_only=True) as store:
            if not project(store.events()).resolved:
                return incident_id
    return None


def _open_room(args: argparse.Namespace, settings: Any) -> Any:
    from warroom.room import WarRoom

    repo = _repo(settings)
    incident_id = getattr(args, "incident", None) or newest_open_incident(repo)
    if not incident_id:
        raise CliError("no open incident: declare one with `warroom declare` or name --incident")
    return WarRoom(open_store(settings, incident_id), settings)


def _cmd_declare(args: argparse.Namespace) -> int:
    from warroom.model import parse_ts
    from warroom.room import WarRoom

    settings = _settings(args)
    started = None
    if args.started:
        try:
            started = parse_ts(args.started)
        except ValueError:
            raise CliError(f"--started: not an ISO 8601 time: {args.started!r}", 2) from None
    room = WarRoom.declare(
        _repo(settings),
        settings,
        title=args.title,
        severity=args.severity,
        category=args.category,
        started_at=started,
    )
    print(room.incident_id)
    room.store.close()
    return 0


def _with_room(args: argparse.Namespace, fn: Any) -> int:
    settings = _settings(args)
    room = _open_room(args, settings)
    try:
        ev = fn(room)
        print(f"{room.incident_id} #{ev.seq} {ev.text}")
    finally:
        room.store.close()
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    from warroom.model import format_duration, utcnow
    from warroom.projection import project
    from warroom.sanitize import one_line

    settings = _settings(args)
    repo = _repo(settings)
    rows = []
    for incident_id in repo.ids():
        try:
            with repo.open(incident_id, read_only=True) as store:
                st = project(store.events())
        except Exception as exc:  # one unreadable file must not hide the others
            rows.append((incident_id, "?", "unreadable", "-", f"({exc})"))
            continue
        if args.open and st.resolved:
            continue
        end = st.resolved_at or utcnow()
        age = format_duration(end - st.declared_at) if st.declared_at else "-"
        title = ("[DRILL] " if st.drill else "") + one_line(st.title)
        rows.append((incident_id, st.severity.value, st.status.value, age, title))
    if not rows:
        which = "open incidents" if args.open else "incidents"
        print(f"no {which} in {settings.incidents_dir}")
        return 0
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from warroom.report import to_json, to_markdown

    settings = _settings(args)
    store = open_store(settings, args.incident, read_only=True)
    with store:
        events = store.events()
    text = to_markdown(events) if args.format == "md" else to_json(events)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_store(settings, args.incident, read_only=True)
    with store:
        report = store.verify()
        problems = [] if report.ok else [report.problem or "chain broken"]
        checked_bundles = 0
        try:
            from warroom.actions.evidence import verify_bundles
        except ImportError:
            verify_bundles = None
        if verify_bundles is not None:
            bundle_problems, checked_bundles = verify_bundles(store)
            problems += bundle_problems
    if problems:
        for p in problems:
            print(f"{args.incident}: TAMPERED: {p}", file=sys.stderr)
        return EXIT_FAIL
    extra = f", {checked_bundles} evidence bundle(s) match" if checked_bundles else ""
    print(f"{args.incident}: chain intact ({report.checked} events){extra}")
    return 0


def _cmd_update(args: argparse.Namespace) -> int:
    import asyncio

    from warroom.actions.notify import NotifyConfigError
    from warroom.actions.outbox import Outbox
    from warroom.model import utcnow
    from warroom.updates import destinations, post

    settings = _settings(args)
    try:
        dests = destinations(settings)
    except NotifyConfigError as exc:
        raise CliError(str(exc), EXIT_CONFIG) from None
    text = sys.stdin.read() if args.text == "-" else args.text
    room = _open_room(args, settings)
    try:
        st = room.state
        kind = "resolution" if st.resolved else ("update" if st.updates_sent else "notification")
        outbox = Outbox(room.store, dests, actor=settings.actor) if dests else None
        ev = post(room, text, kind, utcnow(), outbox)
        print(f"{room.incident_id} #{ev.seq} {kind} recorded")
        if outbox is None:
            print("no destinations configured ([[notify.destinations]]): recorded only")
            return 0
        results = asyncio.run(outbox.deliver_due())
        for r in results:
            state = "delivered" if r.ok else f"queued ({r.error})"
            print(f"  {r.destination}: {state}")
        left = outbox.undelivered_count()
        if left:
            print(f"{left} update(s) undelivered: the console or the next `warroom update` retries")
    finally:
        room.store.close()
    return 0


def _cmd_evidence(args: argparse.Namespace) -> int:
    from warroom.actions.evidence import list_bundles

    settings = _settings(args)
    store = open_store(settings, args.incident, read_only=True)
    with store:
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


def _cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    from warroom.app import run_app

    return run_app(settings, args, started=_T0)


def _cmd_drill(args: argparse.Namespace) -> int:
    from warroom.drill.cli import run_drill

    return run_drill(args, _settings(args), started=_T0)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    verb = args.verb or "run"

    def joined(name: str) -> str:
        return " ".join(getattr(args, name) or [])

    handlers = {
        "run": _cmd_run,
        "declare": _cmd_declare,
        "list": _cmd_list,
        "export": _cmd_export,
        "verify": _cmd_verify,
        "drill": _cmd_drill,
        "update": _cmd_update,
        "evidence": _cmd_evidence,
        "note": lambda a: _with_room(a, lambda r: r.add_note(joined("text"))),
        "ack": lambda a: _with_room(a, lambda r: r.acknowledge()),
        "status": lambda a: _with_room(a, lambda r: r.change_status(a.status, joined("note"))),
        "severity": lambda a: _with_room(
            a, lambda r: r.change_severity(a.severity, joined("reason"))
        ),
        "role": lambda a: _with_room(a, lambda r: r.assign_role(a.role, joined("name"))),
        "resolve": lambda a: _with_room(a, lambda r: r.resolve(joined("summary"))),
    }
    from warroom.actions.notify import NotifyConfigError
    from warroom.playbooks import PlaybookError
    from warroom.room import RoomError
    from warroom.settings import SettingsError

    try:
        return handlers[verb](args)
    except CliError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return exc.code
    except (PlaybookError, SettingsError, NotifyConfigError) as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except RoomError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
