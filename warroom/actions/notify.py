"""Where status updates go: destinations from settings, their payloads, and one delivery attempt.

Destination types: "slack" and "teams" (incoming webhooks), "webhook" (our own JSON shape for
anything else), "file" (appends a text block; path "-" is stdout). Teams gets the legacy
Office 365 connector MessageCard (`@type: MessageCard`); a Workflows webhook that expects an
Adaptive Card should use "webhook" with a flow that maps our JSON.

Webhook URLs are secrets (whoever has one can post to the channel): they are never printed,
logged or stored in full. `mask_url` is what every error text and repr shows; header values
are never shown at all. Retries and persistence live in outbox.py.
"""

from __future__ import annotations

import asyncio
import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args
from urllib.parse import urlsplit

from warroom.sanitize import strip_control
from warroom.templates import DRILL_MARKER, TemplateContext

if TYPE_CHECKING:
    # httpx's __init__ imports its CLI (rich, pygments) when they are installed: the core
    # imports it only when it sends.
    import httpx

DestinationType = Literal["slack", "teams", "webhook", "file"]
TYPES: tuple[str, ...] = get_args(DestinationType)
HTTP_TYPES = ("slack", "teams", "webhook")
KEYS = ("name", "type", "url", "path", "headers", "timeout")
DEFAULT_TIMEOUT = 5.0
STDOUT = "-"

# MessageCard themeColor per severity (hex without '#').
_THEME = {"P0": "B00020", "P1": "E65100", "P2": "F9A825", "P3": "1565C0"}


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


_TOKENISH = re.compile(r"[^/?&=#@\s\"'<>]{8,}")


def scrub(text: str, url: str | None) -> str:
    """`text` with `url` masked, and its path or any long token in it cut out.

    Servers echo URLs in error bodies, sometimes a neighbour's with the same tokens: every
    path segment or query value of 8+ characters counts as a secret.
    """
    if not url:
        return text
    text = text.replace(url, mask_url(url))
    parts = urlsplit(url)
    for secret in (parts.path + ("?" + parts.query if parts.query else ""), parts.path):
        if len(secret) > 5:
            text = text.replace(secret, "/…/" + url.rstrip("/")[-4:])
    for token in _TOKENISH.findall(parts.path + "?" + parts.query):
        text = text.replace(token, "…")
    return text


@dataclass(frozen=True)
class Destination:
    name: str
    type: DestinationType
    url: str | None = field(default=None, repr=False)
    path: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    timeout: float = DEFAULT_TIMEOUT

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
            problem = _url_problem(url)
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
        out.append(Destination(name, kind, url, path, headers, float(timeout)))
    return out


def _url_problem(url: str) -> str | None:
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


def update_data(ctx: TemplateContext, kind: str, *, url: str | None = None) -> dict[str, Any]:
    """The `data` of a Kind.UPDATE event, as Outbox.enqueue reads it (`url`: incident link)."""
    data: dict[str, Any] = {
        "template": kind,
        "update_number": ctx.update_number,
        "title": ctx.title,
        "severity": ctx.severity,
        "status": ctx.status,
        "drill": ctx.is_drill,
    }
    if url:
        data["url"] = url
    return data


