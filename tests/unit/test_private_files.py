"""File modes (issue #23): the data dir 0700, warroom.log, exports and evidence 0600, also when
an older warroom left them 0755/0644 (tightened, said once); folders warroom does not own
(where `export -o` writes) are left as they are. The drill report is redacted like an export."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from warroom.cli import main
from warroom.report import write_export
from warroom.store import private
from warroom.store.private import private_dir, private_file, write_private


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture(autouse=True)
def forget_what_was_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(private, "_told", set())


def test_a_fresh_data_dir_is_0700_and_its_log_0600(tmp_path: Path) -> None:
    data = tmp_path / "a" / "b" / "data"
    private_dir(data)
    log = private_file(data / "warroom.log")
    assert mode(data) == 0o700 and mode(data.parent) == 0o700  # missing levels too
    assert mode(log) == 0o600


def test_older_modes_are_tightened_and_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o755)
    log = data / "warroom.log"
    log.write_text("old line\n")
    log.chmod(0o644)
    for _ in range(3):
        private_dir(data)
        private_file(log)
    assert mode(data) == 0o700 and mode(log) == 0o600
    assert log.read_text() == "old line\n"  # tightened, not rewritten
    said = [r.getMessage() for r in caplog.records if r.name == "warroom"]
    assert said == [
        f"tightened {data} from 0755 to 0700 (it holds incident records)",
        f"tightened {log} from 0644 to 0600 (it holds incident records)",
    ]


def test_an_export_replaces_a_0644_file_with_a_0600_one_and_leaves_the_folder(
    tmp_path: Path,
) -> None:
    out_dir = tmp_path / "shared"
    out_dir.mkdir()
    out_dir.chmod(0o755)
    old = out_dir / "pm.md"
    old.write_text("old")
    old.chmod(0o644)
    write_export([], old)
    assert mode(old) == 0o600 and old.read_text().startswith("#")
    assert mode(out_dir) == 0o755  # not ours: left alone
    new = write_private(tmp_path / "new" / "deep" / "x.json", "{}")
    assert mode(new) == 0o600 and mode(new.parent) == 0o700


def test_cli_declare_makes_the_data_dir_0700_and_tightens_an_old_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = tmp_path / "fresh"
    args = ["declare", "--title", "t", "--severity", "P2"]
    assert main([*args, "--data-dir", str(fresh)]) == 0
    assert mode(fresh) == 0o700 and mode(fresh / "incidents") == 0o700
    old = tmp_path / "old"
    old.mkdir()
    old.chmod(0o755)
    assert main([*args, "--data-dir", str(old)]) == 0
    assert mode(old) == 0o700
    assert f"tightened {old} from 0755 to 0700" in capsys.readouterr().err


def test_drill_report_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    from warroom.drill.report import report_path, write_report

    path = report_path(tmp_path, "DRILL-1")
    path.parent.mkdir(parents=True)
    path.parent.chmod(0o755)  # an older warroom's folder
    write_report(path, "# report\n")
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_drill_report_is_redacted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.fixtures.secrets import PLANTED
    from warroom.room import WarRoom
    from warroom.settings import load_settings
    from warroom.store.tinydb import TinyDBRepository

    settings = load_settings(env={"USER": "ann"}, data_dir=tmp_path / "data")
    room = WarRoom.declare(
        TinyDBRepository(settings.data_dir),
        settings,
        title="Drill: crash loop",
        severity="P3",
        drill=True,
        scenario="crashloop-after-deploy",
    )
    for p in PLANTED:
        room.add_note(p.line)
    room.store.close()
    argv = ["drill", "--report", room.incident_id, "--data-dir", str(settings.data_dir)]
    assert main(argv) == 0
    report = Path(capsys.readouterr().out.strip())
    text = report.read_text(encoding="utf-8")
    assert "[REDACTED]" in text and mode(report) == 0o600
    assert not [p.kind for p in PLANTED if p.secret in text]
