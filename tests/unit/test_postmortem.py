"""The post-mortem follows the procedures' template: every section in order, filled from the
timeline where warroom knows, from prefixed notes where people do, 'not recorded' otherwise."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from warroom.model import Kind
from warroom.report import build, to_json, to_markdown
from warroom.report.postmortem import TEMPLATE

SECTION_TITLES = [title for _, title, _ in TEMPLATE]


def node_loss(declare, clock):
    """The node-loss drill's losing moves, as the timeline has them: a plain delete that did
    nothing, then a force delete that took effect."""
    room = declare(title="Cart down", severity="P2", started_at=clock.now - timedelta(minutes=4))
    clock.advance(minutes=1)
    room.record(Kind.CHECK, "Cart error ratio crit", {"check": "Cart errors", "to": "crit"},
                source="prometheus")  # fmt: skip
    room.record(
        Kind.ALERT,
        "alert CartHighErrorRate fired",
        {"alertname": "CartHighErrorRate", "transition": "fired", "severity": "critical",
         "labels": {"service": "cart", "namespace": "shop"}},
        source="alertmanager",
    )  # fmt: skip
    room.record(Kind.POD, "redis-cart-0 entered Unknown",
                {"namespace": "shop", "pod": "redis-cart-0", "transition": "unknown"},
                source="kubernetes")  # fmt: skip
    clock.advance(minutes=2)
    room.acknowledge()
    plain = room.record_action("delete of pod redis-cart-0 in shop requested", verb="delete-pod",
                               target="pods/shop/redis-cart-0", ok=True)  # fmt: skip
    clock.advance(seconds=20)
    room.record_outcome(plain, "no_effect", "still Unknown on the lost node", 20)
    force = room.record_action("force delete of pod redis-cart-0", verb="delete-pod",
                               target="pods/shop/redis-cart-0", ok=True,
                               revert="the owner recreates it")  # fmt: skip
    clock.advance(seconds=30)
    room.record_outcome(force, "took_effect", "recreated on ip-10-0-1-12", 30)
    room.add_note("Root cause: redis-cart-0 stuck Terminating on the lost node")
    room.add_note("Contributing: no PodDisruptionBudget on redis-cart")
    room.add_note("Went well: evidence collected before the first change")
    room.add_note("Improve: the runbook lacked the force delete")
    room.add_note("Recommend now: document force delete for stuck StatefulSet pods")
    room.add_note("Recommend later: move cart sessions off a single redis pod")
    room.add_note("Summary: carts failed for 12 minutes after a node stopped reporting")
    room.add_note("TODO(@bob, due 2026-12-08): alert on pods stuck Terminating")
    room.assign_role("comms_lead", "Dee")
    clock.advance(minutes=5)
    room.resolve("redis-cart-0 recreated on a healthy node")
    return room


def parts_of(room, clock) -> dict:
    return {p.key: p for p in build(room.events, now=clock.now).parts()}


def test_every_section_in_the_templates_order(declare, clock) -> None:
    room = node_loss(declare, clock)
    md = to_markdown(room.events, clock.now)
    headings = re.findall(r"^## (.+)$", md, re.M)
    assert headings == [*SECTION_TITLES, "Event Log"]
    doc = json.loads(to_json(room.events, clock.now))
    assert [s["title"] for s in doc["postmortem"]] == SECTION_TITLES
    # Same parts in both renderings; an empty one stays, marked not recorded.
    parts = {p["key"]: p for s in doc["postmortem"] for p in s["parts"]}
    assert parts["financial_impact"]["recorded"] is False
    assert parts["financial_impact"]["prefix"] == "Financial impact:"
    assert "### Financial impact\n\n_Not recorded._ Add a note starting with" in md


def test_an_ineffective_action_is_tried_not_the_resolution(declare, clock) -> None:
    room = node_loss(declare, clock)
    parts = parts_of(room, clock)
    took = [i["text"] for i in parts["took_effect"].items]
    tried = [i["text"] for i in parts["tried"].items]
    assert len(took) == 1 and "force delete" in took[0] and "(took effect)" in took[0]
    assert len(tried) == 1 and "(no effect)" in tried[0]
    assert "delete of pod redis-cart-0 in shop requested" in tried[0]
    (resolution,) = parts["resolution"].items  # the resolver's summary
    assert resolution["text"] == "redis-cart-0 recreated on a healthy node"
    md = to_markdown(room.events, clock.now)
    block = md.split("### Tried without effect")[1].split("###")[0]
    assert "delete of pod redis-cart-0 in shop requested (no effect)" in block


def test_filled_from_the_timeline(declare, clock) -> None:
    room = node_loss(declare, clock)
    parts = parts_of(room, clock)
    affected = [i["text"] for i in parts["affected"].items]
    assert affected == [
        "workload shop/cart",
        "workload shop/redis-cart",
        "check Cart errors (worst: crit)",
        "alert CartHighErrorRate [critical]",
    ]
    (det,) = parts["detection"].items  # declared at 10:00, the check went crit at 10:01
    assert det["source"] == "declaration" and det["signals"] == 2
    assert det["text"] == (
        "Declared by ann before any check or alert saw it; "
        "first signal 10:01:00 UTC from prometheus: Cart error ratio crit"
    )
    milestones = {m["key"]: m["at"] for m in parts["milestones"].items}
    assert milestones["impact_started"].startswith("2026-11-22T09:56:00")
    assert milestones["mitigated"].startswith("2026-11-22T10:03:50")  # the force delete's outcome
    assert milestones["root_cause"].startswith("2026-11-22T10:03:50")
    metrics = {m["key"]: m["seconds"] for m in parts["metrics"].items}
    assert metrics["contain"] == 230  # detection (the declaration) 10:00 -> mitigated 10:03:50
    assert metrics["recover"] == 300
    people = {p["name"]: p for p in parts["participants"].items}
    assert set(people) == {"ann", "Dee"}  # systems are not participants
    assert people["Dee"]["roles"] == ["comms lead"] and people["Dee"]["events"] == 0
    (item,) = parts["items"].items
    assert (item["id"], item["owner"], item["due"], item["state"]) == (
        "A1",
        "bob",
        "2026-12-08",
        "open",
    )
    assert "- [ ] A1: alert on pods stuck Terminating (@bob, due 2026-12-08): open" in to_markdown(
        room.events, clock.now
    )


def test_filled_from_notes_with_who_and_when(declare, clock) -> None:
    room = node_loss(declare, clock)
    parts = parts_of(room, clock)
    assert [i["text"] for i in parts["contributing"].items] == [
        "no PodDisruptionBudget on redis-cart"
    ]
    assert parts["went_well"].items[0]["by"] == "ann"
    assert [i["text"] for i in parts["recommend_now"].items] == [
        "document force delete for stuck StatefulSet pods"
    ]
    assert parts["recommend_soon"].items == []
    unfilled = [p.key for _, p in build(room.events, now=clock.now).unfilled()]
    assert "recommend_soon" in unfilled and "summary" not in unfilled and "lesson" in unfilled


def test_detected_by_the_first_signal(declare, clock) -> None:
    room = declare(title="Checkout errors", severity="P1")
    room.mark_detected(clock.now - timedelta(minutes=3), "error ratio > 5%", rule="burn")
    parts = parts_of(room, clock)
    (det,) = parts["detection"].items
    assert det["at"].startswith("2026-11-22T09:57:00") and det["source"] == "ann"


def test_missed_signals_and_a_late_ack(declare, clock) -> None:
    """An alert was firing 20 minutes before anyone declared (the console found it already
    firing); the ack came after P0's 15m."""
    from warroom.model import format_ts

    room = declare(title="Checkout slow", severity="P0")
    started = format_ts(clock.now - timedelta(minutes=20))
    room.record(Kind.ALERT, "alert CheckoutSlow fired (already firing)",
                {"alertname": "CheckoutSlow", "transition": "fired", "starts_at": started},
                source="alertmanager")  # fmt: skip
    room.record(Kind.CHECK, "p99 crit", {"check": "p99", "to": "crit"}, source="prometheus")
    clock.advance(minutes=30)
    room.acknowledge()
    parts = parts_of(room, clock)
    texts = [i["text"] for i in parts["missed_auto"].items]
    assert texts == [
        "alert CheckoutSlow fired (already firing): began 09:40:00 UTC, 20m before the declaration",
        "acknowledged 30m after detection; P0 asks for 15m",
    ]


