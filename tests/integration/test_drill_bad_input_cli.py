"""Bad drill input as a person meets it, in a real process: `python -m warroom.drill.serve` and
`warroom drill` answer with one line on stderr and exit 2, never a traceback or a hang; a world
that cannot start is one line and exit 1 (issue #23)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_drill_bad_scenarios import CASES as SCENARIO_CASES
from tests.unit.test_drill_bad_scenarios import case_text
from tests.unit.test_drill_bad_scripts import CASES as SCRIPT_CASES

pytestmark = pytest.mark.integration
HANG_GUARD = 60  # seconds; a hang fails the test instead of stalling the suite
SERVE_CASES = [
    "empty file",
    "a list instead of a mapping",
    "unclosed flow list",
    "NUL character",
    "duplicate key in a workload",
    "unknown workload key",
    "a hundred million replicas",
    "too many pods in all",
    "replicas is NaN",
    "duration beyond timedelta",
    "ref with a short kind",
    "duplicate workload",
    "unknown workload in a trigger",
]


def run(*args: str, cwd: Path, data: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "USER": "ann", "WARROOM_DATA_DIR": str(data or cwd / "data")}
    env.pop("WARROOM_CONFIG", None)
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd,
        timeout=HANG_GUARD, check=False,
    )  # fmt: skip


def one_error_line(proc: subprocess.CompletedProcess[str], code: int) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.splitlines()
    assert proc.returncode == code and len(lines) == 1, (proc.returncode, proc.stderr)
    return lines[0]


@pytest.mark.parametrize("name", SERVE_CASES)
def test_serve_a_broken_scenario_file(name: str, tmp_path: Path) -> None:
    _, old, new, fragment = next(c for c in SCENARIO_CASES if c[0] == name)
    text, _ = case_text(old, new)
    (tmp_path / "broken.yaml").write_text(text, encoding="utf-8")
    proc = run("-m", "warroom.drill.serve", "--scenario", "./broken.yaml", cwd=tmp_path)
    line = one_error_line(proc, 2)
    assert line.startswith("error: ./broken.yaml:") and fragment in line, line
    assert proc.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--scenario", "nope"],
            "error: nope: no such scenario; shipped: compromised-pod, crashloop-after-deploy",
        ),
        (["--scenario", "./nope.yaml"], "error: ./nope.yaml: file not found"),
        (["--scenario", "./"], "error: ./: is a directory, not a YAML file"),
        (["--speed", "nan"], "error: speed: must be a number from 0.01 to 1000, got nan"),
        (["--speed", "inf"], "error: speed: must be a number from 0.01 to 1000, got inf"),
        (["--speed", "-1"], "error: speed: must be a number from 0.01 to 1000, got -1.0"),
        (["--speed", "0"], "error: speed: must be a number from 0.01 to 1000, got 0.0"),
        (["--extra-pods", "100000000"], "error: extra pods: must be a whole number from 0 to"),
    ],
)
def test_serve_bad_options(args: list[str], message: str, tmp_path: Path) -> None:
    proc = run("-m", "warroom.drill.serve", *args, cwd=tmp_path)
    assert one_error_line(proc, 2).startswith(message)


def test_serve_a_world_that_cannot_start(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")  # not a directory to write into
    kubeconfig = tmp_path / "a-file" / "kubeconfig"
    proc = run("-m", "warroom.drill.serve", "--kubeconfig", str(kubeconfig), cwd=tmp_path)
    line = one_error_line(proc, 1)
    assert line.startswith("error: the drill world did not start: ") and "a-file" in line


def test_serve_a_scenario_by_relative_path(tmp_path: Path) -> None:
    text, _ = case_text("name: tiny\n", "name: mine\n")
    (tmp_path / "my.yaml").write_text(text, encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "warroom.drill.serve", "--scenario", "./my.yaml"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(7)]  # the banner, through "Ctrl-C"
        assert lines[0].startswith("scenario:     mine (mine), speed x1"), lines
        assert lines[-1].startswith("Ctrl-C to stop."), lines
        kubeconfig = Path(lines[4].split()[-1])
        assert kubeconfig.is_file() and "127.0.0.1" in kubeconfig.read_text(encoding="utf-8")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(HANG_GUARD) == 0
    finally:
        proc.kill()
        proc.wait(HANG_GUARD)


# --- the same input through `warroom drill` (what the lead wires in the CLI) ---------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "nope: no such scenario"),
        (["--speed", "nan"], "speed: must be a number from 0.01 to 1000, got nan"),
        (["--speed", "inf"], "speed: must be a number from 0.01 to 1000, got inf"),
        (["./broken.yaml"], "./broken.yaml:10: workloads[0].replicas: 100000000 is over the limit"),
    ],
)
def test_warroom_drill_bad_input(args: list[str], message: str, tmp_path: Path) -> None:
    text, _ = case_text("    replicas: 2\n", "    replicas: 100000000\n")
    (tmp_path / "broken.yaml").write_text(text, encoding="utf-8")
    proc = run("-m", "warroom", "drill", *args, cwd=tmp_path)
    assert message in one_error_line(proc, 2)


@pytest.mark.parametrize("name", ["speed NaN", "at beyond timedelta", "do a list", "key a list"])
def test_warroom_drill_broken_script(name: str, tmp_path: Path) -> None:
    _, text, fragment = next(c for c in SCRIPT_CASES if c[0] == name)
    (tmp_path / "run.yaml").write_text(text, encoding="utf-8")
    proc = run("-m", "warroom", "drill", "--script", "run.yaml", cwd=tmp_path)
    line = one_error_line(proc, 2)
    assert "run.yaml:" in line and fragment in line, line
