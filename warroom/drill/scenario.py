"""Drill scenarios: find and load them (a shipped name or a YAML path). The scenario's types
are in scenario_types.py (re-exported here), its parser in scenario_parse.py."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from warroom.drill.scenario_parse import parse
from warroom.drill.scenario_types import (
    ACTION_KINDS,
    HEALTHY,
    MAX_CONTAINERS,
    MAX_EXTRA_PODS,
    MAX_NODES,
    MAX_REPLICAS,
    MAX_SCENARIO_PODS,
    MAX_SECONDS,
    MAX_SPEED,
    MAX_WORKLOADS,
    MIN_LOG_EVERY,
    MIN_SPEED,
    TRIGGER_KINDS,
    WORKLOAD_KINDS,
    Action,
    AlertSpec,
    Behavior,
    CheckSpec,
    ContainerSpec,
    CrashSpec,
    DrillInputError,
    LogProfile,
    MetricSpec,
    NodeSpec,
    Reaction,
    RunOptionError,
    Scenario,
    ScenarioError,
    TimelineEntry,
    Timings,
    Trigger,
    Workload,
    check_extra_pods,
    check_speed,
    normalize_expr,
)
from warroom.drill.yaml_fields import did_you_mean, one_line
from warroom.drill.yaml_lines import YamlProblem, read_yaml_text

__all__ = [
    "ACTION_KINDS",
    "HEALTHY",
    "MAX_CONTAINERS",
    "MAX_EXTRA_PODS",
    "MAX_NODES",
    "MAX_REPLICAS",
    "MAX_SCENARIO_PODS",
    "MAX_SECONDS",
    "MAX_SPEED",
    "MAX_WORKLOADS",
    "MIN_LOG_EVERY",
    "MIN_SPEED",
    "TRIGGER_KINDS",
    "WORKLOAD_KINDS",
    "Action",
    "AlertSpec",
    "Behavior",
    "CheckSpec",
    "ContainerSpec",
    "CrashSpec",
    "DrillInputError",
    "LogProfile",
    "MetricSpec",
    "NodeSpec",
    "Reaction",
    "RunOptionError",
    "Scenario",
    "ScenarioError",
    "TimelineEntry",
    "Timings",
    "Trigger",
    "Workload",
    "check_extra_pods",
    "check_speed",
    "list_scenarios",
    "load_scenario",
    "load_scenario_file",
    "normalize_expr",
    "parse_scenario",
]


def _scenario_dir() -> Any:
    return resources.files("warroom.config").joinpath("scenarios")


def _parse_text(text: str, source: str) -> Scenario:
    return parse(text, source)


def list_scenarios() -> list[tuple[str, str, str]]:
    """(name, title, description) of every shipped scenario, sorted by name."""
    out = []
    for entry in sorted(_scenario_dir().iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            sc = _parse_text(entry.read_text(encoding="utf-8"), entry.name)
            out.append((sc.name, sc.title, sc.description))
    return out


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A YAML file by path (a Path, or text with a '/', a .yaml/.yml suffix, or naming an
    existing file), else a shipped scenario by name."""
    text = str(name_or_path)
    p = Path(text)
    if isinstance(name_or_path, Path) or "/" in text or p.suffix in (".yaml", ".yml"):
        return load_scenario_file(text)
    if "\x00" not in text and p.is_file():
        return load_scenario_file(text)
    shipped = [e.name[:-5] for e in _scenario_dir().iterdir() if e.name.endswith(".yaml")]
    if text not in shipped:
        known = ", ".join(sorted(shipped))
        raise ScenarioError(
            one_line(f"{text}: no such scenario{did_you_mean(text, shipped)}; shipped: {known}")
        )
    entry = _scenario_dir().joinpath(f"{text}.yaml")
    return _parse_text(entry.read_text(encoding="utf-8"), entry.name)


def load_scenario_file(path: str | Path) -> Scenario:
    """A scenario from a YAML file; unreadable, binary or oversized files are ScenarioErrors.
    Errors name the path as given ("./my.yaml")."""
    try:
        text = read_yaml_text(Path(path))
    except YamlProblem as e:
        where = f"{path}:{e.line}" if e.line else str(path)
        raise ScenarioError(one_line(f"{where}: {e.problem}")) from None
    return _parse_text(text, str(path))


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    return _parse_text(text, source)