def test_communications_with_audience_and_delivery(declare, clock) -> None:
    room = declare()
    update = room.record(Kind.UPDATE, "Checkout degraded; next update 11:00",
                         {"template": "notification", "update_number": 1})  # fmt: skip
    deliveries = [
        {"update_seq": update.seq, "destination": "slack", "audience": "internal",
         "state": "delivered", "attempts": 1, "last_error": None},
        {"update_seq": update.seq, "destination": "status", "audience": "customers",
         "state": "pending", "attempts": 3, "last_error": "HTTP 503"},
    ]  # fmt: skip
    md = to_markdown(room.events, clock.now, deliveries=deliveries)
    assert (
        "notification: Checkout degraded; next update 11:00 -&gt; customers: pending (HTTP 503); "
        "internal: delivered" in md
    ) or ("internal: delivered; customers: pending (HTTP 503)" in md)
    doc = json.loads(to_json(room.events, clock.now, deliveries=deliveries))
    comms = next(s for s in doc["postmortem"] if s["key"] == "communications")
    (item,) = comms["parts"][0]["items"]
    assert {d["audience"]: d["state"] for d in item["deliveries"]} == {
        "internal": "delivered",
        "customers": "pending",
    }


def test_review_meeting_and_false_positive_in_the_overview(declare, clock, settings) -> None:
    from warroom.followup import schedule_review

    room = declare(severity="P1")
    clock.advance(minutes=10)
    room.resolve("a test alert, not an outage", false_positive=True)
    schedule_review(room, clock.now + timedelta(hours=20), clock.now)
    md = to_markdown(room.events, clock.now, review_within=settings.policy("P1").review_within)
    assert "- Status: resolved (not an incident)" in md
    assert "- Review meeting 2026-11-23 06:10 UTC (P1: within 3d00h)" in md
    doc = json.loads(to_json(room.events, clock.now, review_within=timedelta(hours=72)))
    review = next(s for s in doc["postmortem"] if s["key"] == "review")
    assert review["parts"][0]["items"][0]["on_time"] is True
    assert doc["incident"]["false_positive"] is True
