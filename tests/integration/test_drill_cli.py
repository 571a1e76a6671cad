"""`warroom drill --script` and `--report` as CI would run them: a real process, headless
console, the drill world on loopback, the report on disk, and the same score after the fact."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
SCRIPTS = Path(__file__).parent.parent / "drill_scripts"


def warroom(*args: str, data: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WARROOM_DATA_DIR": str(data), "USER": "ann"}
    env.pop("WARROOM_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "warroom", "drill", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


def test_script_runs_headless_to_a_report_and_report_rescores_it(tmp_path: Path) -> None:
    data = tmp_path / "d"
    # The kubectl variant: its kubectl step's output is echoed (error-spike-win scales from the
    # deployments view).
    script = SCRIPTS / "error-spike-kubectl-win.yaml"
    proc = warroom("--script", str(script), "--speed", "20", data=data)
    assert proc.returncode == 0, proc.stderr
    # every step is echoed with the scenario time it ran at
    assert re.search(r"^t\+(\d+[dhms])+ ack$", proc.stdout, re.M)  # any duration: a loaded CI
    assert "kubectl scale deployment/inventory --replicas=4: deployment.apps/inventory scaled" in (
        proc.stdout
    )
    found = re.search(r"Drill (DRILL-\S+) saved\. Drill report: (\S+\.md)", proc.stderr)
    assert found, proc.stderr
    incident, path = found.group(1), Path(found.group(2))
    first = path.read_text(encoding="utf-8")
    assert "**Result: WON, 100/100 points (100%).**" in first
    assert "speed x20" in first and "| t+" in first

    path.unlink()
    again = warroom("--report", incident, data=data, timeout=60)
    assert again.returncode == 0, again.stderr
    assert Path(again.stdout.strip()) == path
    assert path.read_text(encoding="utf-8") == first  # scored from the timeline alone


def test_report_refuses_an_incident_that_is_not_a_drill(tmp_path: Path) -> None:
    data = tmp_path / "d"
    env = {**os.environ, "WARROOM_DATA_DIR": str(data), "USER": "ann"}
    declared = subprocess.run(
        [sys.executable, "-m", "warroom", "declare", "--title", "real", "--severity", "P2"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    proc = warroom("--report", declared.stdout.strip(), data=data, timeout=60)
    assert proc.returncode == 1 and "is not a drill" in proc.stderr


def test_a_broken_script_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [{at: 1, do: dance}]\n", encoding="utf-8")
    proc = warroom("--script", str(bad), data=tmp_path / "d", timeout=60)
    assert proc.returncode == 2 and "steps[0].do: unknown action 'dance'" in proc.stderr


def test_list_shows_titles_not_the_fix(tmp_path: Path) -> None:
    proc = warroom("--list", data=tmp_path / "d", timeout=60)
    assert proc.returncode == 0
    names = [line.split()[0] for line in proc.stdout.splitlines()]
    assert names == [
        "compromised-pod",
        "crashloop-after-deploy",
        "error-spike-dependency",
        "node-loss",
    ]
    assert "kubectl" not in proc.stdout and "restart" not in proc.stdout  # no spoilers


def test_kubectl_step_aimed_at_another_cluster_is_refused_before_the_drill(
    tmp_path: Path,
) -> None:
    other = tmp_path / "OTHER.yaml"
    other.write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
    bad = tmp_path / "f.yaml"
    bad.write_text(
        f'steps:\n  - {{at: 1s, do: ack}}\n  - {{at: 2s, do: "kubectl --kubeconfig={other} '
        '-n shop delete pod x"}\n',
        encoding="utf-8",
    )
    proc = warroom("--script", str(bad), data=tmp_path / "d", timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert f"{bad}:3: steps[1].do: --kubeconfig is not allowed" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_read_only_drill_refuses_a_kubectl_step_that_changes_the_cluster(tmp_path: Path) -> None:
    bad = tmp_path / "f.yaml"
    bad.write_text(
        "scenario: crashloop-after-deploy\nsteps:\n  - {at: 1s, do: ack}\n"
        '  - {at: 2s, do: "kubectl get pods"}\n'
        '  - {at: 3s, do: "kubectl -n shop delete pod x"}\n',
        encoding="utf-8",
    )
    env = {**os.environ, "WARROOM_DATA_DIR": str(tmp_path / "d"), "USER": "ann"}
    env.pop("WARROOM_CONFIG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "warroom", "--read-only", "drill", "--script", str(bad)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"{bad}:5: steps[2].do: kubectl delete may change the cluster" in proc.stderr
    assert "read-only" in proc.stderr and "Traceback" not in proc.stderr
