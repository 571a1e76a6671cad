"""The architecture is checked, not hoped for (DESIGN.md section 2, ARCHITECTURE.md):
the import-linter contracts of pyproject.toml, the size of modules, and what importing the
core costs at run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_LINES = 500


def staged(tmp: Path) -> Path:
    """warroom as installed: widgets/ and config/ are the packages warroom.widgets and
    warroom.config (setuptools package-dir), which import-linter can only see laid out so."""
    pkg = tmp / "warroom"
    shutil.copytree(ROOT / "warroom", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "widgets", pkg / "widgets", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "config", pkg / "config", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp


def test_import_contracts_hold(tmp_path: Path) -> None:
    stage = staged(tmp_path)
    lint = Path(sys.executable).with_name("lint-imports")
    proc = subprocess.run(
        [str(lint), str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=stage,
        env={"PYTHONPATH": str(stage), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout


@pytest.mark.parametrize("folder", ["warroom", "widgets"])
def test_no_module_over_500_lines(folder: str) -> None:
    big = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / folder).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert big == {}


def test_importing_the_core_loads_no_ui_and_no_heavy_client() -> None:
    """Headless verbs start fast: the core imports neither Textual/Rich (UI) nor the
    kubernetes client and httpx (imported lazily, after the console's first frame)."""
    code = (
        "import sys\n"
        "import warroom.cli, warroom.cli.incident, warroom.cli.records, warroom.cli.drill\n"
        "import warroom.bootstrap, warroom.room, warroom.signals, warroom.report\n"
        "import warroom.store.tinydb, warroom.actions.updates, warroom.actions.evidence\n"
        "import warroom.actions.restart, warroom.sources.kube, warroom.sources.alertmanager\n"
        "import warroom.drill.world, warroom.drill.scoring, warroom.drill.report\n"
        "heavy = ('textual', 'rich', 'kubernetes', 'httpx')\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in heavy)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
