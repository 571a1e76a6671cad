"""Where status updates go, as configured: [[notify.destinations]] parsed into Destinations.

Destination types: "slack" and "teams" (incoming webhooks), "webhook" (our own JSON shape for
anything else), "file" (appends a text block; path "-" is stdout), "email" (through the SMTP
server of [channels.smtp]) and "statuspage" (an Atlassian Statuspage page). Pages to people are
Destinations too ("pagerduty", "opsgenie"), made from the contacts (warroom/paging.py).
Webhook URLs are secrets (whoever has one can post to the channel): they are never printed,
logged or stored in full. `mask_url` is what every error text and repr shows; header values
are never shown at all. API keys and passwords are never in the settings file: a `Secret`
names the environment variable or the file that holds one, read when it is used.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal, Protocol, get_args
from urllib.parse import urlsplit

DestinationType = Literal[
    "slack", "teams", "webhook", "file", "email", "statuspage", "pagerduty", "opsgenie"
]
TYPES: tuple[str, ...] = get_args(DestinationType)[:6]  # what [[notify.destinations]] takes
HTTP_TYPES = ("slack", "teams", "webhook")
KEYS = (
    "name", "type", "url", "path", "headers", "timeout", "audience",
    "to", "page_id", "components", "api_key_env", "api_key_file",
)  # fmt: skip
DEFAULT_TIMEOUT = 5.0
STDOUT = "-"
STATUSPAGE_URL = "https://api.statuspage.io"
TACTICAL = "responders"  # the audience of a destination that names none: today's channel


class SettingsReader(Protocol):
    """What of the settings' Reader (settings/reader.py) the section parsers use: typed
    values, and errors that name file, line and key."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def str_(self, key: str, default: str | None = None) -> str | None: ...

    def str_list(self, key: str) -> tuple[str, ...]: ...

    def number(self, key: str, default: float) -> float: ...

    def whole(self, key: str, default: int) -> int: ...

    def bool_(self, key: str, default: bool) -> bool: ...

    def duration(self, key: str, default: str | None = None) -> timedelta: ...

    def table(self, key: str) -> Any: ...

    def fail(self, key: str, problem: str) -> Exception: ...


class NotifyConfigError(ValueError):
    """A broken destination in settings. str() names the source and the key."""


