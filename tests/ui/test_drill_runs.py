"""Scored drills played through the real console (Pilot) against the drill world on loopback.

Each scenario is won (from the console alone, and with kubectl) and lost by scripts from
tests/drill_scripts: the script's steps press the console's keys and answer its dialogs,
kubectl steps run the real kubectl against the drill cluster, the scenario reacts, and the
score comes from the timeline alone.
Speed 20: a scenario minute is three wall seconds.
"""

from datetime import timedelta
from pathlib import Path

import pytest

from tests.support import UI_SIZE as SIZE
from warroom.cli.drill import declare_drill, drill_settings
from warroom.console.app import WarRoomApp
from warroom.console.drill_script import play_script
from warroom.drill.recorder import DrillRecorder
from warroom.drill.report import score_drill, to_markdown
from warroom.drill.script import load_script
from warroom.model import Kind, parse_ts
from warroom.projection import project
from warroom.report import metrics

pytestmark = pytest.mark.integration
SCRIPTS = Path(__file__).parent.parent / "drill_scripts"
SPEED = 20.0


async def play(drill_factory, settings, repo, name: str):
    script = load_script(SCRIPTS / f"{name}.yaml")
    world = drill_factory(scenario=script.scenario, speed=SPEED, wall_timestamps=True)
    s = drill_settings(settings, world)
    room = declare_drill(repo, s, world)
    app = WarRoomApp(s, repo=repo, room=room, world=world)
    recorder = DrillRecorder(room, world, on_recorded=app.timeline_changed)
    recorder.start()
    async with app.run_test(size=SIZE) as pilot:
        run = await play_script(app, pilot, script, world.world.clock.elapsed)
    assert run.failed is None, run.lines
    recorder.finish()
    events = room.store.events()
    result = score_drill(events, world.scenario, s.policy)
    reactions = [h.detail for h in world.happenings if h.source == "reaction" and h.kind == "react"]
    return result, events, reactions, to_markdown(events, world.scenario, result)


def passed(result) -> dict[str, bool]:
    return {o.id: o.passed for o in result.objectives}


ALL_PASS = dict.fromkeys(
    ("ack", "severity", "first_update", "mitigation", "evidence", "phases", "resolved"), True
)


async def test_crashloop_won_with_evidence_then_restart(drill_factory, settings, repo) -> None:
    result, events, reactions, md = await play(drill_factory, settings, repo, "crashloop-win")
    assert passed(result) == ALL_PASS and result.won and result.percent == 100
    assert reactions == ["rollout restart warms each pod before traffic"]
    assert result.by_id("mitigation").measured.startswith("rollout restart deployment/checkout-api")
    evidence = [e for e in events if e.kind == Kind.EVIDENCE]
    assert len(evidence) == 1 and evidence[0].data["sha256"]  # a real bundle, sealed and hashed
    assert evidence[0].data["pod"] is None and evidence[0].data["namespace"] == "shop"  # `e`
    assert "**Result: WON, 100/100 points (100%).**" in md
    # The post-mortem counts from the failure (scenario t+50s), not from the drill's start.
    start = next(e for e in events if e.data.get("drill") == "start")
    state = project(events)
    m = metrics(state, events[-1].time)
    late = m.started_at - (parse_ts(start.data["t0"]) + timedelta(seconds=50 / SPEED))
    # Never before the failure's scenario time (timestamps are kept to the millisecond); how
    # much later depends on the machine's load, so no upper bound here (no timing assertions).
    assert late >= timedelta(milliseconds=-2)
    assert m.detected_at is not None and m.detected_at >= m.started_at
    assert m.mttd is not None and m.mttd < timedelta(seconds=60)


async def test_crashloop_lost_by_deleting_a_pod_first(drill_factory, settings, repo) -> None:
    result, _, reactions, md = await play(drill_factory, settings, repo, "crashloop-lose")
    assert passed(result) == {
        **ALL_PASS,
        "severity": False,
        "first_update": False,
        "mitigation": False,
        "evidence": False,
        "phases": False,
    }
    assert not result.won and result.points == 30  # ack 15 + resolved 15
    assert result.wrong_moves and result.wrong_moves[0].startswith(
        "delete a pod of deployment/checkout-api"
    )
    assert reactions == ["rollout restart warms each pod before traffic"]  # the later restart
    assert "**Result: LOST" in md and "## Wrong moves" in md


