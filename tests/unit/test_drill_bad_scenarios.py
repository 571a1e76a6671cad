"""Broken scenario YAML, one case a row: each is exactly one ScenarioError, one line, naming the
file and the line of the problem, never another exception (issue #23).

A case edits BASE (a small valid scenario): `old` is replaced by `new` (old None: `new` is the
whole file). The expected line is the one marked `# <-`, else LINE[case], else the first line
of `new` that differs from `old` (so appending keys points at the first added one).
"""

from __future__ import annotations

import copy
import math
import random
from importlib import resources
from typing import Any

import pytest
import yaml

from warroom.drill.scenario import ScenarioError, parse_scenario

SOURCE = "bad.yaml"
BASE = """\
name: tiny
namespace: demo
nodes: [node-a, node-b]
logs:
  web: {lines: [hello], every: 2}
behaviors:
  panic: {crash: {reason: Error, exit_code: 2, after: 5}}
workloads:
  - name: web
    replicas: 2
    image: "nginx:1.25"
    logs: web
metrics:
  - {id: errors, expr: "sum(rate(x[5m]))", value: 0.01}
checks:
  - {name: Errors, expr: "sum(rate(x[5m]))", warn: 0.1, crit: 0.5}
alerts:
  - {name: HighErrors, labels: {severity: critical}}
timeline:
  - at: 10
    do:
      - scale: {workload: deployment/web, replicas: 3}
reactions:
  - name: restart heals
    when: {restart: deployment/web}
    do: [{set: fixed}]
timings: {pull: 1}
objectives:
  severity: P1
  right: [{restart: deployment/web}]
"""
WL = "  - name: web\n    replicas: 2\n"  # the workload's first lines, to add keys after
IMG = '    image: "nginx:1.25"\n    logs: web\n'  # the workload's container keys
TL = "      - scale: {workload: deployment/web, replicas: 3}\n"  # the timeline's action
SCALE = "{workload: deployment/web, replicas: 3}"
RX = "    when: {restart: deployment/web}\n"
DO = "    do: [{set: fixed}]\n"
OBJ = "  severity: P1\n"
MET = "value: 0.01}\n"
CHK = "crit: 0.5}\n"
ALR = "labels: {severity: critical}}\n"
MANY_NODES = "nodes: [" + ", ".join(f"n{i}" for i in range(501)) + "]\n"
BIG = "".join(f"  - {{name: w{i}, image: x, replicas: 1000}}\n" for i in range(6))
ELEVEN = "    containers: [" + ", ".join(f"{{name: c{i}, image: x}}" for i in range(11)) + "]\n"
TWO_A = "    containers: [{name: a, image: x}, {name: a, image: y}]\n"
NO_WORKLOADS = BASE.replace("workloads:\n" + WL + IMG, "workloads: web  # <-\n")

