"""Evidence custody and `warroom verify` at the prompt: handoffs signed with a real key, copies
to a directory and over scp to a real sshd on 127.0.0.1, a bundle checked alone anywhere, and
anchors from sent updates checked against the record."""

from __future__ import annotations

import asyncio
import json
import tarfile
from pathlib import Path

import pytest

from tests import tamper
from tests.unit.test_cli import run as cli
from warroom.actions.evidence import EvidenceRequest, EvidenceSources, collect_evidence
from warroom.bootstrap import open_room
from warroom.settings import load_settings


def run(*args: str, data: Path, config: Path | None = None, check: bool = True):
    """The CLI as a process (tests/unit/test_cli.py's runner), never with the developer's
    ssh-agent."""
    cfg = ["--config", str(config)] if config else []
    return cli(*args, *cfg, data=data, env={"SSH_AUTH_SOCK": ""}, check=check)


@pytest.fixture
def config(tmp_path: Path, ssh_keys) -> Path:
    path = tmp_path / "warroom.toml"
    path.write_text(
        f'[signing]\nkey = "{ssh_keys.private("ann")}"\n'
        f'allowed_signers = "{ssh_keys.allowed_signers}"\n'
        f'[signing.witness]\ntype = "file"\npath = "{tmp_path / "witness.log"}"\n'
    )
    return path


@pytest.fixture
def incident(tmp_path: Path) -> tuple[Path, str, str]:
    """(data dir, incident id, bundle name): an incident with one sealed bundle."""
    data = tmp_path / "data"
    incident = run(
        "declare", "--title", "Token theft", "--severity", "P1", "--category", "security", data=data
    ).stdout.strip()
    settings = load_settings(env={"USER": "ann"}, data_dir=data)
    room = open_room(settings, incident)
    result = asyncio.run(collect_evidence(room, EvidenceRequest("shop"), EvidenceSources()))
    room.store.close()
    return data, incident, result.path_tar.name


def test_handoff_is_recorded_signed_and_witnessed(incident, config, tmp_path, ssh_keys) -> None:
    data, inc, bundle = incident
    out = run(
        "evidence", "handoff", inc, bundle, "--to", "bob (forensics)", data=data, config=config
    ).stdout.splitlines()
    assert out[0].startswith(f"{inc} #") and "handed from ann to bob (forensics)" in out[0]
    assert " signed events 1-" in out[1] and "(ref " in out[1]
    assert out[2] == "  witness witness: delivered"
    witness = (tmp_path / "witness.log").read_text()
    assert "-----BEGIN SSH SIGNATURE-----" in witness and "ref " in witness
    verify = run(
        "verify", inc, "--anchors", str(tmp_path / "witness.log"), data=data, config=config
    )
    lines = verify.stdout.splitlines()
    assert lines[0].startswith(f"{inc}: chain intact")
    assert lines[1].startswith(f"{inc}: signed: events 1-") and "by ann@example" in lines[1]
    assert any("anchor " in ln and "matches event" in ln for ln in lines)
    assert lines[-1] == f"{inc}: 1 evidence bundle(s) match"


def test_verify_prints_a_rewritten_store_inert(incident, config) -> None:
    """Whoever rewrote the store chose the checkpoint's words: verify names them, inert."""
    data, inc, bundle = incident
    run("evidence", "handoff", inc, bundle, "--to", "bob", data=data, config=config)
    esc = "\x1b]0;PWNED\x07\x1b[2J"

    def hostile(docs):
        for d in docs:
            if d["kind"] == "checkpoint":
                d["data"]["fingerprint"] = esc
        return docs

    settings = load_settings(env={"USER": "ann"}, data_dir=data)
    room = open_room(settings, inc)
    tamper.rewrite("tinydb", room.store, hostile)
    room.store.close()
    proc = run("verify", inc, data=data, config=config, check=False)
    assert proc.returncode == 1 and "TAMPERED: checkpoint #" in proc.stderr
    assert "\x1b" not in proc.stdout + proc.stderr and "\x07" not in proc.stdout + proc.stderr


def test_handoff_without_a_key_is_recorded_unsigned(incident) -> None:
    data, inc, bundle = incident
    proc = run("evidence", "handoff", inc, bundle, "--to", "bob", data=data)
    assert "handed from ann to bob" in proc.stdout
    assert proc.stderr.strip() == (
        "unsigned: no ssh-agent (SSH_AUTH_SOCK is not set) (the record goes on unsigned)"
    )
    verify = run("verify", inc, data=data).stdout
    assert (
        "unsigned: events 1-" in verify and "(no checkpoints: nobody signed this record)" in verify
    )


def test_copy_to_a_directory_and_verify_the_copy_alone(incident, tmp_path, config) -> None:
    data, inc, bundle = incident
    vault = tmp_path / "vault"
    vault.mkdir()
    out = run("evidence", "copy", inc, bundle, str(vault), data=data, config=config).stdout
    assert f"copied to {vault / bundle} by ann, sha256 checked there" in out
    # Anywhere, renamed, no store: the bundle checks itself against its own manifest.
    moved = tmp_path / "elsewhere.tgz"
    (vault / bundle).rename(moved)
    alone = run("evidence", "verify", str(moved), data=tmp_path / "empty")
    first, second = alone.stdout.splitlines()
    assert first.startswith(f"{moved}: intact: ") and f"(incident {inc}, collected by ann" in first
    assert ", ref " in first
    assert second.startswith(f"{moved}: sha256 ")
    listing = run("evidence", inc, data=data).stdout
    assert second.split()[-1] in listing  # the same hash the timeline holds


