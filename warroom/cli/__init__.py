"""`warroom`: the console, and the verbs around it. Every verb loads settings the same way
(bootstrap) and turns our own errors into one line on stderr with a non-zero exit (2 for bad
configuration or usage, 1 for a refused or failed operation)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

_T0 = time.perf_counter()  # start-up time is logged once the first frame is drawn


def _run(args: argparse.Namespace) -> int:
    from warroom.bootstrap import settings_from
    from warroom.console.run import run_console

    return run_console(settings_from(args), getattr(args, "incident", None), started=_T0)


def _drill(args: argparse.Namespace) -> int:
    from warroom.cli.drill import run_drill

    return run_drill(args, started=_T0)


def _serve(args: argparse.Namespace) -> int:
    from warroom.cli.serve import serve

    return serve(args)


def _handlers() -> dict[str, Callable[[argparse.Namespace], int]]:
    from warroom.cli import evidence, followup, incident, keys, records, store, trends

    return {
        "run": _run,
        "drill": _drill,
        "declare": incident.declare,
        "note": incident.note,
        "ack": incident.ack,
        "status": incident.status,
        "severity": incident.severity,
        "role": incident.role,
        "resolve": incident.resolve,
        "update": incident.update,
        "escalate": incident.escalate,
        "keys": keys.keys,
        "list": incident.list_incidents,
        "export": records.export,
        "verify": records.verify,
        "evidence": evidence.evidence,
        "review": followup.review,
        "action": followup.action,
        "stats": trends.stats,
        "store": store.store,
        "serve": _serve,
    }


def _utf8(arg: str) -> str:
    return arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _warnings_to_stderr() -> None:
    """Warnings (a damaged incident skipped) as one line each, like our errors."""
    import logging

    logger = logging.getLogger("warroom")
    if any(h.get_name() == "warroom-cli" for h in logger.handlers):
        return

    class Stderr(logging.Handler):  # sys.stderr as it is when a warning comes, not at start
        def emit(self, record: logging.LogRecord) -> None:
            print(self.format(record), file=sys.stderr)

    handler = Stderr()
    handler.set_name("warroom-cli")
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("warroom: %(message)s"))
    logger.addHandler(handler)


def main(argv: list[str] | None = None) -> int:
    from warroom.cli.parser import build_parser
    from warroom.errors import EXIT_FAIL, EXIT_USAGE, WarroomError
    from warroom.playbooks import PlaybookError
    from warroom.room import RoomError
    from warroom.store import StoreError

    # Bytes that are not UTF-8 arrive as lone surrogates, which no file or hash can hold:
    # they become U+FFFD, as any other text from outside would.
    argv = [_utf8(a) for a in (sys.argv[1:] if argv is None else argv)]
    args = build_parser().parse_args(argv)
    verb = args.verb or ("keys" if getattr(args, "help_keys", False) else "run")
    if verb not in ("run", "drill"):  # the console logs to warroom.log; a verb tells its user
        _warnings_to_stderr()
    try:
        return _handlers()[verb](args)
    except WarroomError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return exc.code
    except PlaybookError as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (RoomError, StoreError) as exc:
        print(f"warroom: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return 130
    except OSError as exc:  # a folder that cannot be made, a file that cannot be read
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"warroom: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAIL
