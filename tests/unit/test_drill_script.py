"""Drill script parsing: times on the scenario clock, named actions or raw keys, clear errors."""

from pathlib import Path

import pytest

from warroom.drill.script import ScriptError, load_script, parse_script

SCRIPTS = Path(__file__).parent.parent / "drill_scripts"


def test_steps_keys_and_defaults() -> None:
    s = parse_script(
        "scenario: node-loss\nspeed: 20\nsteps:\n"
        "  - {at: 1m30s, do: severity P1}\n"
        "  - {at: 95, do: kubectl delete pod redis-cart-0 --force}\n"
        "  - {at: 100, key: tab enter}\n",
        "s.yaml",
    )
    assert (s.scenario, s.speed) == ("node-loss", 20.0)
    assert [(x.at, x.action, x.args) for x in s.steps[:2]] == [
        (90.0, "severity", "P1"),
        (95.0, "kubectl", "delete pod redis-cart-0 --force"),
    ]
    assert s.steps[2].keys == ("tab", "enter") and s.steps[2].describe() == "tab enter"
    assert parse_script("- {do: ack}").steps[0].at == 0  # a bare list of steps is a script


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("steps: [{at: 1, do: dance}]", r"steps\[0\].do: unknown action 'dance'"),
        ("steps: [{at: 1, do: restart}]", r"steps\[0\].do: `restart` needs an argument"),
        ("steps: [{at: 1, do: ack, key: k}]", r"steps\[0\]: needs exactly one of"),
        ("steps: [{at: 5, do: ack}, {at: 2, do: ack}]", r"steps\[1\].at: steps must be in time"),
        ("steps: [{at: soon, do: ack}]", r"steps\[0\].at: 'soon' is not a duration"),
        ("steps: []", "steps: a non-empty list is required"),
        ("speed: -1\nsteps: [{do: ack}]", "speed: must be at least 0.01, got -1"),
        ("tempo: 3\nsteps: [{do: ack}]", "tempo: unknown key"),
    ],
)
def test_errors_name_file_and_key(text: str, error: str) -> None:
    with pytest.raises(ScriptError, match=rf"^s\.yaml:1: {error}"):
        parse_script(text, "s.yaml")


def test_the_test_scripts_parse() -> None:
    files = sorted(SCRIPTS.glob("*.yaml"))
    # A win (console-only) and a loss a scenario, kubectl wins, a rollback, a blocked drain,
    # crashloop won from the keyboard with roles and escalation, the compromised pod's pair.
    assert len(files) == 13
    for f in files:
        assert load_script(f).scenario, f


def test_role_escalate_wait_and_a_severity_reason_parse() -> None:
    script = parse_script(
        "steps:\n"
        "  - {at: 1, do: severity P1 four in ten checkouts fail}\n"
        "  - {at: 2, do: role tech_lead bo}\n"
        "  - {at: 3, do: escalate vp-engineering}\n"
        "  - {at: 4, do: wait mitigation-verified}\n"
        "  - {at: 5, do: wait}\n"
    )
    assert [(s.action, s.args) for s in script.steps] == [
        ("severity", "P1 four in ten checkouts fail"),
        ("role", "tech_lead bo"),
        ("escalate", "vp-engineering"),
        ("wait", "mitigation-verified"),
        ("wait", ""),
    ]
    for bad, problem in (
        ("role pilot bo", "unknown role 'pilot'"),
        ("role commander", "role needs ROLE NAME"),
        ("escalate", "`escalate` needs an argument"),
        ("severity P9 why", "unknown severity 'P9'"),
        ("wait a b", "`wait` takes one argument"),
    ):
        with pytest.raises(ScriptError, match=problem):
            parse_script(f"steps:\n  - {{at: 1, do: {bad}}}\n", "s.yaml")
