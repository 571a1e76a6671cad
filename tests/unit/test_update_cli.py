"""`warroom update` without --text: the same prefill as the console's composer, in $EDITOR."""

import stat
import sys
from pathlib import Path

from tests.unit.test_cli import run

# An "editor": a Python script run as `$EDITOR FILE`; it keeps a copy of what it was given and
# writes what the test asks for.
EDITOR = """
import os, sys, shutil
path = sys.argv[1]
shutil.copy(path, os.environ["SEEN"])
mode = os.environ["MODE"]
if mode == "perm":
    open(os.environ["SEEN"], "w").write(oct(os.stat(path).st_mode))
    sys.exit(1)
if mode == "fail":
    sys.exit(1)
text = open(path).read()
if mode == "empty":
    text = "# only comments left\\n"
elif mode == "edit":
    text = text.replace("Impact:\\nTBD", "Impact:\\nCarts fail for everyone")
open(path, "w").write(text)
"""


def editor(tmp_path: Path, mode: str) -> dict:
    script = tmp_path / "editor.py"
    script.write_text(EDITOR)
    return {"EDITOR": f"{sys.executable} {script}", "SEEN": str(tmp_path / "seen"), "MODE": mode}


def updates(data: Path, incident: str) -> list[str]:
    out = run("export", incident, "--format", "json", data=data).stdout
    import json

    return [e["text"] for e in json.loads(out)["events"] if e["kind"] == "update"]


def test_update_opens_the_editor_on_the_prefill_and_sends_the_edit(tmp_path: Path) -> None:
    data = tmp_path / "d"
    incident = run("declare", "--title", "Carts fail", "--severity", "P1", data=data).stdout.strip()
    run("note", "Next: roll back cart to 1.30", data=data)
    draft = run("update", incident, "--draft", data=data).stdout
    assert draft.startswith("INCIDENT NOTIFICATION: ") and "- roll back cart to 1.30" in draft
    out = run("update", incident, data=data, env=editor(tmp_path, "edit"))
    assert f"{incident} #" in out.stdout and "notification recorded" in out.stdout
    seen = (tmp_path / "seen").read_text()
    assert seen.startswith("# notification for ") and draft.strip() in seen
    (sent,) = updates(data, incident)
    assert "Impact:\nCarts fail for everyone" in sent and "#" not in sent.splitlines()[0]
    assert "TBD" not in sent


def test_an_empty_or_aborted_edit_sends_nothing(tmp_path: Path) -> None:
    data = tmp_path / "d"
    incident = run("declare", "--title", "Carts fail", "--severity", "P2", data=data).stdout.strip()
    for mode in ("empty", "fail"):
        out = run("update", data=data, env=editor(tmp_path, mode), check=False)
        assert out.returncode == 1 and "nothing sent" in out.stdout, out
    assert updates(data, incident) == []


def test_no_editor_and_no_terminal_is_a_usage_error(tmp_path: Path) -> None:
    data = tmp_path / "d"
    run("declare", "--title", "Carts fail", "--severity", "P2", data=data)
    out = run("update", data=data, env={"EDITOR": "", "VISUAL": ""}, check=False)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "warroom: no --text and no $EDITOR: pass --text TEXT (or '-' for stdin)"
    )


def test_the_draft_file_is_private(tmp_path: Path) -> None:
    data = tmp_path / "d"
    run("declare", "--title", "Carts fail", "--severity", "P2", data=data)
    env = editor(tmp_path, "perm")
    run("update", data=data, env=env, check=False)
    mode = int((tmp_path / "seen").read_text(), 8)
    assert stat.S_IMODE(mode) == 0o600


def test_the_draft_is_the_audiences_and_an_unknown_audience_is_one_line(tmp_path: Path) -> None:
    data = tmp_path / "d"
    incident = run("declare", "--title", "Carts fail", "--severity", "P1", data=data).stdout.strip()
    draft = run("update", incident, "--draft", "--audience", "executives", data=data).stdout
    assert draft.startswith("EXECUTIVE BRIEFING: ")
    bad = run("update", incident, "--audience", "nope", data=data, check=False,
              env=editor(tmp_path, "edit"))  # fmt: skip
    assert bad.returncode != 0 and not (tmp_path / "seen").exists()  # no editor opened
    assert bad.stderr.strip() == "warroom: no audience 'nope' in the settings ([audiences])"
    assert updates(data, incident) == []
