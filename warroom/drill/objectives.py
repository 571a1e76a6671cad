"""What a drill expects of the responder: the `objectives:` block of a scenario.

The objectives follow the validation checklist of our incident procedures: acknowledge within
the response time, set the right severity, send the first update within the cadence, take the
right mitigation (and not a wrong one), preserve evidence before changing anything, work the
checklist, resolve. Every key is optional; the defaults come from the severity policy in the
settings (so a team with tighter SLAs is scored by its own numbers):

    objectives:
      severity: P1                 # the right severity; or a list, the first is the expected one
      severity_why: checkout is failing for most customers (major feature unavailable)
      ack_within: 15m              # default: respond_within of the expected severity
      first_update_within: 30m     # default: update_every of the expected severity
      resolve_within: 2h           # default: resolve_within of the expected severity
      right:                       # any one of these mitigates (triggers as in `reactions`)
        - {restart: deployment/checkout-api, why: replaces pods one at a time, warm}
        - {image: deployment/checkout-api, image_is: "registry/checkout-api:2.8.3"}
        - {scale: deployment/inventory, min_replicas: 4}
        - {quarantine: deployment/image-resizer}   # a pod isolated (deny-all NetworkPolicy)
      wrong:                       # taking one of these before the right one costs the objective
        - {delete: deployment/checkout-api, why: the replacement takes full traffic cold}
      evidence_before_mitigation: true
      phases: [detect, contain, recover]   # checklist phases that must be complete
      required: [mitigation, resolved]     # objectives a win needs, besides the pass mark
      pass_mark: 70                # percent of the points
      points: {mitigation: 25}     # weights; defaults in DEFAULT_POINTS

Durations are wall-clock time (as the console's deadlines count them), see scoring.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from warroom.model import Severity

# The objectives in report order, with their default weight (they sum to 100).
DEFAULT_POINTS: dict[str, int] = {
    "ack": 15,
    "severity": 15,
    "first_update": 10,
    "mitigation": 25,
    "evidence": 10,
    "phases": 10,
    "resolved": 15,
}
OBJECTIVE_IDS = tuple(DEFAULT_POINTS)
RULE_KINDS = ("restart", "delete", "scale", "image", "quarantine")
# Phases a drill can finish; post-incident work (review, post-mortem) happens after it.
DEFAULT_PHASES_EXCLUDED = ("post",)


@dataclass(frozen=True, slots=True)
class ActionRule:
    """A responder action the scenario judges: the vocabulary of reaction triggers."""

    kind: str  # restart | delete | scale | image | quarantine
    workload: str  # "deployment/checkout-api"
    min_replicas: int | None = None  # scale: at least this many
    image: str | None = None  # image: exactly this image
    force: bool = False  # delete: only a forced delete (grace period 0) counts
    why: str = ""

    def describe(self) -> str:
        verb = {
            "restart": f"rollout restart {self.workload}",
            "delete": f"{'force-' if self.force else ''}delete a pod of {self.workload}",
            "scale": f"scale {self.workload}"
            + (f" to {self.min_replicas}+ replicas" if self.min_replicas is not None else ""),
            "image": f"set the image of {self.workload}"
            + (f" to {self.image}" if self.image else ""),
            "quarantine": f"quarantine a pod of {self.workload}",
        }
        return verb[self.kind]


@dataclass(frozen=True, slots=True)
class Objectives:
    severity: tuple[Severity, ...] = ()  # acceptable severities; the first is the expected one
    severity_why: str = ""
    ack_within: timedelta | None = None  # None: the policy's respond_within
    first_update_within: timedelta | None = None  # None: the policy's update_every
    resolve_within: timedelta | None = None  # None: the policy's resolve_within
    right: tuple[ActionRule, ...] = ()
    wrong: tuple[ActionRule, ...] = ()
    evidence_before_mitigation: bool = True
    phases: tuple[str, ...] | None = None  # None: every checklist phase except post-incident
    required: tuple[str, ...] = ("mitigation", "resolved")
    pass_mark: int = 70
    points: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_POINTS))

    @property
    def expected_severity(self) -> Severity | None:
        return self.severity[0] if self.severity else None
