"""Shared test setup. Server fixtures live in tests/fixtures/*.py, loaded as plugins."""

from pathlib import Path

import pytest

# The fixture plugins import each other: rewrite the asserts of all of them, whichever order
# they are imported in (else pytest warns that a module was imported before it could).
pytest.register_assert_rewrite("tests.fixtures")

pytest_plugins = sorted(
    f"tests.fixtures.{p.stem}"
    for p in (Path(__file__).parent / "fixtures").glob("*.py")
    if not p.stem.startswith("_")
)
