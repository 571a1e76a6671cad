"""Drill scripts: a responder's moves, replayed through the console for unattended drills (CI).

    # checkout-win.yaml: `warroom drill --script checkout-win.yaml --speed 20`
    scenario: crashloop-after-deploy     # optional: used when the command names no scenario
    speed: 20                            # optional: used when the command gives no --speed
    steps:
      - {at: 2s, do: ack}
      - {at: 3s, do: severity P1}
      - {at: 4s, do: update}             # opens the composer with the template, sends it
      - {at: 90s, do: evidence}          # incident-wide; `evidence POD` for one pod
      - {at: 95s, do: restart deployment/checkout-api}
      - {at: 96s, do: "note Root cause: promo cache reload races traffic"}
      - {at: 100s, do: kubectl scale deployment/inventory --replicas=4}   # a second terminal
      - {at: 150s, do: toggle all}       # or a phase id (`toggle contain`) or an item id
      - {at: 160s, do: resolve checkout recovered after the restart}
      - {at: 161s, key: q}               # raw keys, space-separated: "tab enter", "ctrl+d"

`at` is scenario time (s/m/h or plain seconds), the clock the scenario file is written in, so
a script replays the same story at any --speed. Steps run in order; a step never runs before
its time, and waits for what it needs (the pods of a workload, the main screen) for up to
STEP_TIMEOUT wall seconds. After the last step the console closes (unless a step quit it).
Named actions go through the console's own keys and dialogs (warroom/console/drill_script.py
runs them).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from warroom.model import parse_duration

ACTIONS = {
    "ack": "acknowledge (k)",
    "severity": "severity P0..P3 (s)",
    "status": "status investigating|identified|monitoring (t)",
    "note": "note TEXT (n)",
    "update": "send the templated status update (u, ctrl+s)",
    "evidence": "evidence [POD] (e)",
    "restart": "restart KIND/NAME: rollout restart from a pod row (2, r, confirm)",
    "delete": "delete POD|KIND/NAME: delete a pod (2, ctrl+d, confirm)",
    "toggle": "toggle all|PHASE|ITEM: checklist items (as space on the checklist)",
    "resolve": "resolve [SUMMARY] (t, resolved)",
    "kubectl": "kubectl ARGS: run kubectl against the drill cluster",
    "wait": "do nothing (a marker)",
    "quit": "close the console (q)",
}
STEP_TIMEOUT = 30.0


class ScriptError(ValueError):
    """A malformed script; the message reads `file: steps[i].key: problem`."""


@dataclass(frozen=True, slots=True)
class Step:
    at: float  # scenario seconds
    action: str  # one of ACTIONS, or "key"
    args: str = ""
    keys: tuple[str, ...] = ()
    where: str = ""

    def describe(self) -> str:
        return " ".join(self.keys) if self.action == "key" else f"{self.action} {self.args}".strip()


@dataclass(frozen=True, slots=True)
class Script:
    steps: tuple[Step, ...]
    scenario: str | None = None
    speed: float | None = None
    source: str = "<script>"


def load_script(path: str | Path) -> Script:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ScriptError(f"{p}: cannot read: {e.strerror or e}") from None
    return parse_script(text, str(p))


def parse_script(text: str, source: str = "<script>") -> Script:
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "yaml"
        raise ScriptError(f"{source}: {where}: invalid YAML") from None
    top: dict[str, Any] = {"steps": raw} if isinstance(raw, list) else raw
    if not isinstance(top, dict):
        raise ScriptError(f"{source}: a script is a mapping with `steps:` or a list of steps")
    extra = sorted(set(top) - {"steps", "scenario", "speed"})
    if extra:
        raise ScriptError(f"{source}: {extra[0]}: unknown key")
    speed = top.get("speed")
    if speed is not None and (
        isinstance(speed, bool) or not isinstance(speed, int | float) or speed <= 0
    ):
        raise ScriptError(f"{source}: speed: must be a positive number")
    items = top.get("steps")
    if not isinstance(items, list) or not items:
        raise ScriptError(f"{source}: steps: a non-empty list is required")
    steps = [_step(item, f"steps[{i}]", source) for i, item in enumerate(items)]
    for a, b in itertools.pairwise(steps):
        if b.at < a.at:
            raise ScriptError(f"{source}: {b.where}.at: steps must be in time order")
    scenario = top.get("scenario")
    return Script(
        tuple(steps), str(scenario) if scenario else None, float(speed) if speed else None, source
    )


def _step(item: Any, key: str, source: str) -> Step:
    def fail(k: str, problem: str) -> ScriptError:
        return ScriptError(f"{source}: {key}{k}: {problem}")

    if not isinstance(item, dict):
        raise fail("", "must be a mapping like {at: 20s, do: ack}")
    extra = sorted(set(item) - {"at", "do", "key"})
    if extra:
        raise fail(f".{extra[0]}", "unknown key")
    try:
        at = parse_duration(item.get("at", 0)).total_seconds()
    except ValueError as e:
        raise fail(".at", str(e)) from None
    if ("do" in item) == ("key" in item):
        raise fail("", "needs exactly one of `do:` (a named action) or `key:` (keys)")
    if "key" in item:
        keys = tuple(str(item["key"]).split())
        if not keys:
            raise fail(".key", "no keys")
        return Step(at, "key", keys=keys, where=key)
    words = str(item["do"]).strip()
    action, _, args = words.partition(" ")
    if action not in ACTIONS:
        raise fail(".do", f"unknown action {action!r} (known: {', '.join(ACTIONS)})")
    args = args.strip()
    needs_args = {"severity", "status", "note", "restart", "delete", "toggle", "kubectl"}
    if action in needs_args and not args:
        raise fail(".do", f"`{action}` needs an argument: {ACTIONS[action]}")
    return Step(at, action, args, where=key)
