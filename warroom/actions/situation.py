"""What warroom knows of the incident's situation, for the status-update prefill.

A first notification must not go out as "Impact: TBD / What we are doing: TBD" when the screen
already shows failing checks, firing alerts and crash-looping pods. The timeline alone gives a
situation (`from_timeline`: works for `warroom update` without a console); the console passes
its live view instead (checks' current values, the pods it watches), which is fresher.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from warroom.alerts import Alert
from warroom.health import HealthSnapshot, describe
from warroom.model import Event, Kind, Role
from warroom.pods import PodRow, workload_of
from warroom.projection import IncidentState


@dataclass(frozen=True)
class Situation:
    """Lines for the update: each one fact with its numbers."""

    checks: list[str] = field(default_factory=list)  # "Checkout errors crit: 38% (crit >= 5%)"
    alerts: list[str] = field(default_factory=list)  # "CheckoutHighErrorRate (critical): ..."
    workloads: list[str] = field(default_factory=list)  # "shop/checkout-api: 3 CrashLoopBackOff"


def from_timeline(events: Iterable[Event], state: IncidentState) -> Situation:
    """Failing checks and firing alerts as their last transitions recorded them, and the
    workloads whose pods are in trouble now (a recovered pod drops out)."""
    checks: dict[str, str] = {}
    alerts: dict[str, str] = {}
    pods: dict[str, tuple[str, str]] = {}  # uid -> (workload, transition)
    for ev in events:
        d = ev.data
        if ev.kind == Kind.CHECK and d.get("check"):
            checks[str(d["check"])] = ev.text if d.get("to") in ("warn", "crit") else ""
        elif ev.kind == Kind.ALERT and d.get("fingerprint") and d.get("transition"):
            alerts[str(d["fingerprint"])] = _alert_line(d, ev.text)
        elif ev.kind == Kind.POD and d.get("uid") and d.get("pod"):
            workload = f"{d.get('namespace', '')}/{workload_of(str(d['pod']))}".lstrip("/")
            pods[str(d["uid"])] = (workload, str(d.get("transition", "")))
    troubled = Counter(w for w, t in pods.values() if t not in ("recovered", "gone"))
    return Situation(
        checks=[line for line in checks.values() if line],
        alerts=[line for fp, line in alerts.items() if fp in state.firing],
        workloads=[f"{w}: {n} pod{'s' if n != 1 else ''} in trouble" for w, n in troubled.items()],
    )


def live(
    base: Situation,
    health: HealthSnapshot | None,
    alerts: list[Alert] | None,
    pods: Iterable[PodRow] | None,
) -> Situation:
    """`base` (the timeline's) with what the console sees now where it sees it: checks at
    their current values, the alerts firing now, the pods it watches."""
    checks = base.checks
    if health is not None and health.ok:
        checks = [
            describe(r.spec, r.state, r.value, r.error)
            for r in health.results
            if r.state.level is not None and r.state.level > 0
        ]
    firing = base.alerts
    if alerts is not None:
        firing = [
            f"{a.name} ({a.severity}): {a.summary}" if a.summary else f"{a.name} ({a.severity})"
            for a in alerts
        ]
    rows = list(pods) if pods is not None else []
    workloads = workloads_from_pods(rows) if rows else base.workloads
    return Situation(checks, firing, workloads)


def _alert_line(d: dict, text: str) -> str:
    name = str(d.get("alertname") or "alert")
    sev = f" ({d['severity']})" if d.get("severity") else ""
    _, _, summary = text.partition(": ")
    return f"{name}{sev}: {summary}" if summary else f"{name}{sev}"


def workloads_from_pods(rows: Iterable[PodRow]) -> list[str]:
    """'shop/checkout-api: 3 of 3 pods unhealthy (CrashLoopBackOff)' per workload in trouble."""
    total: Counter[str] = Counter()
    bad: dict[str, Counter[str]] = {}
    for r in rows:
        w = f"{r.namespace}/{workload_of(r.name)}"
        total[w] += 1
        if not r.healthy:
            bad.setdefault(w, Counter())[r.status] += 1
    out = []
    for w, statuses in sorted(bad.items(), key=lambda kv: -sum(kv[1].values())):
        n = sum(statuses.values())
        why = ", ".join(f"{s}" if c == n else f"{c} {s}" for s, c in statuses.most_common())
        out.append(f"{w}: {n} of {total[w]} pods unhealthy ({why})")
    return out


def impact_lines(sit: Situation, notes: list[str]) -> list[str]:
    """The commander's `Impact:` notes lead; what the sources show follows, with values."""
    lines = list(notes)
    lines += [f"Check {c}" for c in sit.checks]
    lines += [f"Alert {a}" for a in sit.alerts]
    lines += [f"Affected: {w}" for w in sit.workloads]
    return lines


def doing_lines(events: list[Event], state: IncidentState, limit: int = 6) -> list[str]:
    """What we are doing: `Next:` notes, then the latest actions on systems with what they
    did, then the evidence collected; newest first within each."""
    lines = list(state.sections.get("next", []))
    acted = []
    for ev in reversed(events):
        if ev.kind == Kind.ACTION and ev.data.get("ok", True):
            outcome = state.outcomes.get(ev.seq)
            said = {"took_effect": "took effect", "no_effect": "changed nothing"}.get(
                outcome or "", "in progress"
            )
            acted.append(f"{state.text_of(ev)} ({said})")
        elif ev.kind == Kind.EVIDENCE:
            acted.append(f"Evidence preserved: {state.text_of(ev)}")
        if len(acted) >= limit:
            break
    lines += acted
    if not lines:
        lines.append(f"{state.status.value.capitalize()}: no change made to any system yet")
    return lines


def roles_line(state: IncidentState) -> str:
    named = [f"{r.label} {state.roles[r]}" for r in Role if r in state.roles]
    return ", ".join(named) if named else "being assigned"
