"""[signing]: signed checkpoints of the timeline and the witness that receives them.

    [signing]
    key = "~/.ssh/id_ed25519"          # a private key, or a .pub whose private half ssh-agent
                                       # holds; none: the first key ssh-agent holds
    allowed_signers = "~/.config/warroom/allowed_signers"   # who may sign (ssh-keygen format)
    interval = "60s"                   # at least this often while events flow
    enabled = true                     # false: never sign, and never say the record is unsigned
    ssh_keygen = "ssh-keygen"

    [signing.witness]                  # optional: every checkpoint also goes here (outbox)
    type = "webhook"                   # or "file"; the keys of [[notify.destinations]]
    url = "https://audit.example.com/warroom"

No secret lives here: the key stays in its file or in the agent ($SSH_AUTH_SOCK).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from warroom.destinations import Destination, NotifyConfigError, parse_destinations
from warroom.settings.reader import Reader, SettingsError
from warroom.tomlfile import toml_line

WITNESS = "signing.witness"


@dataclass(frozen=True)
class SigningSettings:
    enabled: bool = True
    key: Path | None = None
    allowed_signers: Path | None = None
    interval: timedelta = timedelta(seconds=60)
    ssh_keygen: str = "ssh-keygen"
    agent_socket: str | None = None  # $SSH_AUTH_SOCK when warroom started
    witness: Destination | None = None


def parse_signing(r: Reader, env: dict[str, str], taken: set[str]) -> SigningSettings:
    """[signing] of the merged settings; `taken`: destination names already in use."""

    def path(key: str, env_name: str) -> Path | None:
        in_file = r.str_(key)  # read (and checked) even when the environment overrides it
        value = env.get(env_name) or in_file
        return Path(value).expanduser() if value and value.strip() else None

    interval = r.duration("signing.interval", "60s")
    if interval < timedelta(seconds=1):
        raise r.fail("signing.interval", "must be at least 1s")
    ssh_keygen = r.str_("signing.ssh_keygen", "ssh-keygen") or "ssh-keygen"
    return SigningSettings(
        enabled=r.bool_("signing.enabled", True),
        key=path("signing.key", "WARROOM_SIGNING_KEY"),
        allowed_signers=path("signing.allowed_signers", "WARROOM_ALLOWED_SIGNERS"),
        interval=interval,
        ssh_keygen=ssh_keygen.strip() or "ssh-keygen",
        agent_socket=env.get("SSH_AUTH_SOCK") or None,
        witness=_witness(r, taken),
    )


def _witness(r: Reader, taken: set[str]) -> Destination | None:
    raw = r.table(WITNESS)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise r.fail(WITNESS, "expected a table with type and url or path")
    entry = {"name": "witness", **raw}
    indexed = f"{WITNESS}[0]"

    def line_of(key: str) -> int | None:
        return toml_line(r.text, key.replace(indexed, WITNESS)) if r.text else None

    try:
        (dest,) = parse_destinations([entry], r.source, key_prefix=WITNESS, line_of=line_of)
    except NotifyConfigError as exc:
        raise SettingsError(str(exc).replace(indexed, WITNESS)) from None
    if dest.name in taken:
        raise r.fail(f"{WITNESS}.name", f"{dest.name!r} is already a [[notify.destinations]] name")
    return dest
