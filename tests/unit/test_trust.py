"""Signed checkpoints with a real ssh-keygen and a real ssh-agent: signing, what verify says,
and the tamper trials (edit, delete, reorder, insert, then recompute the whole chain)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests import tamper
from warroom.model import Kind
from warroom.settings.signing import SigningSettings
from warroom.trust.checkpoints import Signer, checkpoint_message, signing_due
from warroom.trust.sshsig import SigningError, SshTool, agent_keys, find_key, sign
from warroom.trust.verify import verify_checkpoints


def signing(ssh_keys, key: Path | None = None, **kw) -> SigningSettings:
    return SigningSettings(key=key, allowed_signers=ssh_keys.allowed_signers, **kw)


def signed_incident(declare, signer: Signer, notes: int = 3):
    """Declared, notes, a checkpoint, more notes, a second checkpoint."""
    room = declare()
    for i in range(notes):
        room.add_note(f"first batch {i}")
    first = signer.sign_head(room)
    for i in range(notes):
        room.add_note(f"second batch {i}")
    second = signer.sign_head(room)
    return room, first, second


def check(room, ssh_keys, allowed: Path | None = None):
    events = room.store.events()
    return verify_checkpoints(
        room.incident_id, events, allowed or ssh_keys.allowed_signers, SshTool()
    )


def test_a_checkpoint_signs_the_head_and_verifies(ssh_keys, declare) -> None:
    signer = Signer(signing(ssh_keys, ssh_keys.private("ann")))
    room, first, second = signed_incident(declare, signer)
    assert first.kind == Kind.CHECKPOINT and second.kind == Kind.CHECKPOINT
    assert first.data["seq"] == first.seq - 1
    assert first.data["hash"] == room.event(first.seq - 1).hash
    assert first.data["fingerprint"] == ssh_keys.fingerprint("ann")
    assert first.data["ref"] == f"{first.seq - 1}:{first.data['hash'][:8]}"
    report = check(room, ssh_keys)
    assert [c.ok for c in report.checks] == [True, True]
    assert report.covered == second.seq - 1
    assert report.spans() == [(1, second.seq - 1, "ann@example")]
    assert report.lines() == [
        f"signed: events 1-{second.seq - 1} by ann@example (2 of 2 checkpoints good)",
        f"unsigned: events {second.seq} (only the last checkpoint: a signature cannot cover "
        "itself)",
    ]
    # Nothing new since: no third checkpoint.
    assert signer.sign_head(room) is None


def test_the_signed_text_verifies_with_ssh_keygen_by_hand(ssh_keys, declare, tmp_path) -> None:
    """What the README tells an auditor to run, with nothing of warroom's in between."""
    import subprocess

    room, _, cp = signed_incident(declare, Signer(signing(ssh_keys, ssh_keys.private("ann"))))
    sig = tmp_path / "cp.sig"
    sig.write_text(cp.data["signature"] + "\n")
    message = checkpoint_message(room.incident_id, cp.data["seq"], cp.data["hash"])
    assert message.decode().startswith("warroom checkpoint v1\nincident ")
    args = ["ssh-keygen", "-Y", "verify", "-f", str(ssh_keys.allowed_signers)]
    args += ["-I", "ann@example", "-n", "warroom-checkpoint", "-s", str(sig)]
    done = subprocess.run(args, input=message, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
    assert b"Good" in done.stdout


def test_signing_through_a_real_agent(ssh_keys, ssh_agent, declare) -> None:
    ssh_agent.add(ssh_keys.private("bob"))
    # No key named: the agent's first key. And a .pub alone: its private half is in the agent.
    for key in (None, ssh_keys.agent_only("bob")):
        signer = Signer(signing(ssh_keys, key, agent_socket=ssh_agent.socket))
        room, _, _ = signed_incident(declare, signer, notes=1)
        report = check(room, ssh_keys)
        assert report.checks and all(c.ok for c in report.checks)
        assert {c.signer for c in report.checks} == {"bob@example"}
        assert signer.key.source == ("ssh-agent" if key is None else f"key file {key}")


@pytest.mark.parametrize(
    ("trial", "change", "reason"),
    [
        ("edit", tamper.edit(3), "was rewritten after ann@example signed it"),
        ("delete", tamper.delete(3), "events before it were removed"),
        ("reorder", tamper.swap(2, 3), "was rewritten after ann@example signed it"),
        ("insert", tamper.insert_after(2), "was rewritten after ann@example signed it"),
    ],
)
def test_tamper_trials_fail_with_a_named_reason(
    ssh_keys, declare, trial, change, reason, settings
) -> None:
    signer = Signer(signing(ssh_keys, ssh_keys.private("ann")))
    room, _first, _ = signed_incident(declare, signer, notes=3)
    store = room.store
    tamper.rewrite("tinydb", store, change)
    from warroom.store.tinydb import TinyDBRepository

    fresh = TinyDBRepository(settings.data_dir).open(room.incident_id, read_only=True)
    assert fresh.verify().ok, "the chain itself was recomputed: only the signatures can tell"
    report = verify_checkpoints(
        room.incident_id, fresh.events(), ssh_keys.allowed_signers, SshTool()
    )
    assert report.failures, trial
    assert reason in report.failures[0].problem, report.failures[0].problem
    assert report.failures[0].problem.startswith("checkpoint #")
    # Event 3 is under both checkpoints: neither vouches for anything now.
    assert report.lines()[0] == "signed: no events (0 of 2 checkpoints good)", trial


def test_a_forged_checkpoint_fails_its_signature(ssh_keys, declare, settings) -> None:
    """The attacker also rewrites the checkpoint to name the new hash: its signature breaks."""
    signer = Signer(signing(ssh_keys, ssh_keys.private("ann")))
    room, first, _ = signed_incident(declare, signer, notes=3)
    covered = first.data["seq"]

    def forge(docs):
        docs = tamper.edit(2)(docs)
        rechained = tamper.rechain(docs)
        new_hash = rechained[covered - 1]["hash"]
        return [
            {**d, "data": {**d["data"], "hash": new_hash}} if d["seq"] == first.seq else d
            for d in docs
        ]

    tamper.rewrite("tinydb", room.store, forge)
    from warroom.store.tinydb import TinyDBRepository

    fresh = TinyDBRepository(settings.data_dir).open(room.incident_id, read_only=True)
    report = verify_checkpoints(
        room.incident_id, fresh.events(), ssh_keys.allowed_signers, SshTool()
    )
    problems = [c.problem for c in report.failures]
    assert any(
        f"checkpoint #{first.seq}" in p and "signature does not verify" in p for p in problems
    )


def test_an_unknown_key_is_named(ssh_keys, declare) -> None:
    signer = Signer(signing(ssh_keys, ssh_keys.private("mallory")))
    room, _first, _ = signed_incident(declare, signer, notes=1)
    report = check(room, ssh_keys)
    fp = ssh_keys.fingerprint("mallory")
    assert [c.ok for c in report.checks] == [False, False]
    assert f"key {fp} is not in {ssh_keys.allowed_signers}" in report.failures[0].problem
    assert report.covered == 0
    assert report.lines()[-1].startswith("unsigned: events 1-")


def test_without_allowed_signers_the_signatures_still_count(ssh_keys, declare) -> None:
    signer = Signer(SigningSettings(key=ssh_keys.private("mallory")))
    room, _, second = signed_incident(declare, signer, notes=1)
    report = verify_checkpoints(room.incident_id, room.store.events(), None, SshTool())
    assert all(c.ok for c in report.checks)
    assert report.spans() == [(1, second.seq - 1, ssh_keys.fingerprint("mallory"))]
    assert any(line.startswith("signers not checked") for line in report.lines())


def test_no_key_and_no_agent_is_one_line() -> None:
    with pytest.raises(SigningError) as e:
        Signer(SigningSettings()).load_key()
    assert str(e.value) == "no ssh-agent (SSH_AUTH_SOCK is not set)"


def test_missing_ssh_keygen_is_one_line(ssh_keys, declare) -> None:
    settings = signing(ssh_keys, ssh_keys.private("ann"), ssh_keygen="/nonexistent/ssh-keygen")
    room = declare()
    with pytest.raises(SigningError) as e:
        Signer(settings).sign_head(room)
    assert str(e.value) == (
        "/nonexistent/ssh-keygen not found: install openssh-client (or set signing.ssh_keygen)"
    )
    assert [e.kind for e in room.events].count(Kind.CHECKPOINT) == 0  # the incident goes on


def test_a_wrong_key_file_is_one_line(ssh_keys, tmp_path) -> None:
    junk = tmp_path / "junk"
    junk.write_text("not a key\n")
    tool = SshTool()
    for path, words in (
        (tmp_path / "absent", "does not exist"),
        (junk, "cannot read signing key"),
    ):
        with pytest.raises(SigningError) as e:
            find_key(tool, path)
        assert words in str(e.value) and "\n" not in str(e.value)


def test_an_encrypted_key_never_prompts(ssh_keys, tmp_path) -> None:
    import subprocess

    key = tmp_path / "locked"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret-pass", "-f", str(key)], check=True
    )
    tool = SshTool(timeout=60)
    found = find_key(tool, key)  # the .pub beside it gives the fingerprint
    with pytest.raises(SigningError) as e:
        sign(tool, found, b"x")
    # Refused at once: a prompt waited for would end in "ssh-keygen took over 60s".
    assert str(e.value).startswith(f"ssh-keygen could not sign with key file {key}")