async def test_error_spike_won_by_scaling_from_the_console(drill_factory, settings, repo) -> None:
    """No kubectl: `2 : deploy`, `c` on inventory, 4, confirm. Recorded with its command and
    revert, and watched until four replicas are ready."""
    result, events, reactions, _ = await play(drill_factory, settings, repo, "error-spike-win")
    assert passed(result) == ALL_PASS and result.won
    assert reactions == ["four or more inventory replicas absorb the surge"]
    [scaled] = [e for e in events if e.kind == Kind.ACTION]
    assert scaled.data["verb"] == "scale" and "via" not in scaled.data  # the console's own
    assert scaled.data["replicas"] == 4 and scaled.data["from_replicas"] == 2
    assert scaled.data["target"] == "deployments/shop/inventory"
    assert scaled.data["command"] == (
        "kubectl scale deployment/inventory --replicas=4 -n shop --context warroom-drill"
    )
    assert scaled.data["revert"] == "kubectl scale deployment/inventory --replicas=2 -n shop"
    [outcome] = [e for e in events if e.kind == Kind.OUTCOME]
    assert outcome.data["outcome"] == "took_effect" and "runs 4 replicas" in outcome.text
    # Our own change is not reported again as a change made elsewhere.
    assert not [e for e in events if e.kind == Kind.CHANGE and "inventory" in e.text]


async def test_error_spike_won_with_kubectl_in_a_second_terminal(
    drill_factory, settings, repo
) -> None:
    result, events, reactions, _ = await play(
        drill_factory, settings, repo, "error-spike-kubectl-win"
    )
    assert passed(result) == ALL_PASS and result.won
    assert reactions == ["four or more inventory replicas absorb the surge"]
    scaled = [e for e in events if e.kind == Kind.ACTION]
    assert [e.data["verb"] for e in scaled] == ["scale"]  # kubectl's change, seen by the drill
    assert scaled[0].data["replicas"] == 4 and scaled[0].data["via"] == "kubectl"
    # Every pod is Running and Ready: the bundle holds the pods the failing checks and firing
    # alerts point at (checkout-api behind the error ratio, inventory behind its latency).
    [bundle] = [e for e in events if e.kind == Kind.EVIDENCE]
    assert bundle.data["pods"] >= 4 and "no pod data" not in bundle.text
    names = " ".join(bundle_pods(repo, bundle))
    assert "checkout-api-" in names and "inventory-" in names


async def test_error_spike_lost_by_restarting_the_caller(drill_factory, settings, repo) -> None:
    result, _, reactions, _ = await play(drill_factory, settings, repo, "error-spike-lose")
    assert reactions == ["restarted checkout pods retry into the saturated dependency"]
    assert not result.won
    m, r = result.by_id("mitigation"), result.by_id("resolved")
    assert not m.passed and "scale deployment/inventory to 4+ replicas" in m.missed
    assert not r.passed and r.measured.endswith("with no fix in place")
    assert "rollout restart deployment/checkout-api" in result.wrong_moves[0]


async def test_node_loss_won_by_force_deleting_from_the_console(
    drill_factory, settings, repo
) -> None:
    """No kubectl: ctrl+k on redis-cart-0 with its name typed, then the lost node cordoned."""
    result, events, reactions, _ = await play(drill_factory, settings, repo, "node-loss-win")
    assert passed(result) == ALL_PASS and result.won
    assert reactions == ["a forced delete frees redis-cart-0 for the StatefulSet"]
    delete, cordon = [e for e in events if e.kind == Kind.ACTION]
    assert delete.data["grace"] == 0 and delete.data["target"] == "pods/shop/redis-cart-0"
    assert delete.data["verb"] == "delete-pod" and "force delete (grace period 0)" in delete.text
    assert delete.data["command"].startswith(
        "kubectl delete pod redis-cart-0 -n shop --grace-period=0 --force"
    )
    assert cordon.data["verb"] == "cordon"
    assert cordon.data["target"] == "nodes/ip-10-0-3-88.eu-west-1.compute.internal"
    assert cordon.data["revert"].startswith("kubectl uncordon ip-10-0-3-88")
    outcomes = {e.data["action"]: e for e in events if e.kind == Kind.OUTCOME}
    assert outcomes[delete.seq].data["outcome"] == "took_effect"
    assert outcomes[cordon.seq].data["outcome"] == "took_effect"
    assert "unschedulable" in outcomes[cordon.seq].text


