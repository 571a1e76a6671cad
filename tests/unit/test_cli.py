"""The CLI as a user runs it: real processes, real files, exit codes and one-line errors."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(*args: str, data: Path, env: dict | None = None, check: bool = True):
    full_env = {**os.environ, "WARROOM_DATA_DIR": str(data), "USER": "ann", **(env or {})}
    full_env.pop("WARROOM_CONFIG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "warroom", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}: {proc.stderr}")
    return proc


def test_declare_note_list_export_verify(tmp_path: Path) -> None:
    data = tmp_path / "d"
    out = run("declare", "--title", "Checkout | down", "--severity", "P1", data=data)
    incident = out.stdout.strip()
    assert incident.startswith("INC-")
    note = run("note", "TODO: add a canary", data=data)
    assert note.stdout.startswith(f"{incident} #3 ")
    run("--as", "bo", "ack", data=data)
    run("status", "identified", "bad", "deploy", data=data)
    run("role", "tech_lead", "Bo", "Li", data=data)
    listing = run("list", data=data).stdout
    assert incident in listing and "P1" in listing and "identified" in listing
    md = run("export", incident, "--format", "md", data=data).stdout
    assert "# Incident report: " in md and "Checkout \\| down" in md
    assert "- [ ] A1: add a canary (no owner, no due date): open" in md
    target = tmp_path / "pm.json"
    run("export", incident, "--format", "json", "-o", str(target), data=data)
    doc = json.loads(target.read_text())
    assert doc["incident"]["roles"] == {"tech_lead": "Bo Li"}
    assert [e["actor"] for e in doc["events"] if e["kind"] == "ack"] == ["bo"]
    ok = run("verify", incident, data=data)
    assert "chain intact" in ok.stdout
    run("resolve", "rolled", "back", data=data)
    assert "no incidents" not in run("list", data=data).stdout
    assert run("list", "--open", data=data).stdout.startswith("no open incidents")


def test_verify_names_the_tampered_event(tmp_path: Path) -> None:
    data = tmp_path / "d"
    incident = run("declare", "--title", "x", "--severity", "P2", data=data).stdout.strip()
    for i in range(3):
        run("note", f"note {i}", data=data)
    from warroom.store.tinydb import TinyDBRepository

    store = TinyDBRepository(data).open(incident)
    store.close()
    # Tamper: rewrite note 1's text wherever it was persisted.
    changed = 0
    for f in data.glob("incidents/*"):
        if f.is_file() and f.suffix != ".lock":
            text = f.read_text()
            if "note 1" in text:
                f.write_text(text.replace("note 1", "note X"))
                changed += 1
    assert changed
    bad = run("verify", incident, data=data, check=False)
    assert bad.returncode == 1
    assert "event 4" in bad.stderr and "altered" in bad.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("declare", "--title", "x", "--severity", "P9"), 1, "unknown severity 'P9'"),
        (("note", "--incident", "INC-nope", "hi"), 1, "no incident 'INC-nope'"),
        (("export", "../../etc/passwd"), 1, "bad incident id"),
        (("note", "hello"), 1, "no open incident"),
        (("export", "INC-1", "--format", "pdf"), 2, "invalid choice"),
    ],
)
def test_bad_input_is_one_clear_line(tmp_path: Path, args, code, message) -> None:
    proc = run(*args, data=tmp_path / "d", check=False)
    assert proc.returncode == code
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


def test_broken_config_exits_2_naming_file_and_line(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[severity.P0]\nrespond_within = 15\nupdate_every = 'whenever'\n")
    proc = run("--config", str(cfg), "list", data=tmp_path / "d", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"warroom: {cfg}:3: severity.P0.update_every: not a duration: 'whenever' "
        "(use e.g. 90s, 15m, 1h30m, 2d)"
    )
    assert len(proc.stderr.strip().splitlines()) == 1


def test_version() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "warroom", "--version"], capture_output=True, text=True
    )
    assert proc.stdout.strip().startswith("warroom 0.")


WORKER = """
import sys
from warroom.cli import main
who, incident = sys.argv[1], sys.argv[2]
for j in range(200):
    code = main(["--as", who, "note", "--incident", incident, f"{who} note {j}"])
    assert code == 0, code
"""


def test_four_cli_processes_append_800_notes(tmp_path: Path) -> None:
    data = tmp_path / "d"
    incident = run("declare", "--title", "busy", "--severity", "P2", data=data).stdout.strip()
    env = {**os.environ, "WARROOM_DATA_DIR": str(data)}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, f"w{i}", incident],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    from warroom.store.tinydb import TinyDBRepository

    with TinyDBRepository(data).open(incident, read_only=True) as store:
        events = store.events()
        assert store.verify().ok
    notes = [e for e in events if e.kind == "note"]
    assert len(notes) == 800
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    for i in range(4):
        mine = [e.text for e in notes if e.actor == f"w{i}"]
        assert mine == [f"w{i} note {j}" for j in range(200)]  # each writer's order kept


def test_evidence_lists_no_bundles_and_rejects_unknown(tmp_path: Path) -> None:
    data = tmp_path / "d"
    incident = run("declare", "--title", "x", "--severity", "P2", data=data).stdout.strip()
    assert run("evidence", incident, data=data).stdout.strip() == f"{incident}: no evidence bundles"
    bad = run("evidence", "INC-nope", data=data, check=False)
    assert bad.returncode == 1 and "no incident 'INC-nope'" in bad.stderr
