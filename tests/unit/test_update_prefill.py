"""The update composer's prefill: what warroom knows goes in, so a first notification can go out
without a "TBD"; the commander still edits before sending."""

from warroom.actions.situation import Situation, from_timeline, workloads_from_pods
from warroom.actions.updates import compose
from warroom.model import Kind, Role
from warroom.pods import PodRow


def seen(room) -> None:
    """Checks, alerts and pods as the sources recorded them: one of each recovers."""
    rec = room.record
    rec(Kind.CHECK, "errors crit: 38% (crit >= 5%)", {"check": "errors", "to": "crit"})
    rec(Kind.CHECK, "latency warn: 0.8s (warn >= 0.5s)", {"check": "latency", "to": "warn"})
    rec(Kind.CHECK, "latency ok: 0.2s", {"check": "latency", "to": "ok", "from": "warn"})
    for fp, name, transition in (
        ("f1", "CheckoutHighErrorRate", "fired"),
        ("f2", "KubePodCrashLooping", "fired"),
        ("f2", "KubePodCrashLooping", "resolved"),
    ):
        rec(
            Kind.ALERT,
            f"alert {name} [critical] {transition}: checkout fails",
            {"fingerprint": fp, "alertname": name, "transition": transition, "severity": "crit"},
        )
    for uid, pod, transition in (
        ("u1", "checkout-7d9f8b6c5d-x2bcd", "crashloop"),
        ("u2", "checkout-7d9f8b6c5d-q4tzk", "crashloop"),
        ("u3", "cart-5c6d8f7b9x-kkkzz", "crashloop"),
        ("u3", "cart-5c6d8f7b9x-kkkzz", "recovered"),
    ):
        data = {"uid": uid, "namespace": "shop", "pod": pod, "transition": transition}
        rec(Kind.POD, f"{pod} {transition}", data)


def test_the_timeline_gives_failing_checks_firing_alerts_and_troubled_workloads(declare) -> None:
    room = declare(severity="P1")
    seen(room)
    sit = from_timeline(room.events, room.state)
    assert sit.checks == ["errors crit: 38% (crit >= 5%)"]
    assert sit.alerts == ["CheckoutHighErrorRate (crit): checkout fails"]
    assert sit.workloads == ["shop/checkout: 2 pods in trouble"]


def test_first_notification_has_no_tbd(declare, clock) -> None:
    room = declare(severity="P1")
    seen(room)
    room.assign_role(Role.COMMANDER, "ann")
    room.assign_role(Role.TECH_LEAD, "bo")
    room.add_note("Impact: a third of checkouts fail")
    room.add_note("Next: roll back checkout to 2.8.3")
    kind, text = compose(room, clock())
    assert kind == "notification" and "TBD" not in text
    impact = text.split("Impact:\n")[1].split("\n\n")[0].splitlines()
    assert impact == [
        "- a third of checkouts fail",
        "- Check errors crit: 38% (crit >= 5%)",
        "- Alert CheckoutHighErrorRate (crit): checkout fails",
        "- Affected: shop/checkout: 2 pods in trouble",
    ]
    assert "What we are doing:\n- roll back checkout to 2.8.3" in text
    assert "Responders: commander ann, tech lead bo" in text


def test_without_notes_the_actions_say_what_we_are_doing(declare, clock) -> None:
    room = declare(severity="P1")
    _, text = compose(room, clock())
    assert "Incident commander: not assigned (declared by ann)" in text
    # Nothing seen and nothing written: impact is the commander's to fill, marked as such.
    assert text.count("TBD") == 1 and "Impact:\nTBD" in text
    assert "What we are doing:\n- Investigating: no change made to any system yet" in text
    act = room.record_action("rollout restart shop/checkout", verb="r", target="x", ok=True)
    room.record_outcome(act, "took_effect", "3 replicas updated", 20)
    _, text = compose(room, clock())
    assert "- rollout restart shop/checkout (took effect)" in text


def test_the_consoles_live_pods_name_workloads_with_counts() -> None:
    def row(name: str, status: str, healthy: bool) -> PodRow:
        return PodRow(
            name, "shop", name, "0/1", status, 3, None, None, "n1", "ReplicaSet", "x", {}, healthy,
            "Running", "",
        )  # fmt: skip

    rows = [
        row("checkout-7d9f8b6c5d-x2bcd", "CrashLoopBackOff", False),
        row("checkout-7d9f8b6c5d-q4tzk", "CrashLoopBackOff", False),
        row("checkout-7d9f8b6c5d-zz4bc", "Running", True),
        row("cart-5c6d8f7b9x-bbcdf", "Running", True),
    ]
    assert workloads_from_pods(rows) == ["shop/checkout: 2 of 3 pods unhealthy (CrashLoopBackOff)"]
    assert Situation().checks == []
