"""One delivery attempt to any destination: the outbox's single way out. Webhooks and files
(notify.py), pages (pagers.py), e-mail (email.py) and the status page (statuspage.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from warroom.actions.email import send_email
from warroom.actions.notify import Attempt, Message, send
from warroom.actions.pagers import send_page
from warroom.actions.statuspage import Memory, send_statuspage
from warroom.destinations import Destination

if TYPE_CHECKING:
    import httpx

LOCAL_TYPES = ("file", "email")  # need no HTTP client


async def deliver(
    dest: Destination,
    msg: Message,
    client: httpx.AsyncClient | None,
    sent_at: str,
    idempotency_key: str,
    *,
    prior: bool = False,
    memory: Memory | None = None,
) -> Attempt:
    """`prior`: an earlier attempt may have reached the service (one failed, or a console
    died mid-send), for senders that look before they create. Never raises for a delivery
    problem."""
    if dest.type == "email":
        return await send_email(dest, msg, idempotency_key)
    if dest.type in ("pagerduty", "opsgenie"):
        assert client is not None
        return await send_page(dest, msg, client, sent_at)
    if dest.type == "statuspage":
        assert client is not None and memory is not None
        return await send_statuspage(dest, msg, client, memory, prior=prior)
    return await send(dest, msg, client, sent_at, idempotency_key)