@dataclass(frozen=True)
class Message:
    """One status update as every destination sees it (persisted in each outbox doc)."""

    incident: str
    text: str
    title: str = ""
    severity: str = ""
    status: str = ""
    update_number: int | None = None
    drill: bool = False
    url: str | None = None  # link to the incident (status page, dashboard), not a webhook
    template: str = ""  # notification | update | resolution

    @property
    def label(self) -> str:
        """How the timeline names it: "update #2", "notification", "resolution notice"."""
        if self.template == "notification":
            return "notification"
        if self.template == "resolution":
            return "resolution notice"
        return f"update #{self.update_number}" if self.update_number is not None else "update"

    @property
    def body(self) -> str:
        """The text to send, inert. A drill's text always leads with the marker, even when the
        commander edited it away: a drill must never read as a real incident in a channel."""
        text = strip_control(self.text)
        if self.drill and not text.lstrip().startswith(DRILL_MARKER):
            text = f"{DRILL_MARKER} {text}"
        return text

    @property
    def headline(self) -> str:
        """ "INC-1: Checkout down (update #2)", with the drill marker in front for a drill."""
        head = f"{self.incident}: {self.title}" if self.title else self.incident
        head = f"{head} ({self.label})"
        return f"{DRILL_MARKER} {head}" if self.drill else head

    def to_dict(self) -> dict[str, Any]:
        return {
            "incident": self.incident,
            "text": self.text,
            "title": self.title,
            "severity": self.severity,
            "status": self.status,
            "update_number": self.update_number,
            "drill": self.drill,
            "url": self.url,
            "template": self.template,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Message:
        n = d.get("update_number")
        return cls(
            incident=str(d.get("incident", "")),
            text=str(d.get("text", "")),
            title=str(d.get("title") or ""),
            severity=str(d.get("severity") or ""),
            status=str(d.get("status") or ""),
            update_number=int(n) if n is not None else None,
            drill=bool(d.get("drill", False)),
            url=d.get("url") or None,
            template=str(d.get("template") or ""),
        )


def _slack_escape(text: str) -> str:
    # Slack reads <...> as links and mentions (<!channel>): typed text must stay text.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(dest: Destination, msg: Message, sent_at: str) -> dict[str, Any]:
    """The JSON body for an http destination. Control characters never leave the building."""
    text = msg.body
    if dest.type == "slack":
        return {"text": _slack_escape(text)}
    if dest.type == "teams":
        card: dict[str, Any] = {
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "summary": strip_control(msg.headline),
            "title": strip_control(msg.headline),
            # MessageCard text is Markdown: a lone newline would be folded into a space.
            "text": text.replace("\n", "  \n"),
        }
        if msg.severity in _THEME:
            card["themeColor"] = _THEME[msg.severity]
        if msg.url:
            card["potentialAction"] = [
                {
                    "@type": "OpenUri",
                    "name": "Open incident",
                    "targets": [{"os": "default", "uri": msg.url}],
                }
            ]
        return card
    body: dict[str, Any] = {
        "incident": msg.incident,
        "title": strip_control(msg.title),
        "severity": msg.severity,
        "status": msg.status,
        "text": text,
        "sent_at": sent_at,
        "update_number": msg.update_number,
        "drill": msg.drill,
    }
    if msg.url:
        body["url"] = msg.url
    return body


def file_block(msg: Message, sent_at: str) -> str:
    rule = "=" * 72
    return f"{rule}\n{sent_at}  {strip_control(msg.headline)}\n{rule}\n{msg.body}\n\n"


@dataclass(frozen=True)
class Attempt:
    """The outcome of one send. `error` is safe to show and store (URLs masked)."""

    ok: bool
    status_code: int | None = None
    error: str | None = None


async def send(
    dest: Destination, msg: Message, client: httpx.AsyncClient | None, sent_at: str
) -> Attempt:
    """One delivery attempt; never raises for a delivery problem, reports it instead."""
    import httpx

    if dest.type == "file":
        return await _append_file(dest, file_block(msg, sent_at))
    assert dest.url is not None and client is not None
    try:
        resp = await client.post(
            dest.url,
            json=payload(dest, msg, sent_at),
            headers=dest.headers,
            timeout=dest.timeout,
        )
    except httpx.TimeoutException:
        return Attempt(False, error=f"timeout after {dest.timeout:g}s")
    except httpx.HTTPError as exc:
        return Attempt(False, error=scrub(_transport_error(exc), dest.url))
    except Exception as exc:  # a bug or an odd transport must not stop the outbox pass
        return Attempt(False, error=scrub(f"{type(exc).__name__}: {exc}", dest.url)[:200])
    if 200 <= resp.status_code < 300:
        return Attempt(True, resp.status_code)
    # Slack and Teams put the reason in the body ("invalid_payload", "no_service").
    # Scrub before cutting: a cut could leave half a token that no longer matches.
    detail = scrub(strip_control(resp.text[:4096]), dest.url).strip().replace("\n", " ")[:120]
    error = f"HTTP {resp.status_code}" + (f": {detail}" if detail else "")
    return Attempt(False, resp.status_code, error)


def _transport_error(exc: httpx.HTTPError) -> str:
    cause: BaseException | None = exc
    for _ in range(10):  # the chain is short; a bound guards against a cycle
        if cause is None:
            break
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        cause = cause.__cause__ or cause.__context__
    text = str(exc) or type(exc).__name__
    if "refused" in text.lower():
        return "connection refused"
    return f"{type(exc).__name__}: {text}"[:200]


async def _append_file(dest: Destination, block: str) -> Attempt:
    if dest.path == STDOUT:
        sys.stdout.write(block)
        sys.stdout.flush()
        return Attempt(True)
    try:
        await asyncio.to_thread(_append_sync, Path(str(dest.path)), block)
    except OSError as exc:
        return Attempt(False, error=f"cannot write {dest.path}: {exc.strerror or exc}")
    return Attempt(True)


def _append_sync(path: Path, block: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(block)
        f.flush()
