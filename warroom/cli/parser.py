"""The command line: `warroom [run] | declare | note | ack | status | severity | role |
resolve | update | escalate | keys | list | export | verify | evidence | review | action | stats |
store | serve | drill`."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn

from warroom import __version__


def common_options(p: argparse.ArgumentParser, sub: bool = False) -> None:
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


class OneLineParser(argparse.ArgumentParser):
    """A usage error is one line naming the verb and where to read more, like every other
    error of warroom (argparse prints the whole usage block first)."""

    def error(self, message: str) -> NoReturn:
        verb = self.prog.removeprefix("warroom").strip()
        where = f"{verb}: " if verb else ""
        self.exit(2, f"warroom: {where}{message} (see {self.prog} -h)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="warroom",
        description="A terminal war room for the commander of a live incident.",
    )
    parser.add_argument("--version", action="version", version=f"warroom {__version__}")
    common_options(parser)
    parser.add_argument(
        "--incident", metavar="ID", help="open this incident (default: newest open)"
    )
    parser.add_argument("--read-only", action="store_true", help="no destructive keys at all")
    parser.add_argument(
        "--help-keys", action="store_true", help="print the console's keys (as `warroom keys`)"
    )
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
        common_options(p, sub=True)
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

    # Verbs on one incident (the newest open one unless --incident): positional words.
    for name, help_, words in (
        (
            "note",
            "add a note ('TODO: ...', 'Root cause: ...' file it for the post-mortem)",
            [("text", "+")],
        ),
        ("ack", "acknowledge the incident", []),
        (
            "status",
            "change status: investigating, identified, monitoring, resolved",
            [("status", None), ("note", "*")],
        ),
        ("severity", "change severity", [("severity", None), ("reason", "*")]),
        (
            "role",
            "assign a role: commander, tech_lead, comms_lead, security_officer, scribe",
            [("role", None), ("name", "*")],
        ),
        ("resolve", "resolve the incident", [("summary", "*")]),
    ):
        p = verb(name, help_)
        p.add_argument("--incident", metavar="ID", default=argparse.SUPPRESS)
        for word, nargs in words:
            p.add_argument(word, nargs=nargs)
        if name == "resolve":
            p.add_argument(
                "--false-positive",
                action="store_true",
                help="declared, then found not to be an incident (counted apart in stats)",
            )

    p = verb(
        "update",
        "post a status update to the configured destinations (outbox); without --text, "
        "opens $EDITOR on the template prefilled from the timeline",
    )
    p.add_argument("id", nargs="?", metavar="ID", help="the incident (default: newest open)")
    p.add_argument("--incident", metavar="ID", default=argparse.SUPPRESS)
    p.add_argument("--text", help="the update text ('-' reads stdin); default: $EDITOR")
    p.add_argument(
        "--draft", action="store_true", help="print the prefilled update and send nothing"
    )
    p.add_argument(
        "--audience", default="responders", help="whose update: responders (default), ..."
    )

    p = verb("escalate", "escalate to the next level (or LEVEL, L1..L4) and page its targets")
    p.add_argument("--incident", metavar="ID")
    p.add_argument("level", nargs="?", help="L1..L4 (default: the next level)")
    p.add_argument("--to", metavar="NAME", help="a person or team by name instead (no page)")

    verb("keys", "print the console's keys, with the binding ids [keymap] rebinds")

    p = verb("list", "list incidents")
    p.add_argument("--open", action="store_true", help="only unresolved ones")

    p = verb("export", "write the post-mortem (Markdown or JSON)")
    p.add_argument("incident", metavar="ID")
    p.add_argument("--format", choices=("md", "json"), default="md")
    p.add_argument("-o", "--output", metavar="FILE", help="default: stdout")

    p = verb("verify", "check the hash chain, signed checkpoints, anchors and evidence bundles")
    p.add_argument("incident", metavar="ID")
    p.add_argument(
        "--anchor",
        action="append",
        metavar="SEQ:HASH",
        help="a chain head a sent update carried (ref 42:9e444bef); repeat",
    )
    p.add_argument(
        "--anchors", metavar="FILE", help="every `ref SEQ:HASH` in a file (a witness log)"
    )
    p.add_argument(
        "--allowed-signers",
        metavar="FILE",
        help="who may sign (ssh-keygen format; default: signing.allowed_signers)",
    )

    p = verb(
        "evidence",
        "evidence bundles: list (ID), handoff ID BUNDLE --to NAME, copy ID BUNDLE DEST, "
        "verify FILE",
    )
    p.add_argument("words", nargs="+", metavar="ID | handoff|copy|verify ...")
    p.add_argument("--to", metavar="NAME", help="handoff: who receives the bundle")

    followup_verbs(verb)

    p = verb("store", "the incident store: migrate the PostgreSQL schema, copy an incident")
    store_sub = p.add_subparsers(dest="store_verb", metavar="ACTION", required=True)
    q = store_sub.add_parser("migrate", help="apply the missing PostgreSQL schema versions")
    common_options(q, sub=True)
    q = store_sub.add_parser(
        "copy", help="copy an incident to the other backend, chain intact, verified on arrival"
    )
    common_options(q, sub=True)
    q.add_argument("incident", metavar="ID")
    q.add_argument("--to", choices=("postgres", "tinydb"), required=True)

    p = verb("serve", "a read-only web page per incident for stakeholders (token required)")
    p.add_argument("--host", help="address to bind (default: serve.host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default: serve.port, 8040; 0: any free)")

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
    p.add_argument(
        "--prometheus",
        choices=("builtin", "real"),
        default="builtin",
        help="real: the installed Prometheus and Alertmanager scrape the simulation (any PromQL)",
    )
    return parser


def followup_verbs(verb: Any) -> None:
    """review, action add|done|reopen|list|export, stats."""
    p = verb("review", "walk the post-mortem's empty sections and schedule the review meeting")
    p.add_argument("incident", metavar="ID")
    p.add_argument("--schedule", metavar="TIME", help="review meeting time (UTC), no prompt")
    p.add_argument("--no-schedule", action="store_true", help="do not offer to schedule it")

    p = verb("action", "action items: add, done, reopen, list, export to a ticket tracker")
    sub = p.add_subparsers(dest="action_verb", metavar="add|done|reopen|list|export")
    sub.required = True

    def action(name: str, help_: str) -> argparse.ArgumentParser:
        q = sub.add_parser(name, help=help_, description=help_)
        common_options(q, sub=True)
        return q

    q = action("add", "add an action item")
    q.add_argument(
        "--incident", metavar="ID", default=argparse.SUPPRESS, help="default: the newest incident"
    )
    q.add_argument("--owner", metavar="@NAME")
    q.add_argument("--due", metavar="YYYY-MM-DD")
    q.add_argument("text", nargs="+")
    for name, help_ in (("done", "mark an item done"), ("reopen", "open a done item again")):
        q = action(name, help_)
        q.add_argument(
            "--incident",
            metavar="ID",
            default=argparse.SUPPRESS,
            help="default: the newest incident",
        )
        q.add_argument("item", metavar="ITEM", help="e.g. A1")
    q = action("list", "list action items")
    q.add_argument(
        "--incident", metavar="ID", default=argparse.SUPPRESS, help="default: the newest incident"
    )
    q.add_argument("--overdue", action="store_true", help="only open items past their due date")
    q.add_argument("--all-incidents", action="store_true", help="every incident's items")
    q.add_argument("--all", action="store_true", help="done items too")
    q = action("export", "file action items as tickets (never the same one twice)")
    q.add_argument("incident", metavar="ID")
    q.add_argument("--to", required=True, choices=("github", "gitlab", "jira"))
    q.add_argument("--item", action="append", metavar="ITEM", help="only these (repeat)")

    p = verb("stats", "trends across incidents (drills apart): MTTD/MTTA/MTTR, SLAs, repeats")
    p.add_argument("--since", default="90d", metavar="AGE|DATE", help="90d, 12w, or 2026-01-01")
    p.add_argument("--by", choices=("month", "quarter"), default="month")
    p.add_argument("--format", choices=("table", "md", "json", "csv"), default="table")
    p.add_argument("-o", "--output", metavar="FILE", help="default: stdout")
    p.add_argument("--charts", metavar="DIR", help="md: SVG charts here (default: beside -o)")
    p.add_argument("--no-charts", action="store_true", help="table: no terminal charts")