class SecretError(ValueError):
    """A secret named in settings cannot be read now; `key` is the settings key naming it."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Secret:
    """Where a secret lives: an environment variable, or the first line of a file. Read when
    it is used, so a missing one stops only what needs it, and a fixed file is picked up."""

    key: str  # the settings key naming it, e.g. "contacts.ann.pagerduty_key"
    env: str | None = None
    file: Path | None = field(default=None, repr=False)

    def read(self, env: Mapping[str, str] | None = None) -> str:
        env = os.environ if env is None else env
        if self.file is None:
            value = env.get(self.env or "", "").strip()
            if not value:
                raise SecretError(f"{self.key}_env", f"${self.env} is not set (or empty)")
            return value
        try:
            lines = self.file.read_text(encoding="utf-8").strip().splitlines()
            problem = f"{self.file} is empty"
        except (OSError, UnicodeDecodeError) as exc:
            lines, problem = [], f"cannot read {self.file}: {getattr(exc, 'strerror', exc)}"
        if not lines or not lines[0].strip():
            raise SecretError(f"{self.key}_file", problem)
        return lines[0].strip()

    def peek(self, env: Mapping[str, str] | None = None) -> str | None:
        """The value if it can be read now, else None (for the redactor's list)."""
        try:
            return self.read(env)
        except SecretError:
            return None


def mask_url(url: str) -> str:
    """scheme://host/…/last4: enough to tell destinations apart, useless to post with."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
    except ValueError:
        host, parts = "", None
    tail = url.rstrip("/")[-4:] if len(url.rstrip("/")) > 4 else ""
    if parts is None or not parts.scheme or not host:
        return f"<url …{tail}>"
    return f"{parts.scheme}://{host}/…/{tail}"


@dataclass(frozen=True)
class Destination:
    name: str
    type: DestinationType
    url: str | None = field(default=None, repr=False)
    path: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    audience: str = ""  # who reads it ("responders", "customers"): the post-mortem says
    secret: Secret | None = field(default=None, repr=False)  # API key, routing key, password
    to: tuple[str, ...] = ()  # email recipients; an Opsgenie responder
    options: dict[str, Any] = field(default_factory=dict)  # page_id, components, level...

    @property
    def heard_by(self) -> str:
        """The audience whose updates it gets (none named: the responders' channel)."""
        return self.audience or TACTICAL

    @property
    def target(self) -> str:
        """Where it goes, safe to show: a masked URL, the file path, the recipients."""
        if self.type == "file":
            return "stdout" if self.path == STDOUT else str(self.path)
        if self.type == "email":
            return ", ".join(self.to)
        return mask_url(self.url or "")

    def __repr__(self) -> str:
        hidden = ", headers=<hidden>" if self.headers else ""
        return (
            f"Destination(name={self.name!r}, type={self.type!r}, target={self.target!r}"
            f"{hidden}, timeout={self.timeout:g})"
        )


def parse_destinations(
    raw: list[dict[str, Any]] | None,
    source: str,
    *,
    key_prefix: str = "notify.destinations",
    line_of: Callable[[str], int | None] | None = None,
) -> list[Destination]:
    """Destinations from settings-shaped dicts. Errors read "source[:line]: key: problem".

    `line_of` (e.g. Settings.line_of) adds the line of the offending key when known.
    """

    def fail(key: str, problem: str) -> NotifyConfigError:
        line = line_of(key) if line_of else None
        where = f"{source}:{line}" if line else source
        return NotifyConfigError(f"{where}: {key}: {problem}")

    if raw is None:
        return []
    if not isinstance(raw, list):
        raise fail(key_prefix, "expected a list of tables ([[notify.destinations]])")
    out: list[Destination] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        base = f"{key_prefix}[{i}]"
        if not isinstance(entry, dict):
            raise fail(base, "expected a table with name, type and url or path")
        if "api_key" in entry:
            raise fail(f"{base}.api_key", "secrets never go in the settings file: use api_key_env")
        unknown = sorted(set(entry) - set(KEYS))
        if unknown:
            raise fail(f"{base}.{unknown[0]}", f"unknown key (use {', '.join(KEYS)})")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise fail(f"{base}.name", "missing or empty")
        name = name.strip()
        if name in seen:
            raise fail(f"{base}.name", f"duplicate destination name {name!r}")
        seen.add(name)
        kind = entry.get("type")
        if kind not in TYPES:
            raise fail(f"{base}.type", f"expected one of {', '.join(TYPES)}, got {kind!r}")
        timeout = entry.get("timeout", DEFAULT_TIMEOUT)
        if (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)
            or not math.isfinite(timeout)
            or timeout <= 0
        ):
            raise fail(f"{base}.timeout", f"expected a positive number of seconds, got {timeout!r}")
        url: str | None = None
        path: str | None = None
        headers: dict[str, str] = {}
        extra: dict[str, Any] = {}
        for key, types in ONLY_FOR.items():
            if key in entry and kind not in types:
                raise fail(f"{base}.{key}", f"not used by a {kind} destination")
        if kind in ("email", "statuspage"):
            extra = _parse_extra(entry, str(kind), base, fail)
            url = extra.pop("url", None)
        elif kind == "file":
            path = entry.get("path")
            if not isinstance(path, str) or not path.strip():
                raise fail(f"{base}.path", 'missing (a file to append to, or "-" for stdout)')
            for key in ("url", "headers"):
                if key in entry:
                    raise fail(f"{base}.{key}", "not used by a file destination")
            path = path if path == STDOUT else str(Path(path).expanduser())
        else:
            url = entry.get("url")
            if not isinstance(url, str) or not url.strip():
                raise fail(f"{base}.url", f"missing (the {kind} webhook URL)")
            url = url.strip()
            problem = url_problem(url)
            if problem:
                # Never echo the URL itself: a half-right webhook URL is still a secret.
                raise fail(f"{base}.url", f"{problem} ({mask_url(url)})")
            if "path" in entry:
                raise fail(f"{base}.path", f"not used by a {kind} destination")
            hdrs = entry.get("headers", {})
            if not isinstance(hdrs, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in hdrs.items()
            ):
                raise fail(f"{base}.headers", 'expected a table of "Name" = "value" strings')
            headers = dict(hdrs)
        audience = entry.get("audience", "")
        if not isinstance(audience, str):
            raise fail(f"{base}.audience", f"expected a string, got {audience!r}")
        out.append(
            Destination(name, kind, url, path, headers, float(timeout), audience.strip(), **extra)
        )
    return out


# Keys only some destination types take (the others refuse them).
ONLY_FOR: dict[str, tuple[str, ...]] = {
    "to": ("email",),
    "page_id": ("statuspage",),
    "components": ("statuspage",),
    "api_key_env": ("statuspage",),
    "api_key_file": ("statuspage",),
}


def _parse_extra(
    entry: dict[str, Any], kind: str, base: str, fail: Callable[[str, str], Exception]
) -> dict[str, Any]:
    if "headers" in entry or "path" in entry:
        raise fail(f"{base}.{'headers' if 'headers' in entry else 'path'}", f"not used by {kind}")
    if kind == "email":
        if "url" in entry:
            raise fail(f"{base}.url", "not used by an email destination (see [channels.smtp])")
        to = entry.get("to")
        if isinstance(to, str):
            to = [to]
        if not isinstance(to, list) or not to or not all(is_address(a) for a in to):
            raise fail(f"{base}.to", 'expected e-mail addresses, e.g. ["execs@example.com"]')
        return {"to": tuple(a.strip() for a in to)}
    page = entry.get("page_id")
    if not isinstance(page, str) or not page.strip().isalnum():
        raise fail(f"{base}.page_id", "missing (the Statuspage page id, letters and digits)")
    comps = entry.get("components", [])
    if not isinstance(comps, list) or not all(isinstance(c, str) and c for c in comps):
        raise fail(f"{base}.components", "expected a list of component ids")
    url = entry.get("url", STATUSPAGE_URL)
    if not isinstance(url, str) or url_problem(url):
        raise fail(f"{base}.url", f"{url_problem(str(url)) or 'expected a URL'}")
    file = entry.get("api_key_file")
    env_name = entry.get("api_key_env", "STATUSPAGE_API_KEY")
    for key, value in (("api_key_file", file), ("api_key_env", env_name)):
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise fail(f"{base}.{key}", "expected a non-empty string")
    where = f"{base}.api_key"
    secret = Secret(where, env_name, Path(file).expanduser() if file else None)
    options = {"page_id": page.strip(), "components": tuple(comps)}
    return {"url": url.rstrip("/"), "secret": secret, "options": options}


def is_address(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    local, at, domain = value.strip().rpartition("@")
    return bool(at and local and "." in domain and not any(c.isspace() for c in value.strip()))


def url_problem(url: str) -> str | None:
    """Why this is not an http(s) URL with a host, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError on a bad port
    except ValueError:
        return "not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "expected an http:// or https:// URL"
    if not parts.hostname:
        return "URL has no host"
    return None