# (case, old, new, what the message says)
# fmt: off
CASES: list[tuple[str, str | None, str, str]] = [
    # --- the file as a whole: empty, not a mapping, YAML syntax ---
    ("empty file", None, "", "the file is empty"),
    ("only comments", None, "# nothing here\n", "the file is empty"),
    ("a list instead of a mapping", None, "- name: tiny\n- nodes: [a]\n", "is a mapping"),
    ("a bare string", None, "crashloop-after-deploy\n", "is a mapping"),
    ("unclosed flow list", "nodes: [node-a, node-b]\n", "nodes: [node-a, node-b\nlogs:  # <-\n",
     "invalid YAML"),
    ("tab indentation", "    replicas: 2\n", "\treplicas: 2\n", "invalid YAML"),
    ("mapping in a plain scalar", "namespace: demo\n", "namespace: a: b\n", "invalid YAML"),
    ("two documents", "timings: {pull: 1}\n", "timings: {pull: 1}\n---  # <-\nname: x\n",
     "expected a single document"),
    ("python object tag", "namespace: demo\n", "namespace: !!python/object:os.system ls\n",
     "could not determine a constructor"),
    ("a tag that does not fit", "namespace: demo\n", "namespace: !!timestamp soon\n",
     "cannot read this value as timestamp"),
    ("a lone surrogate", "namespace: demo\n", "namespace: \ud800\n", "not valid Unicode"),
    ("undefined alias", "namespace: demo\n", "namespace: *nowhere\n", "undefined alias"),
    ("NUL character", "namespace: demo\n", "namespace: de\x00mo\n", "#x0000 is not allowed"),
    ("nested too deeply", "namespace: demo\n", "namespace: " + "[" * 1200 + "\n", "nesting"),
    ("duplicate top key", "namespace: demo\n", "namespace: demo\nnamespace: prod\n",
     "duplicate key 'namespace'"),
    ("duplicate key in a workload", "    replicas: 2\n", "    replicas: 2\n    replicas: 4\n",
     "duplicate key 'replicas'"),
    ("boolean key", "  web: {lines: [hello], every: 2}\n", "  on: {lines: [hello]}\n",
     "key 'on' reads as bool True: quote it"),
    ("number key", "  web: {lines: [hello], every: 2}\n", "  1: {lines: [hello]}\n",
     "key '1' reads as int 1: quote it"),
    ("number key in a workload", WL, WL + "    1: x\n", "key '1' reads as int 1: quote it"),
    # --- unknown keys, with the nearest valid one ---
    ("unknown top key", "namespace: demo\n", "namespace: demo\nworkload: []\n",
     "workload: unknown key (did you mean 'workloads'?)"),
    ("unknown top key, none near", "namespace: demo\n", "namespace: demo\nzzz: 1\n",
     "zzz: unknown key (known: alerts, behaviors, category, checks, description, logs,"),
    ("unknown workload key", WL, WL + "    replica: 3\n",
     "workloads[0].replica: unknown key (did you mean 'replicas'?)"),
    ("unknown timings key", "timings: {pull: 1}\n", "timings: {pul: 1}\n",
     "timings.pul: unknown key (did you mean 'pull'?)"),
    ("unknown objectives key", OBJ, OBJ + "  pass_mrk: 50\n",
     "objectives.pass_mrk: unknown key (did you mean 'pass_mark'?)"),
    ("unknown action", TL, "      - scael: {workload: deployment/web, replicas: 3}\n",
     "timeline[0].do[0].scael: unknown action (did you mean 'scale'?)"),
    ("unknown trigger key", RX, "    when: {restart: deployment/web, forse: true}\n",
     "reactions[0].when.forse: unknown key (did you mean 'force'?)"),
    # --- missing keys ---
    ("no name", "name: tiny\n", "title: Tiny\n", "name: is required"),
    ("no nodes", "nodes: [node-a, node-b]\n", "nodes: []\n", "nodes: at least one node"),
    ("workload without image", '    image: "nginx:1.25"\n', "", "workloads[0].image: is required"),
    ("check without warn", "warn: 0.1, ", "", "checks[0].warn: is required"),
    ("metric without value", ", value: 0.01}", "}", "metrics[0].value: is required"),
    ("reaction without when", RX, "", "reactions[0].when: is required"),
    ("timeline entry without at", "  - at: 10\n    do:\n", "  - do:\n",
     "timeline[0].at: is required"),
    ("event without reason", TL, "      - event: {workload: deployment/web}\n",
     "event.reason: is required"),
    # --- wrong types ---
    ("nodes is a mapping", "nodes: [node-a, node-b]\n", "nodes: {a: 1}\n",
     "nodes: must be a list, got a mapping"),
    ("workloads is a string", None, NO_WORKLOADS, "workloads: must be a list, got a string"),
    ("replicas is a word", "    replicas: 2\n", "    replicas: three\n",
     "must be a whole number, got a string ('three')"),
    ("replicas is a fraction", "    replicas: 2\n", "    replicas: 2.5\n", "a whole number"),
    ("replicas is NaN", "    replicas: 2\n", "    replicas: .nan\n", "must be a whole number"),
    ("image is a list", '    image: "nginx:1.25"\n', "    image: [nginx]\n",
     "workloads[0].image: must be a string, got a list"),
    ("image is empty", '    image: "nginx:1.25"\n', '    image: ""\n', "must not be empty"),
    ("paused is a word", WL, WL + "    paused: maybe\n", "must be true or false"),
    ("label value is a mapping", WL, WL + "    labels: {app: {x: 1}}\n",
     "workloads[0].labels.app: must be a string, got a mapping"),
    ("log lines nested", "  web: {lines: [hello], every: 2}\n", "  web: {lines: [[hello]]}\n",
     "logs.web.lines[0]: must be a string, got a list"),
    ("behavior logs a list", "{crash: {reason: Error, exit_code: 2, after: 5}}", "{logs: [web]}",
     "behaviors.panic.logs: must be a string, got a list"),
    ("workload logs a list", "    logs: web\n", "    logs: [web]\n",
     "workloads[0].logs: must be a string, got a list"),
    ("ready is a number", "{crash: {reason: Error, exit_code: 2, after: 5}}", "{ready: 1}",
     "behaviors.panic.ready: must be true or false"),
    ("metric value is a word", MET, "value: high}\n",
     "metrics[0].value: must be a number, got a string ('high')"),
    ("check unit is a list", CHK, "crit: 0.5, unit: [s]}\n", "checks[0].unit: must be a string"),
    ("alert label is a list", ALR, "labels: {severity: [a]}}\n",
     "alerts[0].labels.severity: must be a string"),
    ("timeline entry is a string", "  - at: 10\n    do:\n" + TL, "  - soon\n",
     "timeline[0]: must be a mapping"),
    ("timeline at is a word", "  - at: 10\n", "  - at: soon\n", "must be a number"),
    ("impact is a word", "  - at: 10\n", "  - at: 10\n    impact: very\n",
     "timeline[0].impact: must be true or false"),
    ("if is a list of numbers", "  - at: 10\n", "  - at: 10\n    if: [1, 2]\n",
     "timeline[0].if[0]: must be a flag name"),
    ("set is a number", "do: [{set: fixed}]", "do: [{set: 7}]", "must be a flag name"),
    ("once is a word", RX, RX + "    once: twice\n", "reactions[0].once: must be true or false"),
    ("scale is a number", TL, "      - scale: 5\n", "scale: must be a mapping, got a number"),
    ("objectives is a list", OBJ + "  right: [{restart: deployment/web}]\n", "  - P1\n",
     "objectives: must be a mapping, got a list"),
    # --- bad values, bounds, NaN, huge numbers ---
    ("bad name", "name: tiny\n", "name: Tiny_Scenario\n", "not a valid Kubernetes name"),
    ("name too long", "name: tiny\n", f"name: {'a' * 300}\n", "at most 253"),
    ("bad namespace", "namespace: demo\n", "namespace: my.ns\n", "not a valid DNS label"),
    ("bad node ip", "nodes: [node-a, node-b]\n", "nodes: [{name: a, ip: 10.0.0.300}]\n",
     "is not an IP address"),
    ("too many nodes", "nodes: [node-a, node-b]\n", MANY_NODES, "has 501 items; the limit is 500"),
    ("unknown kind", WL, WL + "    kind: Job\n", "unknown kind 'Job'"),
    ("negative replicas", "    replicas: 2\n", "    replicas: -1\n", "must be at least 0, got -1"),
    ("a hundred million replicas", "    replicas: 2\n", "    replicas: 100000000\n",
     "workloads[0].replicas: 100000000 is over the limit of 1000"),
    ("replicas beyond any float", "    replicas: 2\n", f"    replicas: {10**350}\n",
     "is over the limit of 1000"),
    ("too many pods in all", "workloads:\n", "workloads:  # <-\n" + BIG,
     "workloads: make 6002 pods; the limit is 5000"),
    ("a 5000-digit number", "    replicas: 2\n", f"    replicas: {'9' * 5000}\n",
     "invalid YAML: a number of 5000 characters is too long"),
    ("a 5000-digit hex number", "    replicas: 2\n", f"    replicas: 0x{'f' * 5000}\n",
     "a number of 5002 characters is too long"),
    ("a number as a long name", "name: tiny\n", f"name: {'9' * 350}\n", "at most 253"),
    ("metric value beyond any float", MET, f"value: {10**350}}}\n", "is out of range"),
    ("port out of range", WL, WL + "    port: 70000\n", "port: 70000 is over the limit of 65535"),
    ("cpu is not a quantity", WL, WL + "    cpu: lots\n", "is not a Kubernetes quantity"),
    ("memory is negative", WL, WL + "    memory: -1Gi\n", "is not a Kubernetes quantity"),
    ("bad label value", WL, WL + "    labels: {app: 'a b'}\n", "not a valid Kubernetes label"),
    ("age is infinite", WL, WL + "    age: .inf\n", "must be a finite number, got inf"),
    ("age over ten years", WL, WL + "    age: 1.0e+12\n", "must be at most"),
    ("log every zero", "every: 2}", "every: 0}", "logs.web.every: must be at least 0.1"),
    ("exit code 300", "exit_code: 2", "exit_code: 300", "300 is over the limit of 255"),
    ("crash after NaN", "after: 5}}", "after: .nan}}", "must be a finite number, got nan"),
    ("metric value NaN", MET, "value: .nan}\n", "metrics[0].value: must be a finite number"),
    ("metric noise 5", MET, "value: 0.01, noise: 5}\n", "must be at most 1"),
    ("metric min over max", MET, "value: 0.01, min: 2, max: 1}\n",
     "metrics[0].max: must be at least min"),
    ("metric label name", MET, "value: 0.01, labels: {1x: a}}\n",
     "not a valid Prometheus label name"),
    ("check crit below warn", "warn: 0.1, crit: 0.5", "warn: 0.5, crit: 0.1",
     "checks[0].crit: must be above warn"),
    ("check direction typo", CHK, "crit: 0.5, direction: abov}\n",
     "unknown direction 'abov' (did you mean 'above'?)"),
    ("check warn infinite", "warn: 0.1", "warn: .inf", "must be a finite number"),
    ("timeline at negative", "  - at: 10\n", "  - at: -1\n", "timeline[0].at: must be at least 0"),
    ("timeline at infinite", "  - at: 10\n", "  - at: .inf\n", "must be a finite number, got inf"),
    ("after negative", TL, "      - {after: -3, set: broken}\n", "after: must be at least 0"),
    ("two actions in one item", TL, "      - {set: a, clear: b}\n",
     "needs exactly one of rollout, behavior, scale, node, metric, alert, event, set, clear; "
     "found set, clear"),
    ("empty action", TL, "      - {}\n", "found none"),
    ("scale to a hundred million", "replicas: 3}", "replicas: 100000000}",
     "scale.replicas: 100000000 is over the limit of 1000"),
    ("metric ramp to NaN", TL, "      - metric: {id: errors, to: .nan}\n", "must be a finite"),
    ("alert state typo", TL, "      - alert: {name: HighErrors, state: firng}\n",
     "unknown state 'firng' (did you mean 'firing'?)"),
    ("rollout with nothing", TL, "      - rollout: {workload: deployment/web}\n",
     "needs image and/or behavior"),
    ("event type typo", TL, "      - event: {workload: deployment/web, type: Warnin, reason: X}\n",
     "unknown event type 'Warnin' (did you mean 'Warning'?)"),
    ("trigger with two kinds", RX, "    when: {restart: deployment/web, delete: deployment/web}\n",
     "needs exactly one of restart, delete, patch, scale, image, quarantine; found restart, "
     "delete"),
    ("image trigger without image", RX, "    when: {image: deployment/web}\n",
     "reactions[0].when.image_is: is required"),
    ("min_replicas on a restart", RX, "    when: {restart: deployment/web, min_replicas: 2}\n",
     "only applies to a scale trigger"),
    ("huge min_replicas", RX, "    when: {scale: deployment/web, min_replicas: 9999999}\n",
     "is over the limit of 1000"),
    ("timings negative", "timings: {pull: 1}\n", "timings: {pull: -2}\n", "must be at least 0"),
    ("severity P5", OBJ, "  severity: P5\n", "unknown severity 'P5': use P0, P1, P2 or P3"),
    ("pass mark 150", OBJ, OBJ + "  pass_mark: 150\n", "150 is over the limit of 100"),
    ("points for an unknown objective", OBJ, OBJ + "  points: {ack2: 5}\n",
     "unknown objective 'ack2' (did you mean 'ack'?)"),
    ("required typo", OBJ, OBJ + "  required: [mitigate]\n",
     "unknown objective 'mitigate' (did you mean 'mitigation'?)"),
    # --- bad durations (objectives take 90s, 15m, 1h30m or seconds) ---
    ("duration word", OBJ, OBJ + "  ack_within: soon\n", "'soon' is not a duration"),
    ("duration with two dots", OBJ, OBJ + "  ack_within: 1.2.3s\n", "is not a duration"),
    ("duration beyond timedelta", OBJ, OBJ + "  ack_within: 99999999999999d\n", "is too long"),
    ("duration over ten years", OBJ, OBJ + "  resolve_within: 5000d\n", "must be at most"),
    ("duration NaN", OBJ, OBJ + "  ack_within: .nan\n", "must be a finite number, got nan"),
    ("duration negative", OBJ, OBJ + "  first_update_within: -5\n", "must be at least 0"),
    ("duration a list", OBJ, OBJ + "  ack_within: [1m]\n", "must be a duration such as"),
    # --- bad selectors: kind/name references and label keys ---
    ("ref without kind", SCALE, "{workload: web, replicas: 3}", "'web' is not kind/name"),
    ("ref with a short kind", SCALE, "{workload: deploy/web, replicas: 3}",
     "unknown kind 'deploy' (did you mean 'deployment/web'?)"),
    ("ref of a number", SCALE, "{workload: 5, replicas: 3}",
     "must be kind/name such as deployment/web, got 5"),
    ("label key with a space", WL, WL + "    labels: {'my app': web}\n",
     "workloads[0].labels.my app: is not a valid Kubernetes label key"),
    # --- duplicate names ---
    ("duplicate node", "nodes: [node-a, node-b]\n", "nodes: [node-a, node-a]\n",
     "nodes[1]: duplicate node name 'node-a' (first at nodes[0])"),
    ("duplicate workload", "    logs: web\n", "    logs: web\n  - {name: web, image: x}\n",
     "workloads[1]: duplicate workload 'deployment/web' (first at workloads[0])"),
    ("duplicate container", IMG, TWO_A, "workloads[0].containers[1]: duplicate container name 'a'"),
    ("duplicate metric id", MET, MET + '  - {id: errors, expr: "up", value: 1}\n',
     "metrics[1].id: duplicate metric id 'errors'"),
    ("duplicate check", CHK, CHK + '  - {name: Errors, expr: "sum(rate(x[5m]))", warn: 1, '
     "crit: 2}\n", "checks[1].name: duplicate check name 'Errors'"),
    ("duplicate alert", ALR, ALR + "  - {name: HighErrors}\n",
     "alerts[1].name: duplicate alert name 'HighErrors'"),
    ("duplicate reaction", DO, DO + "  - name: restart heals\n    when: {delete: deployment/web}\n",
     "reactions[1].name: duplicate reaction name 'restart heals'"),
    ("containers beside an inline image", WL, WL + TWO_A,
     "workloads[0].image: give it in each of `containers`"),
    ("empty containers", IMG, "    containers: []\n", "at least one container"),
    ("too many containers", IMG, ELEVEN, "has 11 items; the limit is 10"),
    # --- references to what the scenario does not define ---
    ("unknown workload in an action", SCALE, "{workload: deployment/wbe, replicas: 3}",
     "unknown workload 'deployment/wbe' (did you mean 'deployment/web'?)"),
    ("unknown workload in a trigger", RX, "    when: {restart: deployment/webapp}\n",
     "unknown workload 'deployment/webapp' (did you mean 'deployment/web'?)"),
    ("unknown workload in objectives", "[{restart: deployment/web}]",
     "[{restart: deployment/cart}]", "objectives.right[0].restart: unknown workload"),
    ("unknown check expression", '"sum(rate(x[5m]))", warn', '"sum(rate(y[5m]))", warn',
     "no metric in `metrics` serves this expression"),
    ("unknown behavior", WL, WL + "    behavior: panik\n",
     "unknown behavior 'panik' (did you mean 'panic'?)"),
    ("unknown log profile", "    logs: web\n", "    logs: webb\n",
     "unknown log profile 'webb' (did you mean 'web'?)"),
    ("unknown metric id", TL, "      - metric: {id: errrors, to: 1}\n",
     "unknown metric id 'errrors' (did you mean 'errors'?)"),
    ("unknown alert", TL, "      - alert: {name: HighError}\n", "unknown alert 'HighError'"),
    ("unknown node", TL, "      - node: {name: node-c}\n", "unknown node 'node-c'"),
    ("unknown container", TL, "      - rollout: {workload: deployment/web, image: x, "
     "container: sidecar}\n", "unknown container 'sidecar' (known: web)"),
    ("unknown behavior to set", TL, "      - behavior: {workload: deployment/web, set: crash}\n",
     "unknown behavior 'crash'"),
]
# fmt: on
# Where the expected line is not the edited one: a missing key is reported where its mapping
# starts; libyaml reports the nesting where it gives up.
LINE = {
    "workload without image": 9,
    "check without warn": 16,
    "metric without value": 14,
    "reaction without when": 24,
    "nested too deeply": 2,
    "containers beside an inline image": 12,
    "objectives is a list": 28,
}


