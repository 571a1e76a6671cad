"""Scenario and script files that cannot be read as YAML text (missing, a directory, a FIFO,
unreadable, not UTF-8, too big) are one error line naming the file; scenarios load by name and
by path; the run options (speed, extra pods) are range-checked before any thread starts."""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from warroom.drill.scenario import (
    RunOptionError,
    ScenarioError,
    check_extra_pods,
    check_speed,
    load_scenario,
)
from warroom.drill.script import ScriptError, load_script
from warroom.drill.world import DrillWorld
from warroom.drill.yaml_lines import MAX_FILE_BYTES

SCENARIO = "name: tiny\nnamespace: demo\nnodes: [node-a]\nworkloads:\n  - {name: web, image: x}\n"
SCRIPT = "steps:\n  - {at: 1s, do: ack}\n"
LOADERS: dict[str, tuple[Callable[[Path], object], type[Exception], str]] = {
    "scenario": (load_scenario, ScenarioError, SCENARIO),
    "script": (load_script, ScriptError, SCRIPT),
}


def _error(kind: str, path: Path) -> str:
    load, error, _ = LOADERS[kind]
    with pytest.raises(error) as caught:  # any other exception fails the test
        load(path)
    msg = str(caught.value)
    assert type(caught.value) is error and "\n" not in msg, msg
    return msg


@pytest.mark.parametrize("kind", LOADERS)
def test_missing_file(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert _error(kind, path) == f"{path}: file not found"


@pytest.mark.parametrize("kind", LOADERS)
def test_directory(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "dir.yaml"
    path.mkdir()
    assert _error(kind, path) == f"{path}: is a directory, not a YAML file"


@pytest.mark.parametrize("kind", LOADERS)
def test_fifo_is_refused_not_read(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)  # opening it to read would block until a writer came
    assert _error(kind, path) == f"{path}: is not a regular file"


@pytest.mark.parametrize("kind", LOADERS)
def test_non_utf8_bytes_name_the_line(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"# comment\nname: tiny\ntitle: caf\xe9\n")
    assert _error(kind, path) == f"{path}:3: not UTF-8 text (byte 0xe9)"


@pytest.mark.parametrize("kind", LOADERS)
def test_oversized_file(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_FILE_BYTES + 1))
    assert f"{path}: is {MAX_FILE_BYTES + 1} bytes; the limit is" in _error(kind, path)


@pytest.mark.parametrize("kind", LOADERS)
def test_nul_in_the_name(kind: str) -> None:
    assert _error(kind, Path("a\x00b.yaml")).endswith(": is not a valid file name")


@pytest.fixture
def open_dir() -> Iterator[Path]:
    """A directory anyone may enter (pytest's tmp_path is root-only, 0700)."""
    d = Path(tempfile.mkdtemp(prefix="warroom-unreadable-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d)


def _as_nobody(load: Callable[[Path], object], path: Path) -> str:
    """load(path) in a forked child that gave up root (root reads any file); its outcome."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        out = "no error"
        try:
            os.close(r)
            os.setgid(65534)
            os.setuid(65534)
            load(path)
        except Exception as e:
            out = f"{type(e).__name__}: {e}"
        finally:
            os.write(w, out.encode())
            os._exit(0)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


@pytest.mark.parametrize("kind", LOADERS)
def test_unreadable_file(kind: str, open_dir: Path) -> None:
    load, error, text = LOADERS[kind]
    path = open_dir / "secret.yaml"
    path.write_text(text, encoding="utf-8")
    path.chmod(0o000)
    expected = f"{error.__name__}: {path}: cannot read: permission denied"
    if os.geteuid() == 0:
        assert _as_nobody(load, path) == expected
    else:
        assert f"{error.__name__}: {_error(kind, path)}" == expected


def test_a_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + SCENARIO.encode())
    assert load_scenario(path).name == "tiny"


# --- by name and by path ---------------------------------------------------------------------


@pytest.mark.parametrize("spelled", ["./my.yaml", "my.yaml", "my.yml", "my", "sub/../my.yaml"])
def test_load_by_relative_path(spelled: str, tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "sub").mkdir()
    for name in ("my.yaml", "my.yml", "my"):
        (tmp_path / name).write_text(SCENARIO, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    sc = load_scenario(spelled)
    assert sc.name == "tiny" and sc.source == spelled


def test_a_path_error_names_the_path_as_given(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "my.yaml").write_text(SCENARIO.replace("nodes: [node-a]", "nodes: 5"), "utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError, match=r"^\./my\.yaml:3: nodes: must be a list, got a num"):
        load_scenario("./my.yaml")


def test_a_name_is_a_shipped_scenario_even_beside_a_directory_of_that_name(
    tmp_path: Path, monkeypatch
) -> None:
    (tmp_path / "node-loss").mkdir()
    monkeypatch.chdir(tmp_path)
    assert load_scenario("node-loss").name == "node-loss"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("nope", "nope: no such scenario; shipped: compromised-pod, crashloop-after-deploy, "),
        ("node-los", "node-los: no such scenario (did you mean 'node-loss'?); shipped: "),
        ("", ": no such scenario; shipped: "),
        ("a\nb", "a\\nb: no such scenario; shipped: "),
    ],
)
def test_unknown_scenario_name(name: str, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(name)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


# --- run options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "speed", [math.nan, math.inf, -math.inf, 0, 0.0, -1, 1e-9, 1001, 10**400, True, "5", None]
)
def test_bad_speed(speed: object) -> None:
    with pytest.raises(RunOptionError, match=r"^speed: must be a number from 0\.01 to 1000, got"):
        check_speed(speed)


@pytest.mark.parametrize("speed", [0.01, 1, 20.0, 1000])
def test_good_speed(speed: float) -> None:
    assert check_speed(speed) == float(speed)


@pytest.mark.parametrize("extra", [-1, 200_001, 10**9, 1.5, True, None])
def test_bad_extra_pods(extra: object) -> None:
    with pytest.raises(RunOptionError, match=r"^extra pods: must be a whole number from 0 to"):
        check_extra_pods(extra)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"scenario": "nope"}, "nope: no such scenario"),
        ({"speed": math.nan}, "speed: must be a number"),
        ({"extra_pods": 100_000_000}, "extra pods: must be a whole number"),
    ],
)
def test_a_world_refuses_bad_input_before_any_thread_or_server(kwargs: dict, error: str) -> None:
    threads = threading.active_count()
    with pytest.raises(ScenarioError, match=error):
        DrillWorld(**kwargs)
    assert threading.active_count() == threads
