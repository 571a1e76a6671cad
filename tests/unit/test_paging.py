"""Contacts, escalation levels and audiences from settings, and the automatic escalations
decided in signals: parsed with file, key and line on every error; decided once, from the
timeline alone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.clock import FixedClock
from warroom.model import Kind
from warroom.room import WarRoom
from warroom.settings import SettingsError, load_settings
from warroom.signals import escalation_facts, record
from warroom.store.tinydb import TinyDBRepository

DIRECTORY = """
[contacts.bo]
name = "Bo Chen"
roles = ["tech_lead", "commander"]
phone = "+1 555 0101"
email = "bo@example.com"
pagerduty_key_env = "PD_BO"

[contacts.cy]
name = "Cy Diaz"
opsgenie = "cy@example.com"

[teams.leads]
members = ["bo"]

[escalation.levels.L2]
targets = ["leads"]

[escalation.levels.L3]
targets = ["cy"]
"""


def settings(tmp_path: Path, text: str = DIRECTORY):
    cfg = tmp_path / "w.toml"
    cfg.write_text(text)
    return load_settings(cfg, env={"USER": "ann"}, data_dir=tmp_path / "data")


def test_the_directory_as_configured(tmp_path: Path) -> None:
    d = settings(tmp_path).paging
    assert d.contacts["bo"].roles == ("tech_lead", "commander")
    assert d.contacts["bo"].channels == ("pagerduty", "email")
    assert [r.name for r in d.paged(d.level("L2"))] == ["Bo Chen"]  # the team, via members
    assert d.level("L3").name == "Management" and "Business-critical" in d.level("L3").criteria
    assert d.next_level(None).id == "L2" and d.next_level("L2").id == "L3"
    assert d.by_name("bo chen").phone == "+1 555 0101"
    names = sorted(x.name for x in d.destinations(()))
    assert names == ["page:bo:email", "page:bo:pagerduty", "page:cy:opsgenie"]
    assert "PD_BO" not in repr(d.destinations(())) and not settings(tmp_path, "").paging.contacts


def test_an_empty_directory_keeps_todays_behaviour(tmp_path: Path) -> None:
    s = load_settings(env={"USER": "ann"}, data_dir=tmp_path)
    assert s.paging.empty and s.paging.destinations(()) == []
    room = WarRoom.declare(TinyDBRepository(s.data_dir), s, title="x", severity="P1")
    assert (
        escalation_facts(room.state, room.policy, s.paging, room.clock() + timedelta(days=3)) == []
    )
    assert room.escalate("the DBA team").text == "Escalated to the DBA team"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('[contacts.bo]\nname = "Bo"\nphone = 5\n', ":3: contacts.bo.phone: expected a string"),
        ('[contacts.bo]\nname = "Bo"\npager = "x"\n', ":3: contacts.bo.pager: unknown key"),
        ('[contacts.bo]\nroles = ["cook"]\n', ":2: contacts.bo.roles: unknown role 'cook'"),
        ('[contacts.bo]\nemail = "not-mail"\n', ":2: contacts.bo.email: not an e-mail"),
        ('[contacts.bo]\npagerduty_key = "abc"\n', ":2: contacts.bo.pagerduty_key: secrets never"),
        (
            '[contacts.bo]\nwebhook = "nope"\n',
            ":2: contacts.bo.webhook: no [[notify.destinations]]",
        ),
        ('[teams.t]\nmembers = ["zed"]\n', ":2: teams.t.members: no contact 'zed'"),
        ('[escalation.levels.L5]\nname = "x"\n', ":1: escalation.levels.L5: unknown level"),
        ('[escalation.levels.L2]\ntargets = ["zed"]\n', ":2: escalation.levels.L2.targets: no"),
        ('[escalation.levels.L2]\nseverity = "P7"\n', ":2: escalation.levels.L2.severity: unknown"),
        ("[escalation]\non_missed_ack = 1\n", ":2: escalation.on_missed_ack: expected true"),
        ('[channels.smtp]\nsecurity = "tls"\n', ":2: channels.smtp.security: expected starttls"),
        ('[channels.smtp]\npassword = "x"\n', ":2: channels.smtp.password: secrets never"),
        ('[channels.pagerduty]\nurl = "ftp://x"\n', ":2: channels.pagerduty.url: expected"),
        ('[audiences.execs]\nevery = { P9 = "1h" }\n', ":2: audiences.execs.every: P9: unknown"),
        (
            '[audiences.execs]\nevery = { P1 = "soon" }\n',
            ":2: audiences.execs.every: P1: not a dur",
        ),
        (
            '[[notify.destinations]]\nname = "x"\ntype = "file"\npath = "-"\naudience = "board"\n',
            ":5: notify.destinations[0].audience: unknown audience 'board'",
        ),
        (
            '[[notify.destinations]]\nname = "x"\ntype = "email"\nto = ["nobody"]\n',
            ":4: notify.destinations[0].to: expected e-mail addresses",
        ),
        (
            '[[notify.destinations]]\nname = "x"\ntype = "statuspage"\npage_id = "p1"\n'
            'api_key = "k"\n',
            ":5: notify.destinations[0].api_key: secrets never go",
        ),
    ],
)
def test_a_broken_directory_names_file_key_and_line(tmp_path: Path, body: str, where: str) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text(body)
    with pytest.raises(SettingsError) as err:
        load_settings(cfg, env={"USER": "ann"})
    assert str(err.value).startswith(str(cfg)) and where in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_missing_the_ack_deadline_escalates_one_level_once(tmp_path: Path) -> None:
    s = settings(tmp_path)
    clock = FixedClock()
    room = WarRoom.declare(TinyDBRepository(s.data_dir), s, title="x", severity="P1", clock=clock)
    d = s.paging
    assert escalation_facts(room.state, room.policy, d, clock.advance(minutes=59)) == []
    [fact] = escalation_facts(room.state, room.policy, d, clock.advance(minutes=2))
    assert fact.kind == Kind.ESCALATED and fact.data["level"] == "L2"
    assert fact.text == (
        "Escalated to L2 (Team lead) automatically: not acknowledged by 11:00 (P1); paging Bo Chen"
    )
    assert fact.data["targets"] == [{"id": "bo", "name": "Bo Chen", "via": ["pagerduty", "email"]}]
    record(room, [fact])
    record(room, [fact])  # a second console sees the same deadline: written once
    assert [e.data["level"] for e in room.events if e.kind == Kind.ESCALATED] == ["L2"]
    assert escalation_facts(room.state, room.policy, d, clock.advance(minutes=30)) == []
    assert room.state.level == "L2"


def test_raising_the_severity_escalates_to_its_level(tmp_path: Path) -> None:
    s = settings(tmp_path)
    clock = FixedClock()
    room = WarRoom.declare(TinyDBRepository(s.data_dir), s, title="x", severity="P3", clock=clock)
    room.acknowledge()
    d = s.paging
    room.change_severity("P2")
    assert escalation_facts(room.state, room.policy, d, clock.now) == []  # no level for P2
    room.change_severity("P1")
    [fact] = escalation_facts(room.state, room.policy, d, clock.now)
    assert (fact.data["level"], fact.data["auto"]) == ("L2", "severity")
    record(room, [fact])
    room.change_severity("P0")
    [fact] = escalation_facts(room.state, room.policy, d, clock.now)
    assert fact.data["level"] == "L4"  # executives: nobody configured, still recorded
    assert fact.text.endswith("paging nobody (no target configured)")
    room.resolve()
    assert escalation_facts(room.state, room.policy, d, clock.now) == []


def test_regulatory_item_is_due_from_awareness(tmp_path: Path) -> None:
    s = settings(tmp_path, DIRECTORY + '[regulatory]\nnotify_within = "24h"\n')
    clock = FixedClock()
    repo = TinyDBRepository(s.data_dir)
    aware = clock.now - timedelta(hours=2)
    room = WarRoom.declare(repo, s, title="x", severity="P2", category="data", clock=clock,
                           detected_at=aware)  # fmt: skip
    item = room.state.checklist["regulator-notified"]
    assert item.due_at == aware + timedelta(hours=24)
    assert "24h00m from awareness" in item.text
    plain = WarRoom.declare(repo, s, title="y", severity="P2", clock=clock)
    assert "regulator-notified" not in plain.state.checklist
