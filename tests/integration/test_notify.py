"""Status-update delivery against a real loopback receiver and a real incident store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.fixtures.webhook_receiver import WebhookReceiver
from warroom.actions.notify import update_data
from warroom.actions.outbox import TABLE, Outbox
from warroom.destinations import Destination, NotifyConfigError, mask_url, parse_destinations
from warroom.model import Event, Kind, utcnow
from warroom.room import WarRoom
from warroom.settings import load_settings
from warroom.store.tinydb import TinyDBRepository, TinyDBStore
from warroom.templates import TemplateContext, render

pytestmark = pytest.mark.integration

SECRET = "T0001/B0002/XYZsecretTOKEN9876"


def later(**kw: float) -> datetime:  # a "now" past every backoff
    return utcnow() + timedelta(days=1) + timedelta(**kw)


def client() -> httpx.AsyncClient:
    # Never through a proxy from the environment: the receiver is on loopback.
    return httpx.AsyncClient(trust_env=False)


@pytest.fixture
def repo(tmp_path: Path) -> TinyDBRepository:
    return TinyDBRepository(tmp_path / "data")


@pytest.fixture
def store(repo: TinyDBRepository) -> Iterator[TinyDBStore]:
    s = repo.create(repo.new_id())
    yield s
    s.close()


def dests(receiver: WebhookReceiver, *types: str, **extra: object) -> list[Destination]:
    raw = [
        {"name": f"{t}-incidents", "type": t, "url": receiver.url(f"/{t}/{SECRET}"), **extra}
        for t in types
    ]
    return parse_destinations(raw, "test.toml")


def post_update(store: TinyDBStore, n: int = 2, *, drill: bool = False, **kw: object) -> Event:
    ctx = TemplateContext(
        incident_id=store.incident_id,
        title="Checkout returns 502",
        severity="P1",
        severity_name="high",
        status="identified",
        update_number=n,
        actions_since_last_update=["Rolled back checkout"],
        is_drill=drill,
    )
    kind = "update" if n else "notification"
    return store.append(
        Kind.UPDATE, render(kind, ctx), actor="alice", data=update_data(ctx, kind, **kw)
    )


def room_of(store: TinyDBStore) -> WarRoom:
    """The incident's use cases over the store: the outbox writes its timeline entries
    through them."""
    return WarRoom(store, load_settings(env={"USER": "alice"}))


def system_events(store: TinyDBStore) -> list[Event]:
    return [e for e in store.events() if e.kind == Kind.SYSTEM]


def everything_stored(store: TinyDBStore) -> str:
    return json.dumps([store.docs(TABLE), [e.to_dict() for e in store.events()]])


# -- configuration -------------------------------------------------------------------------


def test_parse_destinations_all_types() -> None:
    parsed = parse_destinations(
        [
            {"name": "slack", "type": "slack", "url": "https://hooks.slack.com/services/A/B/C"},
            {"name": "teams", "type": "teams", "url": "https://example.webhook.office.com/x"},
            {
                "name": "pager",
                "type": "webhook",
                "url": "http://127.0.0.1:9/in",
                "headers": {"Authorization": "Bearer s3cr3t"},
                "timeout": 2,
            },
            {"name": "log", "type": "file", "path": "-"},
        ],
        "warroom.toml",
    )
    assert [(d.name, d.type) for d in parsed] == [
        ("slack", "slack"),
        ("teams", "teams"),
        ("pager", "webhook"),
        ("log", "file"),
    ]
    assert parsed[2].timeout == 2.0 and parsed[0].timeout == 5.0
    assert "s3cr3t" not in repr(parsed) and "services/A/B" not in repr(parsed)


@pytest.mark.parametrize(
    ("entry", "key", "problem"),
    [
        ({"type": "slack", "url": "https://h/x"}, "[0].name", "missing"),
        ({"name": "a", "type": "fax"}, "[0].type", "expected one of"),
        ({"name": "a", "type": "slack"}, "[0].url", "missing"),
        ({"name": "a", "type": "slack", "url": f"ftp://h/{SECRET}"}, "[0].url", "http"),
        ({"name": "a", "type": "file"}, "[0].path", "missing"),
        ({"name": "a", "type": "file", "path": "x", "url": "https://h"}, "[0].url", "not used"),
        ({"name": "a", "type": "slack", "url": "https://h/x", "timeout": 0}, "[0].timeout", ""),
        ({"name": "a", "type": "slack", "url": "https://h/x", "headers": 1}, "[0].headers", ""),
        ({"name": "a", "type": "slack", "url": "https://h/x", "urll": 1}, "[0].urll", "unknown"),
    ],
)
def test_parse_destinations_errors_name_source_and_key(entry: dict, key: str, problem: str) -> None:
    with pytest.raises(NotifyConfigError) as err:
        parse_destinations([entry], "/etc/warroom.toml")
    msg = str(err.value)
    assert msg.startswith(f"/etc/warroom.toml: notify.destinations{key}: ")
    assert problem in msg
    assert "XYZsecret" not in msg


def test_parse_destinations_duplicate_and_line() -> None:
    entry = {"name": "a", "type": "file", "path": "-"}
    with pytest.raises(
        NotifyConfigError, match=r"^w\.toml:7: notify\.destinations\[1\]\.name: dup"
    ):
        parse_destinations([entry, entry], "w.toml", line_of=lambda key: 7)


def test_mask_url() -> None:
    assert (
        mask_url(f"https://hooks.slack.com/services/{SECRET}") == "https://hooks.slack.com/…/9876"
    )
    assert mask_url("http://user:pw@127.0.0.1:8080/a/b/cdefgh/") == "http://127.0.0.1:8080/…/efgh"
    assert "secret" not in mask_url("not a url secretTOKEN")


# -- payloads --------------------------------------------------------------------------------


async def test_slack_payload(store: TinyDBStore, webhook_receiver: WebhookReceiver) -> None:
    outbox = Outbox(room_of(store), dests(webhook_receiver, "slack"), client_factory=client)
    store_event = store.append(
        Kind.UPDATE, "Hi <!channel> & \x1b[31mred\x1b[0m", actor="alice", data={"update_number": 1}
    )
    outbox.enqueue(store_event)
    [result] = await outbox.deliver_due()
    assert result.ok and result.status_code == 200 and result.state == "delivered"
    [req] = webhook_receiver.requests
    assert req.path == f"/slack/{SECRET}"
    assert req.headers["Content-Type"] == "application/json"
    # Mentions are escaped to text, escape sequences dropped.
    assert req.json == {"text": "Hi &lt;!channel&gt; &amp; red"}
    assert outbox.undelivered_count() == 0
    assert system_events(store) == []  # a clean first-try delivery does not touch the timeline


async def test_teams_payload(store: TinyDBStore, webhook_receiver: WebhookReceiver) -> None:
    outbox = Outbox(room_of(store), dests(webhook_receiver, "teams"), client_factory=client)
    ev = post_update(store, 3, drill=True, url="https://status.example/inc/1")
    outbox.enqueue(ev)
    [result] = await outbox.deliver_due()
    assert result.ok
    card = webhook_receiver.requests[0].json
    assert card["@type"] == "MessageCard"
    assert card["@context"] == "https://schema.org/extensions"
    assert card["title"] == f"[DRILL] {store.incident_id}: Checkout returns 502 (update #3)"
    assert card["summary"] == card["title"]
    assert card["text"].startswith("[DRILL]")
    assert "STATUS UPDATE #3" in card["text"]
    assert card["themeColor"] == "E65100"
    assert card["potentialAction"][0]["targets"][0]["uri"] == "https://status.example/inc/1"


async def test_generic_webhook_payload_and_headers(
    store: TinyDBStore, webhook_receiver: WebhookReceiver
) -> None:
    destinations = dests(webhook_receiver, "webhook", headers={"Authorization": "Bearer tok"})
    outbox = Outbox(room_of(store), destinations, client_factory=client)
    ev = post_update(store, 2, url="https://status.example/inc/1")
    outbox.enqueue(ev)
    await outbox.deliver_due()
    req = webhook_receiver.requests[0]
    assert req.headers["Authorization"] == "Bearer tok"
    body = req.json
    assert set(body) == {
        "incident",
        "title",
        "severity",
        "status",
        "text",
        "url",
        "sent_at",
        "update_number",
        "drill",
        "idempotency_key",  # the same on every attempt: a receiver can drop a retry
    }
    assert body["idempotency_key"] == req.headers["Idempotency-Key"]
    assert body["idempotency_key"].startswith(f"{store.incident_id}:")
    assert body["incident"] == store.incident_id
    assert body["title"] == "Checkout returns 502"
    assert (body["severity"], body["status"], body["update_number"]) == ("P1", "identified", 2)
    assert body["drill"] is False
    assert body["text"] == ev.text
    assert body["url"] == "https://status.example/inc/1"
    assert body["sent_at"].endswith("+00:00")
    assert "Bearer tok" not in everything_stored(store)


async def test_file_sink_appends_blocks(
    store: TinyDBStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "updates.log"
    destinations = parse_destinations(
        [
            {"name": "log", "type": "file", "path": str(path)},
            {"name": "out", "type": "file", "path": "-"},
        ],
        "test.toml",
    )
    outbox = Outbox(room_of(store), destinations)
    first, second = post_update(store, 0), post_update(store, 1)
    outbox.enqueue(first)
    outbox.enqueue(second)
    results = await outbox.deliver_due()
    assert [r.ok for r in results] == [True] * 4
    text = path.read_text()
    assert text.index("INCIDENT NOTIFICATION") < text.index("STATUS UPDATE #1")
    assert f"{store.incident_id}: Checkout returns 502 (notification)" in text
    assert "STATUS UPDATE #1" in capsys.readouterr().out


async def test_file_sink_error_is_recorded(store: TinyDBStore, tmp_path: Path) -> None:
    destinations = parse_destinations(
        [{"name": "log", "type": "file", "path": str(tmp_path / "missing" / "x.log")}], "t.toml"
    )
    outbox = Outbox(room_of(store), destinations)
    outbox.enqueue(post_update(store))
    [result] = await outbox.deliver_due()
    assert not result.ok and "cannot write" in (result.error or "")
    assert outbox.undelivered_count() == 1


# -- outbox: nothing is lost --------------------------------------------------------------


async def test_receiver_down_then_up(store: TinyDBStore, webhook_receiver: WebhookReceiver):
    outbox = Outbox(room_of(store), dests(webhook_receiver, "slack"), client_factory=client)
    webhook_receiver.down()
    keys = outbox.enqueue(post_update(store))
    assert keys == [f"{store.events()[-1].seq}:slack-incidents"]
    assert outbox.undelivered_count() == 1  # persisted before any attempt

    [r1] = await outbox.deliver_due()
    assert not r1.ok and r1.error == "connection refused" and r1.next_attempt_at is not None
    assert await outbox.deliver_due(now=r1.next_attempt_at - timedelta(seconds=1)) == []
    [r2] = await outbox.deliver_due(now=later())
    assert not r2.ok and r2.attempts == 2
    [item] = outbox.pending()
    assert (item.state, item.attempts, item.last_error) == ("pending", 2, "connection refused")
    # One timeline event for the first failure, none per retry.
    [failed] = system_events(store)
    assert failed.text == "update #2 to slack-incidents not delivered: connection refused; retrying"

    webhook_receiver.up()
    [r3] = await outbox.deliver_due(now=later(hours=1))
    assert r3.ok and r3.attempts == 3
    assert outbox.undelivered_count() == 0 and outbox.pending() == []
    assert len(webhook_receiver.requests) == 1
    assert (
        system_events(store)[-1].text == "update #2 to slack-incidents delivered after 3 attempts"
    )
    assert system_events(store)[-1].data["destination"] == "slack-incidents"


async def test_pending_survives_restart(repo: TinyDBRepository, webhook_receiver):
    store = repo.create(repo.new_id())
    incident_id = store.incident_id
    destinations = dests(webhook_receiver, "webhook")
    webhook_receiver.down()
    outbox = Outbox(room_of(store), destinations, client_factory=client)
    ev = post_update(store)
    outbox.enqueue(ev)
    await outbox.deliver_due()
    store.close()

    webhook_receiver.up()
    reopened = repo.open(incident_id)
    try:
        fresh = Outbox(room_of(reopened), destinations, client_factory=client)
        assert fresh.undelivered_count() == 1
        assert fresh.pending()[0].last_error == "connection refused"
        [result] = await fresh.deliver_due(now=later())
        assert result.ok and result.attempts == 2
        assert webhook_receiver.requests[0].json["text"] == ev.text
        assert fresh.undelivered_count() == 0
    finally:
        reopened.close()


async def test_http_500_is_retried(store: TinyDBStore, webhook_receiver: WebhookReceiver):
    outbox = Outbox(room_of(store), dests(webhook_receiver, "slack"), client_factory=client)
    webhook_receiver.respond(500, "no_service")
    outbox.enqueue(post_update(store))
    [r1] = await outbox.deliver_due()
    assert (r1.ok, r1.status_code, r1.error) == (False, 500, "HTTP 500: no_service")
    assert outbox.pending()[0].last_error == "HTTP 500: no_service"

    webhook_receiver.respond(200)
    [r2] = await outbox.deliver_due(now=later())
    assert r2.ok
    first, second = webhook_receiver.requests
    assert first.body == second.body  # the same update, resent unchanged


async def test_timeout_is_retried(store: TinyDBStore, webhook_receiver: WebhookReceiver):
    outbox = Outbox(
        room_of(store), dests(webhook_receiver, "webhook", timeout=0.2), client_factory=client
    )
    webhook_receiver.respond(200, delay=3)
    outbox.enqueue(post_update(store))
    [r1] = await outbox.deliver_due()
    assert (r1.ok, r1.error) == (False, "timeout after 0.2s")

    webhook_receiver.respond(200)
    [r2] = await outbox.deliver_due(now=later())
    assert r2.ok and outbox.undelivered_count() == 0


async def test_updates_keep_their_order(store: TinyDBStore, webhook_receiver: WebhookReceiver):
    outbox = Outbox(
        room_of(store), dests(webhook_receiver, "webhook", "slack"), client_factory=client
    )
    webhook_receiver.down()
    for n in (1, 2, 3):
        outbox.enqueue(post_update(store, n))
    results = await outbox.deliver_due()
    # Only the oldest update per destination is tried while the destination fails.
    assert {r.update_seq for r in results} == {outbox.pending()[0].update_seq}
    assert outbox.undelivered_count() == 3 and len(outbox.pending()) == 6

    webhook_receiver.up()
    results = await outbox.deliver_due(now=later())
    assert len(results) == 6 and all(r.ok for r in results)
    for kind in ("webhook", "slack"):
        bodies = [r.body.decode() for r in webhook_receiver.requests if f"/{kind}/" in r.path]
        assert [re.findall(r"UPDATE #(\d)", b) for b in bodies] == [["1"], ["2"], ["3"]]


async def test_max_attempts_gives_up_visibly_and_retry_now(
    store: TinyDBStore, webhook_receiver: WebhookReceiver
):
    outbox = Outbox(
        room_of(store), dests(webhook_receiver, "slack"), client_factory=client, max_attempts=2
    )
    webhook_receiver.respond(503)
    outbox.enqueue(post_update(store))
    await outbox.deliver_due()
    [r2] = await outbox.deliver_due(now=later())
    assert (r2.state, r2.next_attempt_at) == ("failed", None)
    assert await outbox.deliver_due(now=later(days=30)) == []
    assert outbox.undelivered_count() == 1  # given up, still visible
    assert "gave up after 2 attempts: HTTP 503" in system_events(store)[-1].text

    webhook_receiver.respond(200)
    assert outbox.retry_now() == 1
    [r3] = await outbox.deliver_due()
    assert r3.ok and outbox.undelivered_count() == 0


async def test_enqueue_is_idempotent_and_only_for_updates(
    store: TinyDBStore, webhook_receiver: WebhookReceiver
) -> None:
    outbox = Outbox(
        room_of(store), dests(webhook_receiver, "slack", "teams"), client_factory=client
    )
    ev = post_update(store)
    assert outbox.enqueue(ev) == outbox.enqueue(ev)
    assert len(outbox.pending()) == 2 and outbox.undelivered_count() == 1
    note = store.append(Kind.NOTE, "hello", actor="alice")
    with pytest.raises(ValueError, match="only update events"):
        outbox.enqueue(note)


async def test_removed_destination_keeps_item(store: TinyDBStore, webhook_receiver):
    Outbox(room_of(store), dests(webhook_receiver, "slack"), client_factory=client).enqueue(
        post_update(store)
    )
    outbox = Outbox(room_of(store), [], client_factory=client)  # config changed across a restart
    assert await outbox.deliver_due() == []
    [item] = outbox.pending()
    assert item.last_error == "destination no longer configured"


# -- secrets ---------------------------------------------------------------------------------


async def test_webhook_url_never_stored_or_shown(
    store: TinyDBStore, webhook_receiver: WebhookReceiver
) -> None:
    destinations = dests(webhook_receiver, "slack", "webhook")
    outbox = Outbox(room_of(store), destinations, client_factory=client)
    outbox.enqueue(post_update(store))
    # A receiver that echoes the URL back in its error body, past the length we keep of it.
    echoed = webhook_receiver.url("/slack/" + SECRET)
    webhook_receiver.respond(500, f"bad hook {'x' * 70} {echoed}")
    failed = await outbox.deliver_due()
    webhook_receiver.down()
    refused = await outbox.deliver_due(now=later())
    webhook_receiver.up()
    webhook_receiver.respond(200)
    await outbox.deliver_due(now=later(hours=1))

    secret = SECRET[:-4]
    shown = [r.error or "" for r in failed + refused] + [repr(d) for d in destinations]
    shown += [repr(outbox.destinations), everything_stored(store)]
    assert all(secret not in s for s in shown)
    assert "9876" in failed[0].error  # the masked form is still recognisable
    assert f"127.0.0.1:{webhook_receiver.port}/…/9876" in failed[0].error


async def test_drill_marker_survives_editing(
    store: TinyDBStore, webhook_receiver: WebhookReceiver
) -> None:
    outbox = Outbox(room_of(store), dests(webhook_receiver, "slack"), client_factory=client)
    ev = store.append(Kind.UPDATE, "All good now", actor="alice", data={"drill": True})
    outbox.enqueue(ev)
    await outbox.deliver_due()
    assert webhook_receiver.requests[0].json == {"text": "[DRILL] All good now"}


async def test_two_consoles_deliver_an_update_once(
    repo: TinyDBRepository, webhook_receiver: WebhookReceiver
) -> None:
    """Two consoles on one incident (two stores, two outboxes, as two processes have) both
    run their delivery pass: the claim under the store lock lets only one of them send."""
    import asyncio

    first = repo.create(repo.new_id())
    second = repo.open(first.incident_id)
    try:
        destinations = dests(webhook_receiver, "webhook")
        webhook_receiver.delay = 0.5  # both passes overlap the send
        a = Outbox(room_of(first), destinations, client_factory=client, actor="ann")
        b = Outbox(room_of(second), destinations, client_factory=client, actor="bo")
        a.enqueue(post_update(first))
        results = await asyncio.gather(a.deliver_due(), b.deliver_due())
        assert sorted(len(r) for r in results) == [0, 1]
        assert len(webhook_receiver.requests) == 1
        assert a.undelivered_count() == b.undelivered_count() == 0
        doc = second.get_doc(TABLE, a.items()[0].key)
        assert doc["state"] == "delivered" and doc["claimed_by"] is None
    finally:
        first.close()
        second.close()


async def test_a_lease_left_by_a_dead_console_expires(
    repo: TinyDBRepository, webhook_receiver: WebhookReceiver
) -> None:
    first = repo.create(repo.new_id())
    second = repo.open(first.incident_id)
    try:
        destinations = dests(webhook_receiver, "webhook")
        dead = Outbox(room_of(first), destinations, client_factory=client, actor="ann")
        dead.enqueue(post_update(first))
        assert dead._claim(dead.pending()[0], utcnow())  # then killed before it could send
        alive = Outbox(room_of(second), destinations, client_factory=client, actor="bo")
        assert await alive.deliver_due() == []  # the lease holds: not sent twice
        assert webhook_receiver.requests == []
        [result] = await alive.deliver_due(now=later())  # lease expired: bo sends it
        assert result.ok and len(webhook_receiver.requests) == 1
    finally:
        first.close()
        second.close()
