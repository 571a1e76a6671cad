"""Broken drill scripts, one case a row: each is exactly one ScriptError, one line, naming the
file and the line (the one marked `# <-`, else line 1); and a script checked against its
scenario names the step whose workload or pod the scenario does not have (issue #23)."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
import yaml

from warroom.drill.scenario import load_scenario
from warroom.drill.script import ScriptError, check_script, parse_script

SOURCE = "run.yaml"
OK = "scenario: crashloop-after-deploy\nspeed: 10\nsteps:\n  - {at: 3s, do: ack}\n"


def steps(*lines: str) -> str:
    return "steps:\n" + "".join(f"  - {line}\n" for line in lines)


# (case, script text, what the message says)
# fmt: off
CASES: list[tuple[str, str, str]] = [
    ("empty file", "", "the file is empty"),
    ("a bare string", "ack\n", "a script is a mapping with `steps:` or a list of steps"),
    ("a number", "42\n", "a script is a mapping"),
    ("YAML syntax error", "steps:\n  - {at: 3s, do: ack\n  - {do: update}  # <-\n", "invalid YAML"),
    ("duplicate key", "speed: 2\nspeed: 3  # <-\nsteps: [{do: ack}]\n", "duplicate key 'speed'"),
    ("non-string key", "steps: [{do: ack}]\nyes: 1  # <-\n", "key 'yes' reads as bool True"),
    ("unknown top key", "steps: [{do: ack}]\nsped: 3  # <-\n",
     "sped: unknown key (did you mean 'speed'?)"),
    ("speed NaN", "speed: .nan\nsteps: [{do: ack}]\n", "speed: must be a finite number, got nan"),
    ("speed infinite", "speed: .inf\nsteps: [{do: ack}]\n", "speed: must be a finite number"),
    ("speed zero", "speed: 0\nsteps: [{do: ack}]\n", "speed: must be at least 0.01, got 0"),
    ("speed negative", "speed: -3\nsteps: [{do: ack}]\n", "speed: must be at least 0.01"),
    ("speed huge", "speed: 100000\nsteps: [{do: ack}]\n", "speed: must be at most 1000"),
    ("speed a word", "speed: fast\nsteps: [{do: ack}]\n", "speed: must be a number"),
    ("scenario a list", "scenario: [a]\nsteps: [{do: ack}]\n", "scenario: must be a string"),
    ("no steps", "scenario: node-loss\n", "steps: a non-empty list is required"),
    ("steps a mapping", "steps: {do: ack}\n", "steps: must be a list, got a mapping"),
    ("steps empty", "steps: []\n", "steps: a non-empty list is required"),
    ("step a string", steps("ack  # <-"), "steps[0]: must be a mapping like {at: 20s, do: ack}"),
    ("step with a number key", steps("{do: ack, 1: 2}  # <-"), "key '1' reads as int 1"),
    ("step unknown key", steps("{att: 3s, do: ack}  # <-"),
     "steps[0].att: unknown key (did you mean 'at'?)"),
    ("step with do and key", steps("{do: ack, key: k}  # <-"),
     "steps[0]: needs exactly one of do, key; found do, key"),
    ("step with neither", steps("{at: 3s}  # <-"), "needs exactly one of do, key; found none"),
    ("at a word", steps("{at: soon, do: ack}  # <-"), "steps[0].at: 'soon' is not a duration"),
    ("at infinite", steps("{at: .inf, do: ack}  # <-"), "must be a finite number, got inf"),
    ("at NaN", steps("{at: .nan, do: ack}  # <-"), "must be a finite number, got nan"),
    ("at negative", steps("{at: -5, do: ack}  # <-"), "steps[0].at: must be at least 0"),
    ("at beyond timedelta", steps("{at: 99999999999999d, do: ack}  # <-"), "is too long"),
    ("at over ten years", steps("{at: 5000d, do: ack}  # <-"), "must be at most"),
    ("at with 5000 digits", steps(f"{{at: {'9' * 5000}, do: ack}}  # <-"), "is too long"),
    ("speed beyond any float", f"speed: {10**350}\nsteps: [{{do: ack}}]\n",
     "is out of range (at most 1000)"),
    ("at a list", steps("{at: [3s], do: ack}  # <-"), "must be a duration such as 90s"),
    ("steps out of order", steps("{at: 5s, do: ack}", "{at: 2s, do: update}  # <-"),
     "steps[1].at: steps must be in time order (2s after 5s)"),
    ("do a list", steps("{do: [ack]}  # <-"), "steps[0].do: must be a string, got a list"),
    ("do empty", steps("{do: ''}  # <-"), "steps[0].do: must not be empty"),
    ("do a typo", steps("{do: akc}  # <-"), "unknown action 'akc' (did you mean 'ack'?)"),
    ("severity P7", steps("{do: severity P7}  # <-"), "unknown severity 'P7': use P0, P1, P2"),
    ("status resolved", steps("{do: status resolved}  # <-"), "use `resolve [SUMMARY]`"),
    ("status unknown", steps("{do: status fixed}  # <-"), "unknown status 'fixed'"),
    ("restart without target", steps("{do: restart}  # <-"), "`restart` needs an argument"),
    ("restart without kind", steps("{do: restart web}  # <-"), "restart needs KIND/NAME"),
    ("restart with a bad kind", steps("{do: restart deploy/web}  # <-"),
     "unknown kind 'deploy' (did you mean 'deployment'?)"),
    ("delete two pods", steps("{do: delete a-1 b-2}  # <-"), "`delete` takes one argument"),
    ("ack with an argument", steps("{do: ack now}  # <-"), "`ack` takes no argument"),
    ("evidence of a workload", steps("{do: evidence deployment/web}  # <-"),
     "evidence takes a pod name"),
    ("kubectl unbalanced quote", steps("{do: \"kubectl annotate pod a x='y\"}  # <-"),
     "kubectl arguments: No closing quotation"),
    ("scale without a count", steps("{do: scale deployment/web}  # <-"),
     "`scale` takes KIND/NAME N"),
    ("scale to a word", steps("{do: scale deployment/web many}  # <-"),
     "replicas must be a whole number, got 'many'"),
    ("scale of a pod", steps("{do: scale web-0 3}  # <-"), "scale needs KIND/NAME"),
    ("scale of a daemonset", steps("{do: scale daemonset/agent 3}  # <-"),
     "a daemonset has no replicas to scale"),
    ("rollback to a word", steps("{do: rollback deployment/web last}  # <-"),
     "revision must be a whole number, got 'last'"),
    ("rollback with three words", steps("{do: rollback deployment/web 1 2}  # <-"),
     "`rollback` takes KIND/NAME [REVISION]"),
    ("force-delete two pods", steps("{do: force-delete a-0 b-0}  # <-"),
     "`force-delete` takes one argument"),
    ("drain of nothing", steps("{do: drain}  # <-"), "`drain` needs an argument"),
    ("cordon two nodes", steps("{do: cordon n1 n2}  # <-"), "`cordon` takes one argument"),
    ("key empty", steps("{key: ''}  # <-"), "steps[0].key: no keys"),
    ("key a list", steps("{key: [tab]}  # <-"), "steps[0].key: must be a string, got a list"),
    ("second step broken", steps("{at: 1, do: ack}", "{at: 2, do: update}", "{at: 3, do: x}  # <-"),
     "steps[2].do: unknown action 'x'"),
]
# fmt: on


@pytest.mark.parametrize(("text", "fragment"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_script_is_one_error_naming_file_and_line(text: str, fragment: str) -> None:
    marked = [i for i, line in enumerate(text.splitlines(), 1) if "# <-" in line]
    line = marked[0] if marked else 1
    with pytest.raises(ScriptError) as caught:  # any other exception fails the test
        parse_script(text, SOURCE)
    msg = str(caught.value)
    assert type(caught.value) is ScriptError
    assert "\n" not in msg and msg.startswith(f"{SOURCE}:{line}: "), msg
    assert fragment in msg, msg


def test_the_table_and_a_valid_script() -> None:
    assert len(CASES) >= 40 and len({c[0] for c in CASES}) == len(CASES)
    script = parse_script(OK, SOURCE)
    assert (script.scenario, script.speed, script.steps[0].line) == (
        "crashloop-after-deploy",
        10.0,
        4,
    )


WRONG: list[Any] = [None, True, -1, 10**30, math.nan, math.inf, "", [], {}, [[1]], {"k": {}}]
FULL = steps(
    "{at: 3s, do: ack}", "{at: 5s, do: restart deployment/checkout-api}", "{at: 6, key: q}"
)


@pytest.mark.parametrize("path", [("steps",), ("steps", 0), ("steps", 0, "at"), ("steps", 1, "do"),
                                  ("steps", 2, "key"), ("speed",), ("scenario",)])  # fmt: skip
def test_every_key_with_every_wrong_type(path: tuple[Any, ...]) -> None:
    for bad in WRONG:
        doc = {**yaml.safe_load(FULL), "speed": 2, "scenario": "node-loss"}
        target = doc
        for k in path[:-1]:
            target = target[k]
        target[path[-1]] = copy.deepcopy(bad)
        try:
            parse_script(yaml.safe_dump(doc), SOURCE)
        except ScriptError as e:
            assert "\n" not in str(e) and str(e).startswith(f"{SOURCE}:"), str(e)


# --- a script against its scenario -------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "fragment"),
    [
        (
            "{at: 5s, do: restart deployment/checkout}",
            "no workload 'deployment/checkout' in scenario crashloop-after-deploy "
            "(did you mean 'deployment/checkout-api'?)",
        ),
        ("{at: 5s, do: restart statefulset/checkout-api}", "no workload"),
        ("{at: 5s, do: delete chekout-api-7d9f}", "makes a pod named 'chekout-api-7d9f'"),
        ("{at: 5s, do: evidence redis-0}", "makes a pod named 'redis-0'"),
        ("{at: 5s, do: scale deployment/inventory 4}", "no workload 'deployment/inventory'"),
        ("{at: 5s, do: rollback deployment/checkout 2}", "no workload 'deployment/checkout'"),
        ("{at: 5s, do: force-delete redis-1}", "makes a pod named 'redis-1'"),
        ("{at: 5s, do: drain ip-10-0-9}", "'ip-10-0-9' is not a node of scenario"),
        ("{at: 5s, do: cordon ip-10-0}", "'ip-10-0' names several nodes of scenario"),
    ],
)
def test_script_naming_what_the_scenario_lacks(step: str, fragment: str) -> None:
    script = parse_script(steps("{at: 1s, do: ack}", step), SOURCE)
    with pytest.raises(ScriptError) as caught:
        check_script(script, load_scenario("crashloop-after-deploy"))
    msg = str(caught.value)
    assert msg.startswith(f"{SOURCE}:3: steps[1].do: ") and fragment in msg, msg


def test_script_naming_what_the_scenario_has() -> None:
    script = parse_script(
        steps(
            "{at: 1s, do: restart Deployment/checkout-api}",
            "{at: 2s, do: delete redis-cart-0}",
            "{at: 3s, do: evidence checkout-api-5c7d9-abcde}",
            "{at: 4s, do: delete statefulset/redis-cart}",
            "{at: 5s, do: scale deployment/checkout-api 5}",
            "{at: 6s, do: rollback deployment/checkout-api 1}",
            "{at: 7s, do: force-delete redis-cart-0}",
            "{at: 8s, do: cordon ip-10-0-3-88}",
            "{at: 9s, do: drain ip-10-0-3-88.eu-west-1.compute.internal}",
            "{at: 9s, do: uncordon ip-10-0-3-88}",
        ),
        SOURCE,
    )
    check_script(script, load_scenario("crashloop-after-deploy"))  # raises nothing