def case_text(old: str | None, new: str) -> tuple[str, int]:
    if old is None:
        marked = [i for i, line in enumerate(new.splitlines(), 1) if "# <-" in line]
        return new, marked[0] if marked else 1
    assert BASE.count(old) == 1, old
    text = BASE.replace(old, new)
    marked = [i for i, line in enumerate(text.splitlines(), 1) if "# <-" in line]
    if marked:
        return text, marked[0]
    same = 0
    for a, b in zip(old.splitlines(), new.splitlines(), strict=False):
        if a != b:
            break
        same += 1
    return text, BASE[: BASE.index(old)].count("\n") + 1 + same


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_broken_scenario_is_one_error_naming_file_and_line(
    case: tuple[str, str | None, str, str],
) -> None:
    name, old, new, fragment = case
    text, line = case_text(old, new)
    with pytest.raises(ScenarioError) as caught:  # any other exception fails the test
        parse_scenario(text, SOURCE)
    msg = str(caught.value)
    assert type(caught.value) is ScenarioError
    assert "\n" not in msg and msg.startswith(f"{SOURCE}:{LINE.get(name, line)}: "), msg
    assert fragment in msg, msg


def test_the_table_breaks_a_valid_file_in_many_ways() -> None:
    assert len(CASES) >= 60 and len({c[0] for c in CASES}) == len(CASES)
    assert parse_scenario(BASE, SOURCE).name == "tiny"


