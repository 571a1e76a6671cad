"""The console signs the chain head with a real key after the responder's own actions, sends
each checkpoint to the witness, and without a key says once that the record is unsigned."""

from __future__ import annotations

import dataclasses

from tests.support import UI_SIZE as SIZE
from tests.support import pilot_until, settle
from warroom.console.app import WarRoomApp
from warroom.model import Kind
from warroom.settings.signing import SigningSettings
from warroom.trust.sshsig import SshTool
from warroom.trust.verify import verify_checkpoints

from .conftest import mid_incident


def checkpoints(room) -> list:
    room.refresh()
    return [e for e in room.events if e.kind == Kind.CHECKPOINT]


async def test_a_note_is_signed_and_witnessed(repo, settings, clock, ssh_keys, tmp_path) -> None:
    from warroom.destinations import Destination

    witness = Destination("witness", "file", path=str(tmp_path / "witness.log"))
    signing = SigningSettings(
        key=ssh_keys.private("ann"), allowed_signers=ssh_keys.allowed_signers, witness=witness
    )
    settings = dataclasses.replace(settings, signing=signing)
    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        first = await pilot_until(pilot, lambda: checkpoints(room))  # ann's earlier actions
        await pilot.press("n", *"contained: token revoked", "enter")
        await settle(app, pilot)
        note = next(e for e in reversed(room.events) if e.kind == Kind.NOTE)
        cps = await pilot_until(
            pilot, lambda: [c for c in checkpoints(room) if c.data["seq"] >= note.seq]
        )
        assert cps[0].actor == "ann" and cps[0].data["fingerprint"] == ssh_keys.fingerprint("ann")
        log = tmp_path / "witness.log"
        ref = f"ref {cps[0].data['seq']}:{cps[0].data['hash']}"
        await pilot_until(pilot, lambda: log.exists() and ref in log.read_text())
    report = verify_checkpoints(
        room.incident_id, room.store.events(), ssh_keys.allowed_signers, SshTool()
    )
    assert report.checks and not report.failures
    assert report.covered >= note.seq and first


async def test_without_a_key_it_says_once_and_goes_on(repo, settings, clock) -> None:
    settings = dataclasses.replace(settings, signing=SigningSettings(interval=settings.lost_after))
    room = mid_incident(repo, settings, clock)
    app = WarRoomApp(settings, repo=repo, room=room, clock=clock, follow=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await settle(app, pilot)
        await pilot_until(pilot, lambda: app.signing.unsigned)
        for text in ("first note", "second note"):
            await pilot.press("n", *text, "enter")
            await settle(app, pilot)
            await pilot.pause(1.2)
        told = [n for n in app._notifications if n.title == "Unsigned"]
        assert len(told) == 1
        assert told[0].message == (
            "This record is unsigned: no ssh-agent (SSH_AUTH_SOCK is not set). "
            "The incident goes on; signing is retried."
        )
        assert [e.text for e in room.events[-2:]] == ["first note", "second note"]
        assert not checkpoints(room)