async def test_node_loss_won_with_kubectl_in_a_second_terminal(
    drill_factory, settings, repo
) -> None:
    result, events, reactions, _ = await play(
        drill_factory, settings, repo, "node-loss-kubectl-win"
    )
    assert passed(result) == ALL_PASS and result.won
    assert reactions == ["a forced delete frees redis-cart-0 for the StatefulSet"]
    action = next(e for e in events if e.kind == Kind.ACTION)
    assert action.data["grace"] == 0 and action.data["target"] == "pods/shop/redis-cart-0"
    pods = [e.text for e in events if e.kind == Kind.POD]
    assert any("redis-cart-0" in t for t in pods)  # the watcher saw it go Unknown/Terminating


async def test_crashloop_won_by_a_rollback_from_the_console(drill_factory, settings, repo) -> None:
    result, events, reactions, _ = await play(
        drill_factory, settings, repo, "crashloop-rollback-win"
    )
    assert passed(result) == ALL_PASS and result.won
    # The scenario's second reaction also fires once the first has cleared "broken".
    assert reactions[0] == "rollback to 2.8.3 also heals"
    [undo] = [e for e in events if e.kind == Kind.ACTION]
    assert undo.data["verb"] == "rollout-undo"
    assert undo.data["image"] == "registry.example.com/shop/checkout-api:2.8.3"
    assert undo.data["to_revision"] < undo.data["from_revision"]
    assert undo.data["revert"].startswith(
        f"kubectl rollout undo deployment/checkout-api --to-revision={undo.data['from_revision']}"
    )
    assert result.by_id("mitigation").measured.startswith("rolled back deployment/checkout-api")


async def test_a_drain_blocked_by_a_disruption_budget_says_so_and_stops(
    drill_factory, settings, repo
) -> None:
    """redis-cart-0's budget (minAvailable 1, one replica) refuses its eviction: the drain
    evicts the rest, reports the block with the budget's words and ends at its timeout."""
    # Its timeout: kube.drain_timeout (2m) / speed 20, raised to the drill's 10s floor.
    _, events, _, _ = await play(drill_factory, settings, repo, "crashloop-drain-blocked")
    [drain] = [e for e in events if e.kind == Kind.ACTION]
    assert drain.data["verb"] == "drain" and drain.data["ok"]
    # (a checkout-api pod may be blocked too: the 2.9.0 rollout spends its budget)
    assert "shop/redis-cart-0" in drain.data["blocked"]
    assert "blocked by a disruption budget: " in drain.text
    budget = "The disruption budget redis-cart needs 1 healthy pods and has 1 currently"
    assert f"shop/redis-cart-0: {budget}" in drain.text
    assert drain.data["revert"].startswith("kubectl uncordon ip-10-0-2-41")
    assert "incomplete after " in drain.text  # it gave up at its timeout
    assert drain.data["evicted"] >= 2 and drain.data["pods"] >= 4  # cart, frontend at least
    [outcome] = [e for e in events if e.kind == Kind.OUTCOME]
    assert outcome.data["outcome"] == "pending"  # some evicted, redis-cart-0 still there
    assert "still on it: " in outcome.text and "shop/redis-cart-0" in outcome.text


async def test_node_loss_lost_by_a_graceful_delete(drill_factory, settings, repo) -> None:
    result, events, reactions, report = await play(drill_factory, settings, repo, "node-loss-lose")
    assert reactions == ["restarted cart pods cannot reach redis either"]
    verbs = [e.data["verb"] for e in events if e.kind == Kind.ACTION]
    assert verbs == ["delete-pod", "rollout-restart"]  # both through the console
    # The plain delete was accepted and changed nothing: the record says so, and no
    # mitigation is ticked for it.
    delete = next(e for e in events if e.kind == Kind.ACTION and e.data["verb"] == "delete-pod")
    [outcome] = [e for e in events if e.kind == Kind.OUTCOME and e.data["action"] == delete.seq]
    assert outcome.data["outcome"] == "no_effect"
    assert "still" in outcome.text and "force delete" in outcome.text
    ticks = [
        e for e in events if e.kind == Kind.CHECKLIST and e.data.get("by_event") == outcome.seq
    ]
    assert ticks == []
    assert "No effect: pods/shop/redis-cart-0" in report
    assert passed(result) == {
        **dict.fromkeys(ALL_PASS, False),
        "ack": True,
    }
    assert result.by_id("severity").measured == "ended at P2"
    assert any("restart deployment/cart" in m for m in result.wrong_moves)