def test_an_expired_or_stopped_agent_is_one_line(ssh_keys, ssh_agent, declare) -> None:
    room = declare()
    signer = Signer(signing(ssh_keys, ssh_keys.agent_only("ann"), agent_socket=ssh_agent.socket))
    ssh_agent.add(ssh_keys.private("ann"), lifetime=3)
    assert signer.sign_head(room) is not None
    deadline = time.monotonic() + 15
    while agent_keys(ssh_agent.socket) and time.monotonic() < deadline:
        time.sleep(0.2)  # the key's lifetime ends: the agent forgets it
    assert agent_keys(ssh_agent.socket) == []
    room.add_note("after the key expired")
    with pytest.raises(SigningError) as e:
        signer.sign_head(room)
    assert "could not sign with key file" in str(e.value)
    ssh_agent.stop()
    with pytest.raises(SigningError) as e:
        agent_keys(ssh_agent.socket)
    assert str(e.value).startswith(f"ssh-agent at {ssh_agent.socket} does not answer")


def test_signing_is_due_after_my_action_or_after_the_interval(ssh_keys, declare, clock) -> None:
    """The one-shot answer and the console's incremental one (folding only new events) agree
    at every step."""
    from datetime import timedelta

    from warroom.trust.checkpoints import SigningClock

    signer = Signer(signing(ssh_keys, ssh_keys.private("ann")))
    fp = ssh_keys.fingerprint("ann")
    room = declare()
    minute = timedelta(seconds=60)
    ticking = SigningClock("ann")

    def due() -> bool:
        once = signing_due(room.events, "ann", fp, clock(), minute).due
        assert ticking.due(room.events, fp, clock(), minute).due == once
        return once

    assert due()  # declared by ann
    signer.sign_head(room)
    assert not due()
    room.record(Kind.CHECK, "Checkout error ratio warn", {}, source="prometheus")
    assert not due()
    clock.advance(seconds=61)
    assert due()  # events flowed a minute
    signer.sign_head(room)
    assert not due()
    room.add_note("mine")
    assert due()  # my own action
    # Bob's checkpoint covers my note: still due for my own key, not for bob's.
    Signer(signing(ssh_keys, ssh_keys.private("bob"))).sign_head(room)
    assert due()
    assert not signing_due(room.events, "bob", ssh_keys.fingerprint("bob"), clock(), minute).due


def test_an_update_names_its_destinations_and_its_anchor_not_the_witness(
    declare, clock, tmp_path
) -> None:
    from warroom.actions.outbox import Outbox
    from warroom.actions.updates import post
    from warroom.destinations import Destination

    room = declare()
    room.add_note("first finding")
    head = room.events[-1]
    log = Destination("log", "file", path=str(tmp_path / "updates.log"))
    witness = Destination("audit", "file", path=str(tmp_path / "witness.log"))
    outbox = Outbox(room, [log], witness=witness)
    ev = post(room, "We are investigating.", "notification", clock(), outbox)
    assert ev.data["to"] == ["log"]  # the witness gets checkpoints, not updates
    assert ev.data["anchor"]["ref"] == f"{head.seq}:{head.hash[:8]}"
    assert [i.destination for i in outbox.pending()] == ["log"]
