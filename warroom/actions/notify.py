"""Status updates on the wire: the payload per destination type and one delivery attempt.

Teams gets the legacy Office 365 connector MessageCard (`@type: MessageCard`); a Workflows
webhook that expects an Adaptive Card should use "webhook" with a flow that maps our JSON.
Destinations themselves (and URL masking) are in warroom/destinations.py; retries and
persistence in outbox.py.
"""

from __future__ import annotations

import asyncio
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from warroom.actions.redact import hide
from warroom.destinations import STDOUT, TACTICAL, Destination, mask_url
from warroom.sanitize import strip_control
from warroom.templates import DRILL_MARKER, TemplateContext

if TYPE_CHECKING:
    # httpx's __init__ imports its CLI (rich, pygments) when they are installed: the core
    # imports it only when it sends.
    import httpx

# MessageCard themeColor per severity (hex without '#').
_THEME = {"P0": "B00020", "P1": "E65100", "P2": "F9A825", "P3": "1565C0"}


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
    template: str = ""  # notification | update | resolution | page | checkpoint (witness)
    audience: str = ""  # whose update it is ("executives"); "page" for a page
    action: str = ""  # a page's: trigger | acknowledge | resolve
    level: str = ""  # a page's escalation level ("L2")
    to: str = ""  # a page's recipient, by name
    # The chain head when it was written ({"seq", "hash", "ref"}): whoever holds the message
    # can ask the record whether it still holds what was sent (`warroom verify --anchor`).
    anchor: dict[str, Any] | None = None

    @property
    def label(self) -> str:
        """How the timeline names it: "update #2", "notification", "resolution notice",
        "page to Bo Chen (L2)"."""
        if self.template == "page":
            what = {"acknowledge": "acknowledgement", "resolve": "resolve"}.get(self.action, "page")
            return f"{what} to {self.to}" + (f" ({self.level})" if self.level else "")
        aud = f"{self.audience} " if self.audience and self.audience != TACTICAL else ""
        if self.template == "notification":
            return aud + "notification"
        if self.template == "resolution":
            return aud + "resolution notice"
        if self.template == "checkpoint":
            return "checkpoint"
        n = f" #{self.update_number}" if self.update_number is not None else ""
        return f"{aud}update{n}"

    @property
    def body(self) -> str:
        """The text to send, inert. A drill's text always leads with the marker, even when the
        commander edited it away: a drill must never read as a real incident in a channel."""
        text = strip_control(self.text)
        if self.drill and not text.lstrip().startswith(DRILL_MARKER):
            text = f"{DRILL_MARKER} {text}"
        if self.anchor and self.anchor.get("ref"):
            text = f"{text.rstrip()}\n\nref {strip_control(str(self.anchor['ref']))}"
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
            "audience": self.audience,
            "action": self.action,
            "level": self.level,
            "to": self.to,
            "anchor": self.anchor,
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
            audience=str(d.get("audience") or ""),
            action=str(d.get("action") or ""),
            level=str(d.get("level") or ""),
            to=str(d.get("to") or ""),
            anchor=_anchor(d.get("anchor")),
        )


def _anchor(value: Any) -> dict[str, Any] | None:
    """An anchor as stored, if it reads as one (a hand-edited outbox doc must not crash)."""
    if not isinstance(value, dict):
        return None
    seq, full, ref = value.get("seq"), value.get("hash"), value.get("ref")
    if not isinstance(seq, int) or not isinstance(full, str) or not isinstance(ref, str):
        return None
    return {"seq": seq, "hash": full, "ref": ref}


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
    if msg.anchor:
        body["anchor"] = {"seq": msg.anchor["seq"], "hash": msg.anchor["hash"]}
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
    retry_after: float | None = None  # seconds the service asked us to wait (429, 503)
    answer: Any = None  # the service's JSON answer, when the sender needs it (an id)


async def send(
    dest: Destination,
    msg: Message,
    client: httpx.AsyncClient | None,
    sent_at: str,
    idempotency_key: str | None = None,
) -> Attempt:
    """One delivery attempt; never raises for a delivery problem, reports it instead.
    `idempotency_key` (the same for every attempt of one update to one destination) goes in an
    Idempotency-Key header, and in the body of our own webhook shape: a receiver that honours
    it ignores a retry after a timeout whose first post did arrive."""
    if dest.type == "file":
        return await _append_file(dest, file_block(msg, sent_at))
    assert dest.url is not None and client is not None
    body = payload(dest, msg, sent_at)
    headers = dict(dest.headers)
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
        if dest.type == "webhook":
            body["idempotency_key"] = idempotency_key
    return await http_attempt(client, "POST", dest.url, body, headers, dest.timeout)


async def http_attempt(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    body: dict[str, Any] | None,
    headers: dict[str, str],
    timeout: float,
    *,
    hide: tuple[str, ...] = (),
) -> Attempt:
    """One HTTP request as a delivery attempt: a 2xx is delivered; anything else is an error
    line safe to store (`url` masked, `hide`: secrets cut out of echoed bodies)."""
    import httpx

    try:
        resp = await client.request(method, url, json=body, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        return Attempt(False, error=f"timeout after {timeout:g}s")
    except httpx.HTTPError as exc:
        return Attempt(False, error=hide_secrets(scrub(_transport_error(exc), url), hide))
    except Exception as exc:  # a bug or an odd transport must not stop the outbox pass
        return Attempt(
            False, error=hide_secrets(scrub(f"{type(exc).__name__}: {exc}", url)[:200], hide)
        )
    if 200 <= resp.status_code < 300:
        try:
            answer = resp.json() if resp.content else None
        except ValueError:
            answer = None
        return Attempt(True, resp.status_code, answer=answer)
    # Slack and Teams put the reason in the body ("invalid_payload", "no_service").
    # Scrub before cutting: a cut could leave half a token that no longer matches.
    text = hide_secrets(scrub(strip_control(resp.text[:4096]), url), hide)
    detail = text.strip().replace("\n", " ")[:160]
    error = f"HTTP {resp.status_code}" + (f": {detail}" if detail else "")
    return Attempt(False, resp.status_code, error, retry_after(resp.headers.get("Retry-After")))


def hide_secrets(text: str, secrets: tuple[str, ...]) -> str:
    return hide(text, secrets, "…")


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number of seconds, or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    from warroom.model import utcnow

    return max(0.0, (when - utcnow()).total_seconds())


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