def bundle_pods(repo, ev) -> list[str]:
    """The pods an evidence bundle's manifest says it holds."""
    import json
    import tarfile

    path = repo.dir / f"{ev.data['bundle'].split('-20')[0]}.evidence" / ev.data["bundle"]
    if not path.exists():
        path = next(repo.dir.glob(f"*.evidence/{ev.data['bundle']}"))
    with tarfile.open(path) as tar:
        manifest = next(m for m in tar.getmembers() if m.name.endswith("/manifest.json"))
        return json.load(tar.extractfile(manifest))["scope"]["pods"]


async def test_crashloop_won_from_the_keyboard_with_events_doing_the_checklist(
    drill_factory, settings, repo
) -> None:
    """100/100 without ticking by hand any item an event did: the only hand ticks are the
    steps nothing on the timeline can witness, and the first notification has no TBD."""
    result, events, _, _ = await play(drill_factory, settings, repo, "crashloop-keyboard")
    assert passed(result) == ALL_PASS and result.percent == 100
    state = project(events)
    by_hand = {
        e.data["item"]
        for e in events
        if e.kind == Kind.CHECKLIST and e.data.get("op") == "done" and "by_event" not in e.data
    }
    assert by_hand == {"freeze-changes", "recent-changes", "fix-applied"}
    assert not any(state.checklist[i].done_when for i in by_hand)
    ticked = {
        e.data["item"]: next(x for x in events if x.seq == e.data["by_event"])
        for e in events
        if e.kind == Kind.CHECKLIST and "by_event" in e.data
    }
    assert ticked["ic-assigned"].kind == Kind.ROLE and ticked["roles-assigned"].kind == Kind.ROLE
    assert ticked["scope-assessed"].data["section"] == "impact"
    assert ticked["root-cause"].data["section"] == "root_cause"
    assert ticked["leadership-informed"].kind == Kind.ESCALATED
    assert ticked["mitigation-applied"].kind == Kind.OUTCOME
    assert ticked["mitigation-verified"].data["health"] == "verified"
    assert ticked["health-verified"] is ticked["mitigation-verified"]
    assert ticked["alerts-cleared"].kind == Kind.ALERT
    assert ticked["resolution-notice"].data["template"] == "resolution"
    first = next(e for e in events if e.kind == Kind.UPDATE)
    assert "TBD" not in first.text
    assert "Incident commander: ann" in first.text
    assert "checkout" in first.text.split("Impact:")[1].lower()


async def test_compromised_pod_won_by_quarantine(drill_factory, settings, repo) -> None:
    result, events, reactions, md = await play(drill_factory, settings, repo, "compromised-win")
    assert passed(result) == ALL_PASS and result.won, md
    assert reactions == ["the quarantine cuts the implant off and keeps it for forensics"]
    actions = [e for e in events if e.kind == Kind.ACTION]
    assert [e.data["verb"] for e in actions] == [
        "quarantine-label",
        "quarantine-isolate",
        "quarantine-detach",
    ]
    assert all(e.data["revert"] for e in actions)
    outcomes = [e for e in events if e.kind == Kind.OUTCOME]
    assert [o.data["outcome"] for o in outcomes] == ["took_effect"] * 3
    assert "out of every endpoint; still Running for forensics" in outcomes[-1].text
    # The evidence of that very pod came first, on its own.
    evidence = [e for e in events if e.kind == Kind.EVIDENCE]
    pod = actions[0].data["target"].rpartition("/")[2]
    assert evidence[0].seq < actions[0].seq and evidence[0].data["pod"] == pod
    assert result.by_id("mitigation").measured.startswith(f"quarantine {pod} in shop: label pod")
    state = project(events)
    assert state.category == "security"
    # The security checklist's "isolated" item was ticked by the policy's outcome, not by hand.
    tick = next(e for e in events if e.kind == Kind.CHECKLIST and e.data.get("item") == "isolate")
    assert tick.data["by_event"] == outcomes[1].seq


async def test_compromised_pod_lost_by_deleting_it(drill_factory, settings, repo) -> None:
    result, _, reactions, md = await play(drill_factory, settings, repo, "compromised-lose")
    assert reactions == ["deleting the pod kills the implant, and the evidence with it"]
    assert passed(result) == {**dict.fromkeys(ALL_PASS, False), "ack": True}
    assert result.wrong_moves[0].startswith("delete a pod of deployment/image-resizer")
    assert "nothing is left to investigate" in result.wrong_moves[0]
    assert "quarantine a pod of deployment/image-resizer" in result.by_id("mitigation").missed
    assert "**Result: LOST" in md
