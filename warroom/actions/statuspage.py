"""The customers' updates on an Atlassian Statuspage page: the first creates the page's
incident, later ones update it, the resolution notice resolves it and sets its components
back to operational.

The page's incident id is remembered in the store (one document per destination), so every
console and a restarted one update the same incident. When an earlier attempt may have
created it without our hearing the answer (a timeout, a crash), the page's unresolved
incidents are searched for ours (its metadata names the warroom incident) before creating.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from warroom.actions.notify import Attempt, Message, http_attempt
from warroom.destinations import Destination, SecretError

if TYPE_CHECKING:
    import httpx

COMPONENT_STATUS = {
    "P0": "major_outage",
    "P1": "partial_outage",
    "P2": "degraded_performance",
    "P3": "degraded_performance",
}
IMPACT = {"P0": "critical", "P1": "major", "P2": "minor", "P3": "minor"}
STATUSES = ("investigating", "identified", "monitoring", "resolved")


class Memory(Protocol):
    """Where the page's incident id is kept between attempts and consoles."""

    def get(self) -> str | None: ...

    def put(self, value: str) -> None: ...


def fields(dest: Destination, msg: Message) -> dict[str, Any]:
    status = msg.status if msg.status in STATUSES else "investigating"
    if msg.template == "resolution":
        status = "resolved"
    comp = "operational" if status == "resolved" else COMPONENT_STATUS.get(msg.severity, "")
    components = tuple(dest.options.get("components") or ())
    body = msg.body
    name = next((line.strip() for line in body.splitlines() if line.strip()), msg.title)
    out: dict[str, Any] = {
        "name": name[:255],
        "status": status,
        "body": body,
        "deliver_notifications": True,
    }
    if components and comp:
        out["component_ids"] = list(components)
        out["components"] = dict.fromkeys(components, comp)
    return out


async def send_statuspage(
    dest: Destination,
    msg: Message,
    client: httpx.AsyncClient,
    memory: Memory,
    *,
    prior: bool,
) -> Attempt:
    try:
        key = dest.secret.read() if dest.secret else ""
    except SecretError as exc:
        return Attempt(False, error=f"no API key: {exc.key}: {exc.problem}")
    base = f"{dest.url}/v1/pages/{dest.options['page_id']}/incidents"
    headers = {"Authorization": f"OAuth {key}"}
    hide = (key,)
    incident = memory.get()
    if incident is None and prior:
        found = await http_attempt(client, "GET", f"{base}/unresolved", None, headers,
                                   dest.timeout, hide=hide)  # fmt: skip
        if not found.ok:
            return found
        incident = _ours(found.answer, msg.incident)
        if incident:
            memory.put(incident)
    body = fields(dest, msg)
    if incident:
        return await http_attempt(client, "PATCH", f"{base}/{incident}", {"incident": body},
                                  headers, dest.timeout, hide=hide)  # fmt: skip
    body["impact_override"] = IMPACT.get(msg.severity, "minor")
    body["metadata"] = {"warroom": {"incident": msg.incident}}
    made = await http_attempt(client, "POST", base, {"incident": body}, headers, dest.timeout,
                              hide=hide)  # fmt: skip
    if made.ok and isinstance(made.answer, dict) and made.answer.get("id"):
        memory.put(str(made.answer["id"]))
    return made


def _ours(answer: Any, incident: str) -> str | None:
    for inc in answer if isinstance(answer, list) else []:
        meta = inc.get("metadata") if isinstance(inc, dict) else None
        if isinstance(meta, dict) and (meta.get("warroom") or {}).get("incident") == incident:
            return str(inc.get("id"))
    return None
