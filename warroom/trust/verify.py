"""What the signatures on a timeline vouch for: `warroom verify`'s second half.

Each CHECKPOINT event is checked three ways: the event it covers still hashes to the hash that
was signed (a store rewritten with every hash recomputed fails here), the signature is good for
the checkpoint's text, and the key is one `allowed_signers` lists (its principal is who signed).
Without an allowed_signers file the signatures are still checked against their own keys, and
the report says the signers were not checked. Events after the last good checkpoint are
unsigned.
"""

from __future__ import annotations

import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from warroom.model import Event, Kind
from warroom.trust.anchors import SHORT
from warroom.trust.checkpoints import checkpoint_message
from warroom.trust.sshsig import (
    NAMESPACE,
    SshTool,
    Verdict,
    fingerprint,
    signature_blob,
    verify,
)

_HEX64 = re.compile(r"[0-9a-f]{64}")
PARALLEL = 4  # ssh-keygen processes at once: a long incident has hundreds of checkpoints


@dataclass(frozen=True)
class CheckpointCheck:
    seq: int  # the checkpoint event
    covers: int  # the event it signed
    ok: bool
    signer: str  # the principal, else the key fingerprint
    problem: str = ""  # one line naming what failed


@dataclass
class TrustReport:
    events: int
    checks: list[CheckpointCheck] = field(default_factory=list)
    signers_checked: bool = True  # False: no allowed_signers, keys taken as they are

    @property
    def good(self) -> list[CheckpointCheck]:
        return [c for c in self.checks if c.ok]

    @property
    def failures(self) -> list[CheckpointCheck]:
        return [c for c in self.checks if not c.ok]

    @property
    def covered(self) -> int:
        """Events 1..covered are vouched for by a good signature."""
        return max((c.covers for c in self.good), default=0)

    def spans(self) -> list[tuple[int, int, str]]:
        """(first, last, signer): who vouched for which events, in order."""
        out: list[tuple[int, int, str]] = []
        done = 0
        for c in sorted(self.good, key=lambda c: c.covers):
            if c.covers <= done:
                continue
            if out and out[-1][2] == c.signer:
                out[-1] = (out[-1][0], c.covers, c.signer)
            else:
                out.append((done + 1, c.covers, c.signer))
            done = c.covers
        return out

    def lines(self) -> list[str]:
        """The report for a person: what is signed, by whom, what is not."""
        out = []
        if self.checks:
            spans = ", ".join(f"{a}-{b} by {s}" for a, b, s in self.spans())
            who = f"events {spans}" if spans else "no events"  # every checkpoint failed
            good = len(self.good)
            out.append(f"signed: {who} ({good} of {len(self.checks)} checkpoints good)")
            if not self.signers_checked:
                out.append(
                    "signers not checked: no allowed_signers file (signing.allowed_signers, "
                    "or --allowed-signers FILE)"
                )
        if self.covered < self.events:
            first = self.covered + 1
            span = f"{first}-{self.events}" if first < self.events else str(first)
            tail = "" if self.checks else " (no checkpoints: nobody signed this record)"
            if set(range(first, self.events + 1)) <= {c.seq for c in self.good}:
                tail = " (only the last checkpoint: a signature cannot cover itself)"
            out.append(f"unsigned: events {span}{tail}")
        return out


def verify_checkpoints(
    incident_id: str,
    events: list[Event],
    allowed_signers: Path | None,
    tool: SshTool,
) -> TrustReport:
    """Check every checkpoint of the timeline (SigningError if ssh-keygen cannot run)."""
    report = TrustReport(events=events[-1].seq if events else 0)
    report.signers_checked = allowed_signers is not None
    by_seq = {e.seq: e for e in events}
    checkpoints = [e for e in events if e.kind == Kind.CHECKPOINT]
    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        checks = pool.map(
            lambda e: _check(incident_id, e, by_seq, allowed_signers, tool), checkpoints
        )
        report.checks = list(checks)
    return report


def _check(
    incident_id: str,
    e: Event,
    by_seq: dict[int, Event],
    allowed: Path | None,
    tool: SshTool,
) -> CheckpointCheck:
    d = e.data
    covers, signed_hash, sig = d.get("seq"), d.get("hash"), d.get("signature")
    named = str(d.get("fingerprint") or "?")
    if not (isinstance(covers, int) and isinstance(signed_hash, str) and isinstance(sig, str)):
        return CheckpointCheck(e.seq, 0, False, named, f"checkpoint #{e.seq} is malformed")
    if not _HEX64.fullmatch(signed_hash):
        return CheckpointCheck(e.seq, covers, False, named, f"checkpoint #{e.seq} is malformed")
    where = f"checkpoint #{e.seq} (covers {covers}:{signed_hash[:SHORT]}, key {named})"
    if covers >= e.seq:
        problem = f"{where}: event {covers} is not before it: events before it were removed"
        return CheckpointCheck(e.seq, covers, False, named, problem)
    verdict = _signature(tool, allowed, sig, checkpoint_message(incident_id, covers, signed_hash))
    signer = verdict.principal or verdict.fingerprint or named
    if verdict.fingerprint and verdict.fingerprint != named:
        problem = f"{where}: names key {named} but was signed with {verdict.fingerprint}"
        return CheckpointCheck(e.seq, covers, False, signer, problem)
    if not verdict.ok:
        return CheckpointCheck(e.seq, covers, False, signer, f"{where}: {verdict.problem}")
    target = by_seq.get(covers)
    if target is None:
        problem = f"{where}: event {covers} is gone: events were removed after it was signed"
        return CheckpointCheck(e.seq, covers, False, signer, problem)
    if target.hash != signed_hash:
        problem = (
            f"{where}: event {covers} now hashes to {target.hash[:SHORT]}: the record up to "
            f"event {covers} was rewritten after {signer} signed it"
        )
        return CheckpointCheck(e.seq, covers, False, signer, problem)
    return CheckpointCheck(e.seq, covers, True, signer)


def _signature(tool: SshTool, allowed: Path | None, sig: str, message: bytes) -> Verdict:
    if allowed is not None:
        return verify(tool, allowed, sig, message, NAMESPACE)
    # No allowed signers: good for its own key, whoever that is.
    try:
        _, blob = signature_blob(sig)
    except ValueError as exc:
        return Verdict(False, None, "", f"malformed signature ({exc})")
    with tempfile.TemporaryDirectory(prefix="warroom-verify-") as tmp:
        path = Path(tmp) / "sig"
        path.write_text(sig + "\n", encoding="ascii", errors="replace")
        done = tool.run(["-Y", "check-novalidate", "-n", NAMESPACE, "-s", str(path)], message)
    fp = fingerprint(blob)
    if done.returncode != 0:
        return Verdict(False, None, fp, "signature does not verify")
    return Verdict(True, None, fp)
