"""Action items filed as tickets against loopback receivers that answer as GitHub, GitLab and
Jira do: created once, recorded on the timeline, never twice, errors in the tracker's words."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.clock import FixedClock
from tests.fixtures.webhook_trackers import TOKEN
from warroom.actions.tickets import TABLE, TicketExporter, marker
from warroom.model import Kind
from warroom.settings import load_settings

pytestmark = pytest.mark.integration


def _settings(tmp_path: Path, receiver, **extra: str):
    lines = [
        f"[tickets.{receiver.kind}]",
        f'url = "{receiver.base}"',
        f'project = "{receiver.project}"',
        'token_env = "WR_TICKET_TOKEN"',
        "timeout = 1",
    ]
    if receiver.kind == "jira":
        lines.append(f'user = "{receiver.user}"')
    lines += [f'{k} = "{v}"' for k, v in extra.items()]
    cfg = tmp_path / "warroom.toml"
    cfg.write_text("\n".join(lines) + "\n")
    return cfg, load_settings(cfg, data_dir=tmp_path / "data", env={"USER": "ann"})


def _room(settings):
    from warroom.room import WarRoom
    from warroom.store.tinydb import TinyDBRepository

    room = WarRoom.declare(
        TinyDBRepository(settings.data_dir),
        settings,
        title="Cart down",
        severity="P1",
        clock=FixedClock(),
    )
    room.add_note("TODO(@bob, due 2026-12-08): alert on pool exhaustion")
    room.add_action_item("write the node-loss runbook", owner="carol")
    return room


def _export(room, settings, token: str = TOKEN, **kw):
    name = next(iter(settings.trackers))
    return TicketExporter(room, settings.trackers[name], token, **kw).export()


@pytest.mark.parametrize("kind", ["github", "gitlab", "jira"])
def test_items_become_tickets_once(kind, ticket_receiver, tmp_path) -> None:
    receiver = ticket_receiver(kind)
    _, settings = _settings(tmp_path, receiver)
    room = _room(settings)
    first = _export(room, settings)
    assert [(r.item, r.ok, r.how) for r in first] == [
        ("A1", True, "created"),
        ("A2", True, "created"),
    ]
    assert len(receiver.issues) == 2
    # The URL the tracker answered is on the timeline, hash-chained, and folded in the state.
    tickets = [e for e in room.events if e.kind == Kind.ACTION_ITEM and e.data["op"] == "ticket"]
    assert [e.data["url"] for e in tickets] == [r.url for r in first]
    assert room.state.action_items["A1"].tickets[kind] == first[0].url
    assert room.store.verify().ok
    # Again: nothing is sent, nothing is created.
    posts = len(receiver.creates())
    again = _export(room, settings)
    assert [(r.ok, r.how) for r in again] == [(True, "already"), (True, "already")]
    assert len(receiver.creates()) == posts and len(receiver.issues) == 2
    created = receiver.creates()[0].json
    if kind == "github":
        assert created["title"] == f"[{room.incident_id}] alert on pool exhaustion"
        assert "Owner: @bob. Due: 2026-12-08." in created["body"]
        assert marker(room.incident_id, "A1") in created["body"]
        assert first[0].url.endswith("/acme/shop/issues/1")
    elif kind == "gitlab":
        assert created["due_date"] == "2026-12-08"
        assert receiver.creates()[0].headers["PRIVATE-TOKEN"] == TOKEN
        assert "/-/issues/1" in first[0].url
    else:
        fields = created["fields"]
        assert fields["project"] == {"key": "OPS"} and fields["issuetype"] == {"name": "Task"}
        assert fields["duedate"] == "2026-12-08"
        assert f"warroom-{room.incident_id}-A1" in fields["labels"]
        auth = base64.b64encode(f"{receiver.user}:{TOKEN}".encode()).decode()
        assert receiver.creates()[0].headers["Authorization"] == f"Basic {auth}"
        assert first[0].url == f"{receiver.base}/browse/OPS-1"


@pytest.mark.parametrize(
    ("kind", "setup", "said"),
    [
        ("github", "token", "HTTP 401: Bad credentials"),
        ("github", "forbid", "HTTP 403: Resource not accessible by personal access token"),
        ("github", "invalid", "HTTP 422: Validation Failed; missing_field"),
        ("gitlab", "token", "HTTP 401: 401 Unauthorized"),
        ("gitlab", "invalid", "HTTP 400: title is missing"),
        (
            "jira",
            "forbid",
            "HTTP 403: You do not have permission to create issues in this project.",
        ),
        ("jira", "invalid", "HTTP 400: summary: You must specify a summary of the issue."),
    ],
)
def test_refusals_keep_the_item_unexported(kind, setup, said, ticket_receiver, tmp_path):
    receiver = ticket_receiver(kind)
    _, settings = _settings(tmp_path, receiver)
    room = _room(settings)
    token = "wrong-token" if setup == "token" else TOKEN
    if setup in ("forbid", "invalid"):
        setattr(receiver, setup, True)
    results = _export(room, settings, token)
    assert [(r.ok, r.error) for r in results] == [(False, said), (False, said)]
    assert "wrong-token" not in said and not room.state.action_items["A1"].tickets
    doc = room.store.get_doc(TABLE, "A1:" + kind)
    assert doc["state"] == "pending" and doc["last_error"] == said
    # Fixed (right token, permission granted): the next run creates each ticket once.
    receiver.forbid = receiver.invalid = False
    assert all(r.ok and r.how == "created" for r in _export(room, settings))
    assert len(receiver.issues) == 2


def test_tracker_down_then_back_exports_once(ticket_receiver, tmp_path) -> None:
    receiver = ticket_receiver("github")
    _, settings = _settings(tmp_path, receiver)
    room = _room(settings)
    receiver.down()
    down = _export(room, settings)
    assert [(r.ok, r.error) for r in down] == [(False, "connection refused")] * 2
    receiver.up()
    assert [r.how for r in _export(room, settings)] == ["created", "created"]
    assert [r.how for r in _export(room, settings)] == ["already", "already"]
    assert len(receiver.creates()) == 2 and len(receiver.issues) == 2


@pytest.mark.parametrize("kind", ["github", "gitlab", "jira"])
def test_an_answer_lost_after_creating_is_found_not_created_again(
    kind, ticket_receiver, tmp_path
) -> None:
    """The tracker created the ticket but the answer never came (client timeout): the next
    run looks the ticket up by its marker and records it instead of creating a second one."""
    receiver = ticket_receiver(kind)
    _, settings = _settings(tmp_path, receiver)
    room = _room(settings)
    receiver.lose_answers = 1.5  # the client gives up after 1 s
    lost = _export(room, settings)
    assert [(r.ok, r.error) for r in lost] == [(False, "no answer after 1s")] * 2
    time.sleep(0.6)  # the held answers go out (to nobody) before the server is asked again
    assert len(receiver.issues) == 2  # they exist on the tracker
    assert room.store.get_doc(TABLE, f"A1:{kind}")["state"] == "unknown"
    receiver.lose_answers = 0
    found = _export(room, settings)
    assert [(r.ok, r.how) for r in found] == [(True, "found"), (True, "found")]
    assert len(receiver.issues) == 2 and len(receiver.creates()) == 2
    assert room.state.action_items["A2"].tickets[kind] == found[1].url


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "warroom", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


def test_cli_export_and_missing_token(ticket_receiver, tmp_path) -> None:
    receiver = ticket_receiver("gitlab")
    cfg, settings = _settings(tmp_path, receiver)
    room = _room(settings)
    room.store.close()
    base = ["--config", str(cfg), "--data-dir", str(settings.data_dir)]
    no_token = _cli(*base, "action", "export", room.incident_id, "--to", "gitlab", env={})
    assert no_token.returncode == 2
    assert f"{cfg}:4: tickets.gitlab.token_env: $WR_TICKET_TOKEN is not set" in no_token.stderr
    assert "Traceback" not in no_token.stderr
    env = {"WR_TICKET_TOKEN": TOKEN}
    ok = _cli(*base, "action", "export", room.incident_id, "--to", "gitlab", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "A1: created https://gitlab.example/acme/shop/-/issues/1" in ok.stdout
    again = _cli(*base, "action", "export", room.incident_id, "--to", "gitlab", env=env)
    assert "A1: already https://gitlab.example/acme/shop/-/issues/1" in again.stdout
    listed = _cli(*base, "action", "list", "--incident", room.incident_id, env=env).stdout
    assert "gitlab: https://gitlab.example/acme/shop/-/issues/2" in listed
    no_section = _cli(*base, "action", "export", room.incident_id, "--to", "jira", env=env)
    assert no_section.returncode == 2 and "no [tickets.jira] section" in no_section.stderr


def test_a_secret_in_an_action_item_is_not_filed(ticket_receiver, tmp_path) -> None:
    receiver = ticket_receiver("github")
    _, settings = _settings(tmp_path, receiver)
    room = _room(settings)
    room.add_action_item(
        "rotate DB_PASS=Pl4ntedDbPass77 and ghp_PlantedGithubPat0123456789abcdefABCD"
    )
    _export(room, settings)
    created = receiver.creates()[-1].json
    sent = created["title"] + created["body"]
    assert "Pl4ntedDbPass77" not in sent and "ghp_Planted" not in sent
    assert "rotate DB_PASS=[REDACTED] and [REDACTED]" in created["title"]
    assert marker(room.incident_id, "A3") in created["body"]
