"""[signing]: the key, who may sign, the cadence and the witness, with one-line errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from warroom.settings import SettingsError, load_settings


def settings_from(tmp_path: Path, text: str, env: dict | None = None):
    path = tmp_path / "warroom.toml"
    path.write_text(text)
    return load_settings(path, env={"USER": "ann", **(env or {})}, data_dir=tmp_path / "d")


def test_defaults_sign_with_the_agent_of_the_environment(tmp_path: Path) -> None:
    s = load_settings(env={"USER": "ann", "SSH_AUTH_SOCK": "/run/user/1/agent"})
    assert s.signing.enabled and s.signing.key is None
    assert s.signing.agent_socket == "/run/user/1/agent"
    assert s.signing.interval == timedelta(seconds=60) and s.signing.witness is None
    assert load_settings(env={"USER": "ann"}).signing.agent_socket is None


def test_keys_paths_and_witness(tmp_path: Path) -> None:
    s = settings_from(
        tmp_path,
        '[signing]\nkey = "~/.ssh/id_ed25519.pub"\nallowed_signers = "/etc/warroom/signers"\n'
        'interval = "30s"\n[signing.witness]\ntype = "webhook"\nurl = "https://audit.example"\n',
    )
    assert s.signing.key == Path("~/.ssh/id_ed25519.pub").expanduser()
    assert s.signing.allowed_signers == Path("/etc/warroom/signers")
    assert s.signing.interval == timedelta(seconds=30)
    assert (s.signing.witness.name, s.signing.witness.type) == ("witness", "webhook")
    env = settings_from(
        tmp_path, "", {"WARROOM_SIGNING_KEY": "/k", "WARROOM_ALLOWED_SIGNERS": "/a"}
    )
    assert (env.signing.key, env.signing.allowed_signers) == (Path("/k"), Path("/a"))
    # The environment wins over the file; the file's keys are still settings, not unknown ones.
    both = settings_from(
        tmp_path,
        '[signing]\nkey = "/file/key"\nallowed_signers = "/file/signers"\n',
        {"WARROOM_SIGNING_KEY": "/k", "WARROOM_ALLOWED_SIGNERS": "/a"},
    )
    assert (both.signing.key, both.signing.allowed_signers) == (Path("/k"), Path("/a"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[signing]\nkye = "x"\n', "2: signing.kye: unknown setting (did you mean signing.key?)"),
        ('[signing]\ninterval = "0s"\n', "2: signing.interval: must be at least 1s"),
        ("[signing]\nenabled = 1\n", "2: signing.enabled: expected true or false, got 1"),
        (
            '[signing.witness]\ntype = "webhook"\nurl = "ftp://x"\n',
            "3: signing.witness.url: expected an http:// or https:// URL (ftp://x/…/://x)",
        ),
        (
            '[signing.witness]\ntype = "fax"\n',
            "2: signing.witness.type: expected one of slack, teams, webhook, file, email, "
            "statuspage, got 'fax'",
        ),
        (
            '[[notify.destinations]]\nname = "witness"\ntype = "file"\npath = "/x"\n'
            '[signing.witness]\ntype = "file"\npath = "/y"\n',
            "signing.witness.name: 'witness' is already a [[notify.destinations]] name",
        ),
    ],
)
def test_bad_signing_settings_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SettingsError) as e:
        settings_from(tmp_path, text)
    assert str(e.value).startswith(str(tmp_path / "warroom.toml"))
    assert str(e.value).endswith(message)
    assert "\n" not in str(e.value)
