"""The health modules are core: importing them must not pull in Textual or Rich."""

import subprocess
import sys


def test_health_modules_import_without_textual() -> None:
    code = (
        "import sys, warroom.health, warroom.snapshots, warroom.sources.prometheus, "
        "warroom.sources.alertmanager; "
        "bad = [m for m in ('textual', 'rich') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
