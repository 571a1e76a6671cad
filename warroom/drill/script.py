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
      - {at: 97s, do: scale deployment/inventory 4}     # or rollback, force-delete, cordon, drain
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

Errors are one ScriptError line, `file:line: steps[i].key: problem`. `check_script` checks a
parsed script against the scenario it will run (the workloads and pods its steps name).
"""

from __future__ import annotations

import itertools
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warroom.drill.kubectl_guard import kubectl_problem, read_only_problem
from warroom.drill.scenario import (
    MAX_SECONDS,
    MAX_SPEED,
    MIN_SPEED,
    WORKLOAD_KINDS,
    DrillInputError,
    Scenario,
)
from warroom.drill.yaml_fields import FieldReader, did_you_mean, one_line, shown, suggest
from warroom.drill.yaml_lines import YamlMap, YamlProblem, load_yaml, read_yaml_text
from warroom.model import Role, Severity, Status

ACTIONS = {
    "ack": "acknowledge (k)",
    "severity": "severity P0..P3 [WHY] (s, the level, the reason)",
    "status": "status investigating|identified|monitoring (t)",
    "note": "note TEXT (n)",
    "update": "send the templated status update (u, ctrl+s)",
    "evidence": "evidence [POD] (e)",
    "restart": "restart KIND/NAME: rollout restart from a pod row (2, r, confirm)",
    "delete": "delete POD|KIND/NAME: delete a pod (2, ctrl+d, confirm)",
    "force-delete": "force-delete POD|KIND/NAME: grace period 0 (2, ctrl+k, type the name)",
    "scale": "scale KIND/NAME N: set its replicas (2, :deploy, c, N, confirm)",
    "rollback": "rollback KIND/NAME [REVISION]: rollout undo (2, :deploy, b, pick, confirm)",
    "cordon": "cordon NODE: mark it unschedulable (2, :nodes, c, confirm)",
    "uncordon": "uncordon NODE: schedulable again (2, :nodes, c, confirm)",
    "drain": "drain NODE: cordon and evict its pods (2, :nodes, D, confirm)",
    "quarantine": "quarantine POD|KIND/NAME: evidence, then isolate a pod (2, Q, confirm)",
    "toggle": "toggle all|PHASE|ITEM: checklist items (as space on the checklist)",
    "resolve": "resolve [SUMMARY] (t, resolved)",
    "role": "role ROLE NAME: assign a role (o, choose, name)",
    "escalate": "escalate WHO (E)",
    "kubectl": "kubectl ARGS: run kubectl against the drill cluster",
    "wait": "wait [ITEM]: a marker; with a checklist item, until an event ticks it",
    "quit": "close the console (q)",
}
# Steps on a workload or a pod.
KUBE_STEPS = ("restart", "delete", "force-delete", "quarantine", "scale", "rollback")
NODE_STEPS = ("cordon", "uncordon", "drain")
NEEDS_ARGS = {
    "severity",
    "status",
    "note",
    "toggle",
    "kubectl",
    "role",
    "escalate",
    *KUBE_STEPS,
    *NODE_STEPS,
}
NO_ARGS = {"ack", "update", "quit"}
ONE_WORD = {
    "status",
    "restart",
    "delete",
    "force-delete",
    "quarantine",
    "toggle",
    "evidence",
    "wait",
}
ONE_WORD |= set(NODE_STEPS)
STATUSES = tuple(s.value for s in Status if s is not Status.RESOLVED)  # resolve has its step
STEP_TIMEOUT = 30.0


class ScriptError(DrillInputError):
    """A malformed script; the message reads `file:line: steps[i].key: problem`."""


@dataclass(frozen=True, slots=True)
class Step:
    at: float  # scenario seconds
    action: str  # one of ACTIONS, or "key"
    args: str = ""
    keys: tuple[str, ...] = ()
    where: str = ""
    line: int = 0  # in the script file, for errors found later (check_script)

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
        text = read_yaml_text(p)
    except YamlProblem as e:
        where = f"{p}:{e.line}" if e.line else str(p)
        raise ScriptError(one_line(f"{where}: {e.problem}")) from None
    return parse_script(text, str(p))


def parse_script(text: str, source: str = "<script>") -> Script:
    try:
        raw = load_yaml(text)
    except YamlProblem as e:
        where = f"{source}:{e.line}" if e.line else source
        raise ScriptError(one_line(f"{where}: {e.problem}")) from None
    if isinstance(raw, list):  # a bare list of steps is a script
        top = YamlMap(steps=raw)
        top.line, top.key_lines = getattr(raw, "line", 1), {"steps": getattr(raw, "line", 1)}
        raw = top
    f = FieldReader(source, raw, ScriptError)
    if raw is None:
        raise f.fail("", "the file is empty: a script needs `steps:`")
    if not isinstance(raw, dict):
        raise f.fail("", "a script is a mapping with `steps:` or a list of steps")
    f.known(raw, ("steps", "scenario", "speed"), "")
    speed = None
    if raw.get("speed") is not None:
        speed = f.number(raw, "speed", "", lo=MIN_SPEED, hi=MAX_SPEED)
    scenario = None
    if raw.get("scenario") is not None:
        scenario = f.text(raw, "scenario", "", empty=False)
    items = f.list(raw.get("steps"), "steps")
    if not items:
        raise f.fail("steps", "a non-empty list is required")
    steps = [_step(f, item, f"steps[{i}]") for i, item in enumerate(items)]
    for a, b in itertools.pairwise(steps):
        if b.at < a.at:
            raise f.fail(
                f"{b.where}.at", f"steps must be in time order ({b.at:g}s after {a.at:g}s)"
            )
    return Script(tuple(steps), scenario, speed, source)


def _step(f: FieldReader, item: Any, key: str) -> Step:
    if not isinstance(item, dict):
        raise f.fail(key, f"must be a mapping like {{at: 20s, do: ack}}, got {shown(item)}")
    f.known(item, ("at", "do", "key"), key)
    at = 0.0 if item.get("at") is None else f.duration(item["at"], f"{key}.at", hi=MAX_SECONDS)
    line = getattr(item, "line", 0)
    if f.one_of_keys(item, ("do", "key"), key) == "key":
        keys = tuple(f.text(item, "key", key).split())
        if not keys:
            raise f.fail(f"{key}.key", "no keys")
        return Step(at, "key", keys=keys, where=key, line=line)
    k = f"{key}.do"
    action, _, args = f.text(item, "do", key, empty=False).strip().partition(" ")
    if action not in ACTIONS:
        raise f.fail(k, f"unknown action {shown(action)}" + suggest(action, ACTIONS))
    args = args.strip()
    if action in NEEDS_ARGS and not args:
        raise f.fail(k, f"`{action}` needs an argument: {ACTIONS[action]}")
    if action in NO_ARGS and args:
        raise f.fail(k, f"`{action}` takes no argument: {ACTIONS[action]}")
    if action in ONE_WORD and len(args.split()) > 1:
        raise f.fail(k, f"`{action}` takes one argument: {ACTIONS[action]}")
    words = {"scale": (2,), "rollback": (1, 2)}.get(action)
    if words and len(args.split()) not in words:
        raise f.fail(k, f"`{action}` takes {ACTIONS[action].split(':')[0].partition(' ')[2]}")
    _check_args(f, k, action, args)
    return Step(at, action, args, where=key, line=line)


def _check_args(f: FieldReader, key: str, action: str, args: str) -> None:
    if action == "role":
        role, _, name = args.partition(" ")
        roles = [r.value for r in Role]
        if role.lower() not in roles:
            raise f.fail(key, f"unknown role {shown(role)}: use {', '.join(roles)}")
        if not name.strip():
            raise f.fail(key, f"role needs ROLE NAME, got {shown(args)}")
    level = args.split(" ")[0]
    if action == "severity" and level.upper() not in Severity.__members__:
        raise f.fail(key, f"unknown severity {shown(level)}: use P0, P1, P2 or P3")
    if action == "status" and args.lower() not in STATUSES:
        hint = " (use `resolve [SUMMARY]`)" if args.lower() == "resolved" else ""
        raise f.fail(key, f"unknown status {shown(args)}: use {', '.join(STATUSES)}{hint}")
    if action in ("scale", "rollback"):
        ref, _, number = args.partition(" ")
        if number and not number.strip().isdigit():
            what = "replicas" if action == "scale" else "revision"
            raise f.fail(key, f"{what} must be a whole number, got {shown(number.strip())}")
        if action == "scale" and ref.partition("/")[0].lower() == "daemonset":
            raise f.fail(key, "a daemonset has no replicas to scale")
        args = ref
    if action in KUBE_STEPS or (action == "evidence" and args):
        kind, sep, _ = args.partition("/")
        if action in ("restart", "scale", "rollback") and not sep:
            example = f"{action} needs KIND/NAME (e.g. deployment/web)"
            raise f.fail(key, f"{example}, got {shown(args)}")
        if sep and kind.lower() not in WORKLOAD_KINDS:
            raise f.fail(key, f"unknown kind {shown(kind)}" + suggest(kind.lower(), WORKLOAD_KINDS))
        if sep and action == "evidence":
            raise f.fail(key, f"evidence takes a pod name, got {shown(args)}")
    if action == "kubectl":
        try:
            argv = shlex.split(args)
        except ValueError as e:  # "No closing quotation"
            raise f.fail(key, f"kubectl arguments: {e}") from None
        problem = kubectl_problem(argv)
        if problem:
            raise f.fail(key, problem)


def check_read_only(script: Script) -> None:
    """In read-only mode, a kubectl step that changes the cluster fails the script before the
    drill starts (the console refuses it too, should one get that far)."""
    for step in script.steps:
        if step.action != "kubectl":
            continue
        problem = read_only_problem(shlex.split(step.args))
        if problem:
            raise ScriptError(f"{script.source}:{step.line}: {step.where}.do: {problem}")


def check_script(script: Script, scenario: Scenario) -> None:
    """Every workload and pod the script's steps name exists in the scenario: a typo fails
    here, before the drill, not after a step waited STEP_TIMEOUT for a pod that never comes."""
    refs = {w.ref: w for w in scenario.workloads}
    for step in script.steps:
        where = f"{script.source}:{step.line}: {step.where}.do"
        if step.action in NODE_STEPS:
            node_of(scenario, step.args, where)
            continue
        if step.action not in (*KUBE_STEPS, "evidence") or not step.args:
            continue
        target = step.args.split()[0].lower()
        if "/" in target:
            if target not in refs:
                raise ScriptError(
                    one_line(
                        f"{where}: no workload {shown(step.args.split()[0])} in scenario "
                        f"{scenario.name}" + suggest(target, refs)
                    )
                )
        elif not any(target.startswith(f"{w.name}-") for w in scenario.workloads):
            names = [w.name for w in scenario.workloads]
            raise ScriptError(
                one_line(
                    f"{where}: no workload of scenario {scenario.name} makes a pod named "
                    f"{shown(step.args.split()[0])}{did_you_mean(target, names)} (pods are named "
                    f"after their workload: {', '.join(names)})"
                )
            )


def node_of(scenario: Scenario, name: str, where: str = "") -> str:
    """The scenario's node `name` names: itself, or the one it is the start of
    ("ip-10-0-3-88" for ip-10-0-3-88.eu-west-1.compute.internal); ScriptError otherwise."""
    names = [n.name for n in scenario.nodes]
    found = [n for n in names if n == name] or [n for n in names if n.startswith(name)]
    if len(found) != 1:
        why = "names several nodes" if found else "is not a node"
        raise ScriptError(
            one_line(
                f"{where}: {shown(name)} {why} of scenario {scenario.name}"
                f"{did_you_mean(name, names)} (nodes: {', '.join(names)})"
            )
        )
    return found[0]
