"""Pages on the wire: PagerDuty Events API v2 and the Opsgenie Alert API.

PagerDuty: one event per page (`trigger`), then `acknowledge` and `resolve` with the same
`dedup_key`, the incident id. PagerDuty applies every trigger with an open alert's dedup_key to
that alert without paging again, which is what makes a resend after a crash harmless.

Opsgenie: an alert per recipient (alias "<incident>-<recipient>", Opsgenie's dedup key: a
create with the alias of an open alert is deduplicated), acknowledged and closed by alias.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from warroom.actions.notify import Attempt, Message, http_attempt
from warroom.destinations import Destination, SecretError
from warroom.sanitize import strip_control

if TYPE_CHECKING:
    import httpx

PD_SEVERITY = {"P0": "critical", "P1": "error", "P2": "warning", "P3": "info"}
OG_PRIORITY = {"P0": "P1", "P1": "P2", "P2": "P3", "P3": "P4"}


def pagerduty_event(msg: Message, routing_key: str, sent_at: str) -> dict[str, Any]:
    action = msg.action or "trigger"
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": action,
        "dedup_key": msg.incident,
    }
    if action != "trigger":
        return event
    event["payload"] = {
        "summary": strip_control(msg.headline)[:1024],
        "source": "warroom",
        "severity": PD_SEVERITY.get(msg.severity, "error"),
        "timestamp": sent_at,
        "component": msg.incident,
        "class": f"escalation {msg.level}".strip(),
        "custom_details": {
            "incident": msg.incident,
            "level": msg.level,
            "status": msg.status,
            "paged": msg.to,
            "text": msg.body,
        },
    }
    event["client"] = "warroom"
    if msg.url:
        event["client_url"] = msg.url
        event["links"] = [{"href": msg.url, "text": "Open the incident"}]
    return event


def opsgenie_request(dest: Destination, msg: Message) -> tuple[str, dict[str, Any]]:
    """(url, body) of one Opsgenie call for `msg`."""
    alias = f"{msg.incident}-{dest.options.get('id', dest.name)}"
    action = msg.action or "trigger"
    if action != "trigger":
        verb = "acknowledge" if action == "acknowledge" else "close"
        note = "Acknowledged in warroom" if verb == "acknowledge" else "Resolved in warroom"
        url = f"{dest.url}/{_quote(alias)}/{verb}?identifierType=alias"
        return url, {"source": "warroom", "note": note}
    who = dest.to[0] if dest.to else ""
    kind = "team" if dest.options.get("team") else "user"
    responder = {"type": kind, "name" if kind == "team" else "username": who}
    body = {
        "message": strip_control(msg.headline)[:130],
        "alias": alias,
        "description": msg.body[:15000],
        "responders": [responder],
        "priority": OG_PRIORITY.get(msg.severity, "P3"),
        "source": "warroom",
        "entity": msg.incident,
        "tags": ["warroom", msg.level] if msg.level else ["warroom"],
        "details": {"incident": msg.incident, "level": msg.level, "status": msg.status},
    }
    return str(dest.url), body


async def send_page(
    dest: Destination, msg: Message, client: httpx.AsyncClient, sent_at: str
) -> Attempt:
    """One PagerDuty or Opsgenie call; the key is read now (a fixed key file is picked up)."""
    try:
        key = dest.secret.read() if dest.secret else ""
    except SecretError as exc:
        return Attempt(False, error=f"no key: {exc.key}: {exc.problem}")
    if not key:
        what = "channels.opsgenie.api_key_env" if dest.type == "opsgenie" else "pagerduty_key"
        return Attempt(False, error=f"no key configured ({what})")
    if dest.type == "pagerduty":
        body = pagerduty_event(msg, key, sent_at)
        return await http_attempt(
            client, "POST", str(dest.url), body, {}, dest.timeout, hide=(key,)
        )
    url, body = opsgenie_request(dest, msg)
    headers = {"Authorization": f"GenieKey {key}"}
    return await http_attempt(client, "POST", url, body, headers, dest.timeout, hide=(key,))


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