def test_a_tampered_bundle_fails_alone(incident, tmp_path) -> None:
    data, inc, bundle = incident
    src = data / "incidents" / f"{inc}.evidence" / bundle
    forged = tmp_path / "forged.tar.gz"
    with tarfile.open(src) as tin, tarfile.open(forged, "w:gz") as tout:
        for m in tin.getmembers():
            f = tin.extractfile(m) if m.isfile() else None
            if m.name.endswith("timeline.json"):
                body = f.read().replace(b"Token theft", b"Token thief")
                m.size = len(body)
                import io

                tout.addfile(m, io.BytesIO(body))
            else:
                tout.addfile(m, f)
    proc = run("evidence", "verify", str(forged), data=data, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().endswith("file timeline.json hash mismatch")
    assert "TAMPERED" in proc.stderr


def test_a_hostile_manifest_is_echoed_inert(incident, tmp_path) -> None:
    """A bundle from anywhere says what it likes about itself: none of it drives the terminal."""
    import io

    data, inc, bundle = incident
    src = data / "incidents" / f"{inc}.evidence" / bundle
    forged = tmp_path / "hostile.tar.gz"
    esc = "\x1b]0;PWNED\x07\x1b[2J"
    with tarfile.open(src) as tin, tarfile.open(forged, "w:gz") as tout:
        for m in tin.getmembers():
            f = tin.extractfile(m) if m.isfile() else None
            if f is not None and m.name.endswith("manifest.json"):
                doc = json.loads(f.read())
                doc["collector"]["host"] = esc
                doc["files"] = [{"path": esc, "sha256": "0" * 64}, *doc["files"]]
                body = json.dumps(doc).encode()
                m.size = len(body)
                tout.addfile(m, io.BytesIO(body))
            else:
                tout.addfile(m, f)
    proc = run("evidence", "verify", str(forged), data=data, check=False)
    assert proc.returncode == 1 and "TAMPERED" in proc.stderr
    assert "\x1b" not in proc.stdout + proc.stderr and "\x07" not in proc.stdout + proc.stderr


def test_copy_to_an_unwritable_place_loses_nothing(incident, tmp_path) -> None:
    data, inc, bundle = incident
    src = data / "incidents" / f"{inc}.evidence" / bundle
    before = src.read_bytes()
    proc = run("evidence", "copy", inc, bundle, "/sys/kernel", data=data, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"warroom: cannot copy to /sys/kernel: Permission denied; {bundle} stays at {src}"
    )
    assert src.read_bytes() == before
    gone = run(
        "evidence", "copy", inc, bundle, str(tmp_path / "nope" / "x"), data=data, check=False
    )
    assert "no such directory" in gone.stderr and gone.returncode == 1
    events = json.loads(run("export", inc, "--format", "json", data=data).stdout)["events"]
    assert not [e for e in events if e["kind"] == "custody"]  # nothing recorded


def test_copy_over_scp_to_a_real_sshd(incident, tmp_path, sshd, ssh_keys) -> None:
    data, inc, bundle = incident
    remote = tmp_path / "remote-vault"
    remote.mkdir()
    cfg = tmp_path / "scp.toml"
    cfg.write_text(f'[evidence]\nssh_config = "{sshd.client_config}"\n[signing]\nenabled = false\n')
    out = run("evidence", "copy", inc, bundle, f"{sshd.host}:{remote}", data=data, config=cfg)
    assert f"copied to {sshd.host}:{remote}/{bundle} by ann, sha256 checked there" in out.stdout
    assert (remote / bundle).read_bytes() == (
        data / "incidents" / f"{inc}.evidence" / bundle
    ).read_bytes()
    bad = run(
        "evidence",
        "copy",
        inc,
        bundle,
        f"{sshd.host}:/sys/kernel",
        data=data,
        config=cfg,
        check=False,
    )
    assert bad.returncode == 1 and bad.stderr.startswith(f"warroom: scp to {sshd.host}:/sys/kernel")
    assert f"{bundle} stays at" in bad.stderr


def test_verify_checks_anchors_from_sent_updates(incident, config, tmp_path, ssh_keys) -> None:
    data, inc, _bundle = incident
    sent = tmp_path / "updates.log"
    cfg = tmp_path / "with-file.toml"
    cfg.write_text(
        config.read_text()
        + f'[[notify.destinations]]\nname = "log"\ntype = "file"\npath = "{sent}"\n'
    )
    run("update", "--incident", inc, "--text", "We are containing it.", data=data, config=cfg)
    text = sent.read_text()
    (ref,) = [ln.split()[1] for ln in text.splitlines() if ln.startswith("ref ")]
    ok = run("verify", inc, "--anchor", ref, "--anchor", f"ref {ref}…", data=data, config=cfg)
    assert ok.stdout.count(f"anchor {ref}: matches event") == 1  # the same anchor, given twice
    seq = int(ref.split(":")[0])
    # Rewrite what the update was sent after, and recompute the chain: the anchor still tells.
    settings = load_settings(env={"USER": "ann"}, data_dir=data)
    room = open_room(settings, inc)
    tamper.rewrite("tinydb", room.store, tamper.edit(1, "[P3] declared: nothing to see"))
    room.store.close()
    bad = run("verify", inc, "--anchors", str(sent), data=data, config=cfg, check=False)
    assert bad.returncode == 1
    assert f"TAMPERED: anchor {ref}: event {seq} now hashes to " in bad.stderr
    assert "changed since it was sent" in bad.stderr
    usage = run("verify", inc, "--anchor", "42", data=data, check=False)
    assert usage.returncode == 2
    assert usage.stderr.strip().startswith("warroom: --anchor: '42': expected SEQ:HASH")
