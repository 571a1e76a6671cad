"""Every bad input a clumsy operator (or an attacker) gives the CLI, in one table: the exit code
(2 bad usage or configuration, 1 refused or failed, 0 where it is fine), one line on stderr per
problem (a skipped damaged incident adds its own warning line), never a traceback, nothing
outside text could do to the terminal, and the note written before is still there.

Run in-process through warroom.cli.main (a process per case would take minutes); test_cli.py
runs the real processes for the representative cases."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from warroom.cli import main


@dataclass(frozen=True)
class Case:
    name: str
    args: tuple[str, ...]
    code: int
    says: str  # a fragment of the error line (or of stdout when code is 0)
    env: dict[str, str] = field(default_factory=dict)
    damage: str = ""  # how the newest incident's file is damaged first
    toml: str = ""  # a settings file passed with --config
    older_open: bool = False  # an older open incident exists beside the damaged newest


DAMAGES = {
    "truncated": lambda b: b[: len(b) // 2],
    "garbage": lambda b: bytes((i * 37 + 11) % 256 for i in range(300)),
    "array": lambda b: b"[1, 2, 3]",
    "null": lambda b: b"null",
    "string": lambda b: b'"events"',
    "nested-garbage": lambda b: b'{"events": 5, "_default": [1]}',
}
ON_DAMAGED = [  # verb, code, what it says
    (("verify", "{inc}"), 1, "its journal still holds 3 event(s), #1..#3; nothing was changed"),
    (("export", "{inc}"), 1, "is damaged"),
    (("export", "{inc}", "--format", "json"), 1, "is damaged"),
    (("evidence", "{inc}"), 1, "is damaged"),
    (("action", "list"), 1, "is damaged"),
    (("list",), 0, "unreadable"),
    (("stats",), 0, "skipped 1 unreadable"),
    (("note", "hi"), 1, "no open incident"),
    (("ack",), 1, "no open incident"),
    (("status", "identified"), 1, "no open incident"),
    (("update", "--text", "x"), 1, "no open incident"),
    (("resolve", "done"), 1, "no open incident"),
]
ESC = "\x1b]0;PWNED\x07\x1b[2J\u202e"

CASES: list[Case] = []
for kind in DAMAGES:
    for i, (args, code, says) in enumerate(ON_DAMAGED):
        CASES.append(Case(f"damaged-{kind}-{i}-{args[0]}", args, code, says, damage=kind))
    for args, says in [(("note", "hi"), "hi"), (("ack",), "Acknowledged")]:
        name = f"damaged-{kind}-older-open-{args[0]}"
        CASES.append(Case(name, args, 0, says, damage=kind, older_open=True))

CASES += [
    Case(f"usage-{i}", args, code, says)
    for i, (args, code, says) in enumerate(
        [
            (("declare", "--title", "", "--severity", "P1"), 1, "a title is required"),
            (("declare", "--title", "   ", "--severity", "P1"), 1, "a title is required"),
            (("declare", "--title", "x", "--severity", "P9"), 1, "unknown severity 'P9'"),
            (("declare", "--title", "x"), 2, "required: --severity"),
            (("declare", "--severity", "P1"), 2, "required: --title"),
            (("declare", "--title", "x", "--severity", "P1", "--started", "soon"), 2, "ISO 8601"),
            (
                ("declare", "--title", "x", "--severity", "P1", "--started", "2999-01-01"),
                2,
                "future",
            ),
            (("note", ""), 1, "an empty note"),
            (("note", "   "), 1, "an empty note"),
            (("note",), 2, "required: text"),
            (("status", "bogus"), 1, "unknown status 'bogus'"),
            (("status", ""), 1, "unknown status ''"),
            (("status",), 2, "required"),
            (("severity", "P7", "why"), 1, "unknown severity 'P7'"),
            (("severity", "", "x"), 1, "unknown severity ''"),
            (("severity",), 2, "required"),
            (("role", "bogus", "Ann"), 1, "unknown role 'bogus'"),
            (("role", "", "x"), 1, "unknown role ''"),
            (("role", "scribe", ""), 1, "already unassigned"),
            (("role",), 2, "required"),
            (("export", "../../etc/passwd"), 1, "bad incident id"),
            (("export", "a/b"), 1, "bad incident id"),
            (("export", "." * 90), 1, "bad incident id"),
            (("export", "{inc}", "-o", "{tmp}"), 2, "is a directory"),
            (("export", "{inc}", "--format", "pdf"), 2, "invalid choice: 'pdf'"),
            (("export", "INC-nope"), 1, "no incident 'INC-nope'"),
            (("export",), 2, "required"),
            (("verify", "INC-nope"), 1, "no incident 'INC-nope'"),
            (("verify", "../x"), 1, "bad incident id"),
            (("evidence", "INC-nope"), 1, "no incident 'INC-nope'"),
            (("evidence", "{inc}", "--bogus"), 2, "unrecognized arguments"),
            (("verify", "{inc}", "--anchor", "42"), 2, "expected SEQ:HASH"),
            (("verify", "{inc}", "--anchor", ESC), 2, "expected SEQ:HASH"),
            (("verify", "{inc}", "--anchors", "/nonexistent/a.txt"), 2, "cannot read"),
            (("verify", "{inc}", "--anchors", "{tmp}"), 2, "Is a directory"),
            (("verify", "{inc}", "--allowed-signers", "/nonexistent"), 2, "does not exist"),
            (("evidence", "handoff", "{inc}", "x.tar.gz", "--to", "bo"), 1, "no such bundle"),
            (("evidence", "handoff", "{inc}", ESC, "--to", "bo"), 1, "no such bundle"),
            (("evidence", "handoff", "{inc}", "x.tar.gz"), 2, "--to"),
            (("evidence", "copy", "{inc}", "x.tar.gz", "{tmp}"), 1, "no such bundle"),
            (("evidence", "copy", "INC-nope", "x.tar.gz", "{tmp}"), 1, "no incident 'INC-nope'"),
            (("evidence", "verify", "/nonexistent/b.tar.gz"), 1, "cannot read"),
            (("evidence", "verify", "{tmp}"), 1, "Is a directory"),
            (("drill", "nope"), 2, "no such scenario"),
            (("drill", "--speed", "nan"), 2, "speed: must be a number"),
            (("drill", "--speed", "0"), 2, "speed: must be a number"),
            (("drill", "--speed", "-3"), 2, "speed: must be a number"),
            (("drill", "--speed", "inf"), 2, "speed: must be a number"),
            (("drill", "--speed", "1e9"), 2, "speed: must be a number"),
            (("drill", "--speed", "abc"), 2, "invalid float value"),
            (("drill", "--script", "/nonexistent/s.yaml"), 2, "file not found"),
            (("drill", "--script", "{tmp}"), 2, "is a directory"),
            (("drill", "--report", "nope"), 1, "no incident 'nope'"),
            (("drill", "/etc/hostname"), 2, "a scenario is a mapping"),
            (("drill", "{tmp}"), 2, ""),
            (("action", "add", ""), 1, "needs a text"),
            (("action", "done", "A99"), 1, "no action item 'A99'"),
            (("action", "reopen", "zzz"), 1, "no action item 'zzz'"),
            (("action", "export", "{inc}", "--to", "bogus"), 2, "invalid choice: 'bogus'"),
            (("action", "add", "--due", "tomorrow", "x"), 1, "not a date"),
            (("action", "add", "--due", "2026-13-45", "x"), 1, "not a date"),
            (("action", "list", "--incident", "INC-nope"), 1, "no incident 'INC-nope'"),
            (("action", "bogus"), 2, "invalid choice"),
            (("stats", "--since", "garbage"), 2, "neither an age"),
            (("stats", "--by", "year"), 2, "invalid choice: 'year'"),
            (("stats", "--format", "xml"), 2, "invalid choice: 'xml'"),
            (("store", "copy", "INC-nope", "--to", "postgres"), 2, "needs a DSN"),
            (("store", "migrate"), 2, "no PostgreSQL DSN"),
            (("store",), 2, "required"),
            (("serve", "--port", "99999"), 2, "expected 0..65535"),
            (("serve", "--port", "-1"), 2, "expected 0..65535"),
            (("serve", "--port", "x"), 2, "invalid int value"),
            (("review", "INC-nope"), 1, "no incident 'INC-nope'"),
            (("update", "--text", ""), 1, "an empty update"),
            (("update", "INC-nope", "--text", "x"), 1, "no incident 'INC-nope'"),
            (("update", "--draft", "INC-nope"), 1, "no incident 'INC-nope'"),
            (("keys", "extra"), 2, "unrecognized arguments"),
            (("bogus",), 2, "invalid choice: 'bogus'"),
            (("--as", "", "note", "x"), 0, "#4 x"),  # empty: $USER, as without --as
            (("--as", ESC, "note", "x"), 2, "actor: control or invisible characters"),
            (("--as", "ann\u200b", "note", "x"), 2, "actor: control or invisible characters"),
            (("--config", "/nonexistent.toml", "list"), 2, "settings file not found"),
            (("--config", "{tmp}", "list"), 2, "settings file not found"),
            (("--data-dir", "/etc/hostname", "list"), 2, "is a file, not a directory"),
            (("--data-dir", "/proc/nope/x", "note", "x"), 1, "no open incident"),
            (
                ("--data-dir", "/proc/nope/x", "declare", "--title", "x", "--severity", "P1"),
                1,
                "/proc/nope: No such file or directory",
            ),
            (("--incident", "../x", "note", "x"), 1, "bad incident id"),
            (("ack", "--incident", "../x"), 1, "bad incident id"),
            (("resolve", "--bogus"), 2, "unrecognized arguments"),
            # Outside text in the verbs' own echo: shown inert, never acted on.
            (("note", ESC + "hello"), 0, "hello"),
            (("status", "identified", ESC), 0, "identified"),
            (("role", "scribe", ESC + "Bo"), 0, "Bo"),
            (("severity", "P1", ESC + "why"), 0, "P1"),
            (("resolve", ESC + "done"), 0, "done"),
            (("action", "add", ESC + "fix it"), 0, "fix it"),
            (("declare", "--title", ESC + "t", "--severity", "P1"), 0, "INC-"),
            # Bytes that are not UTF-8 (printf '\x9b' in a shell): surrogates in argv.
            (("note", "raw \udc9b\udcff bytes"), 0, "raw \ufffd\ufffd bytes"),
            (("declare", "--title", "t\udc9b", "--severity", "P1"), 0, "INC-"),
        ]
    )
]
ENVS = {
    "read-only-typo": ({"WARROOM_READ_ONLY": "ture"}, 2, "$WARROOM_READ_ONLY: expected true"),
    "read-only-word": ({"WARROOM_READ_ONLY": "enabled"}, 2, "$WARROOM_READ_ONLY: expected"),
    "prom-not-url": ({"PROMETHEUS_URL": "not a url"}, 2, "prometheus.url: expected an http"),
    "prom-ftp": ({"PROMETHEUS_URL": "ftp://x"}, 2, "prometheus.url: expected an http"),
    "prom-file": ({"PROMETHEUS_URL": "file:///etc/passwd"}, 2, "prometheus.url: expected"),
    "am-garbage": ({"ALERTMANAGER_URL": "::::"}, 2, "alertmanager.url: expected an http"),
    "data-dir-file": ({"WARROOM_DATA_DIR": "/etc/hostname"}, 2, "is a file, not a directory"),
    "config-missing": ({"WARROOM_CONFIG": "/nonexistent.toml"}, 2, "settings file not found"),
    "actor-escape": ({"WARROOM_ACTOR": ESC}, 2, "actor: control or invisible"),
}
CASES += [Case(f"env-{n}", ("list",), code, says, env=e) for n, (e, code, says) in ENVS.items()]
TOMLS = {
    "unknown-key": ("readonly = true\n", "readonly: unknown setting (did you mean read_only?)"),
    "section-typo": ("[promethues]\nurl='http://x'\n", "did you mean prometheus.url?"),
    "key-typo": ("[prometheus]\nurll='x'\n", "did you mean prometheus.url?"),
    "url-bad": ("[prometheus]\nurl='not a url'\n", ":2: prometheus.url: expected an http"),
    "url-ftp": ("[prometheus]\nurl='ftp://x'\n", ":2: prometheus.url: expected an http"),
    "am-url-bad": ("[alertmanager]\nurl='x'\n", ":2: alertmanager.url: expected an http"),
    "id-prefix": ("[incident]\nid_prefix='../evil'\n", ":2: incident.id_prefix: expected"),
    "bad-toml": ("[[[\n", "line 1"),
    "bool-string": ("read_only='yes'\n", ":1: read_only: expected true or false"),
    "bool-int": ("read_only=2\n", ":1: read_only: expected true or false"),
    "duration": ("[severity.P1]\nupdate_every='soon'\n", ":2: severity.P1.update_every"),
    "binary": ("\x00\x01\x02", "line 1"),
    "negative": ("[evidence]\nmax_pods=-1\n", ":2: evidence.max_pods: expected a positive"),
    "wrong-type": ("[evidence]\nmax_pods='many'\n", ":2: evidence.max_pods"),
    "huge-pods": (
        "[evidence]\nmax_pods=10000000000000000000\n",
        ":2: evidence.max_pods: expected at most 1,000",
    ),
    "huge-lines": (
        "[evidence]\nmax_log_lines=99999999\n",
        ":2: evidence.max_log_lines: expected at most",
    ),
    "huge-bytes": (
        "[evidence]\nmax_log_bytes='2GiB'\n",
        ":2: evidence.max_log_bytes: expected at most",
    ),
    "log-lines": ("[kube]\nlog_lines=5000000\n", ":2: kube.log_lines: expected at most 1,000,000"),
    "table-not-table": ("prometheus = 5\n", "prometheus"),
    "actor-empty": ("actor = ' '\n", "actor: must not be empty"),
    "unknown-severity": ("[severity.P7]\nrespond_within='5m'\n", "severity.P7"),
}
CASES += [Case(f"toml-{n}", ("list",), 2, says, toml=text) for n, (text, says) in TOMLS.items()]
CASES += [
    Case(
        "keymap-typo",
        ("keys",),
        2,
        "keymap.noet: no key named 'noet' (did you mean note?)",
        toml="[keymap]\nnoet = 'x'\n",
    ),
    Case("keymap-hijack", ("keys",), 2, "keymap", toml="[keymap]\nnote = 'q'\n"),
]


def _run(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, monkeypatch, capsys) -> None:
    data = tmp_path / "d"
    monkeypatch.setenv("WARROOM_DATA_DIR", str(data))
    monkeypatch.setenv("USER", "ann")
    for name in ("WARROOM_CONFIG", "PROMETHEUS_URL", "ALERTMANAGER_URL", "WARROOM_READ_ONLY"):
        monkeypatch.delenv(name, raising=False)
    if case.older_open:
        assert _run(["declare", "--title", "older", "--severity", "P2"], capsys)[0] == 0
        older = capsys and sorted(p.stem for p in (data / "incidents").glob("*.json"))[0]
        assert _run(["note", "--incident", older, "kept"], capsys)[0] == 0
    code, out, _ = _run(["declare", "--title", "x", "--severity", "P2"], capsys)
    assert code == 0
    incident = out.strip()
    assert _run(["note", "--incident", incident, "the note before"], capsys)[0] == 0
    file = data / "incidents" / f"{incident}.json"
    before = file.read_bytes()
    if case.damage:
        file.write_bytes(DAMAGES[case.damage](before))
    damaged = file.read_bytes()
    argv = [a.replace("{inc}", incident).replace("{tmp}", str(tmp_path)) for a in case.args]
    if case.toml:
        cfg = tmp_path / "warroom.toml"
        cfg.write_text(case.toml)
        argv = ["--config", str(cfg), *argv]
    for k, v in case.env.items():
        monkeypatch.setenv(k, v)

    code, out, err = _run(argv, capsys)

    assert "Traceback" not in err + out
    for ch in ("\x1b", "\x07", "\u202e", "\x9b"):
        assert ch not in err + out, f"{ch!r} reached the terminal"
    lines = err.strip().splitlines()
    warnings = [line for line in lines if line.startswith("warroom: skipped incident")]
    problems = [line for line in lines if line not in warnings]
    assert code == case.code, (code, err, out)
    if case.code:
        assert len(problems) == 1 and problems[0].startswith("warroom: "), err
        assert case.says in problems[0] + "".join(warnings)
    else:
        assert case.says in out + err
    if case.damage:
        assert file.read_bytes() == damaged  # nothing rewritten without the user asking
        assert len(warnings) <= 1
    else:
        from warroom.store.tinydb import TinyDBRepository

        with TinyDBRepository(data).open(incident, read_only=True) as store:
            assert "the note before" in [e.text for e in store.events()]


def test_the_table_is_big_enough() -> None:
    assert len(CASES) > 150
    assert len({c.name for c in CASES}) == len(CASES)


def test_no_case_left_the_real_root_touched() -> None:
    assert not os.path.exists("/nonexistent")