# --- every key, every wrong type --------------------------------------------------------------

WRONG: list[Any] = [None, True, -1, 10**30, math.nan, math.inf, "x", "", [], {}, [[1]], {"k": {}}]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path] if path else []
    if isinstance(node, dict):
        items: Any = node.items()
    else:
        items = enumerate(node) if isinstance(node, list) else []
    for k, v in items:
        out += _paths(v, (*path, k))
    return out


@pytest.mark.parametrize("path", _paths(yaml.safe_load(BASE)), ids=lambda p: ".".join(map(str, p)))
def test_every_key_with_every_wrong_type(path: tuple[Any, ...]) -> None:
    """Any value at any key parses, or is one ScenarioError line with file and line."""
    for bad in WRONG:
        doc = yaml.safe_load(BASE)
        target = doc
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = copy.deepcopy(bad)
        text = yaml.safe_dump(doc, sort_keys=False)
        try:
            parse_scenario(text, SOURCE)
        except ScenarioError as e:
            msg = str(e)
            assert "\n" not in msg and msg.startswith(f"{SOURCE}:"), msg
            assert 1 <= int(msg.split(":")[1]) <= text.count("\n") + 1, msg


# --- random damage to the shipped scenarios ---------------------------------------------------

JUNK = [*":-[]{}&*!|>'\"#%@`,? \n\t0123456789.", "\x00", ".nan", ".inf", "<<: *a", "&a "]
JUNK += [
    "!!binary ",
    "!!timestamp ",
    "!!set ",
    "yes",
    "on",
    "~",
    "0x1f",
    "1_000",
    "1:30",
    "9" * 500,
]
SHIPPED = resources.files("warroom.config").joinpath("scenarios")


@pytest.mark.parametrize("seed", range(4))
def test_randomly_damaged_shipped_scenarios(seed: int) -> None:
    """Insertions, deletions and copies at random places (seeded, so a failure reproduces):
    the result parses or is one ScenarioError line, never another exception."""
    rng = random.Random(seed)
    texts = [p.read_text(encoding="utf-8") for p in SHIPPED.iterdir() if p.name.endswith(".yaml")]
    for _ in range(150):
        text = rng.choice(texts)
        for _ in range(rng.randint(1, 4)):
            i, j = rng.randrange(len(text)), rng.randrange(len(text))
            text = rng.choice(
                [text[:i] + rng.choice(JUNK) + text[i:], text[:i] + text[i + rng.randint(1, 20) :],
                 text[:i] + text[j : j + rng.randint(1, 40)] + text[i:]]
            )  # fmt: skip
        try:
            parse_scenario(text, SOURCE)
        except ScenarioError as e:
            assert "\n" not in str(e) and str(e).startswith(f"{SOURCE}:"), str(e)
