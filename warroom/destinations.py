"""Where status updates go, as configured: [[notify.destinations]] parsed into Destinations.

Destination types: "slack" and "teams" (incoming webhooks), "webhook" (our own JSON shape for
anything else), "file" (appends a text block; path "-" is stdout). Webhook URLs are secrets
(whoever has one can post to the channel): they are never printed, logged or stored in full.
`mask_url` is what every error text and repr shows; header values are never shown at all.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

DestinationType = Literal["slack", "teams", "webhook", "file"]
TYPES: tuple[str, ...] = get_args(DestinationType)
HTTP_TYPES = ("slack", "teams", "webhook")
KEYS = ("name", "type", "url", "path", "headers", "timeout", "audience")
DEFAULT_TIMEOUT = 5.0
STDOUT = "-"


class NotifyConfigError(ValueError):
    """A broken destination in settings. str() names the source and the key."""


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

    @property
    def target(self) -> str:
        """Where it goes, safe to show: a masked URL or the file path."""
        if self.type == "file":
            return "stdout" if self.path == STDOUT else str(self.path)
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
        if kind == "file":
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
        out.append(Destination(name, kind, url, path, headers, float(timeout), audience.strip()))
    return out


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
