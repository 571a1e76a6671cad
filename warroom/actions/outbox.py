"""The outbox: a status update is written to the store first, then delivered with retries.

One doc per (update event, destination) in the store's "outbox" table, key "<seq>:<name>". The
doc holds the message itself and the delivery state, so a restarted app (a new Outbox on the
re-opened store) carries on where the old one stopped; nothing lives only in memory.

Per destination, updates go out in order: a later update waits while an earlier one is
retrying, so a channel never reads update #3 before #2.

Several consoles on one incident each run an outbox over the same store. Before sending, an
item is claimed under the store's exclusive lock (a lease naming this outbox, as long as the
destination's timeout and a margin): the other consoles see the claim, or see it delivered,
and leave it alone, so a channel never gets the same update twice. A console killed mid-send
leaves a lease that expires, and the item is retried by whoever is still running.

The timeline hears about updates' delivery sparingly: the first failure of an item, its
delivery after a failure, and giving up (only with max_attempts). A clean first-try delivery
and each retry stay in the outbox doc. Pages are told every time (Kind.PAGE): each page and
acknowledgement that went out, and the first failure of each.

Pages go through the same outbox: one doc per page and channel, key "<escalation seq>:<page
destination>" (see actions/paging.py). A claim whose lease ran out without a recorded outcome
(a console killed mid-send) marks the next attempt as `prior`: senders that can look before
they create (the status page) do; PagerDuty and Opsgenie deduplicate on their own keys.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from warroom.actions.delivery import LOCAL_TYPES, deliver
from warroom.actions.notify import Message
from warroom.destinations import Destination
from warroom.model import Event, Kind, format_ts, parse_ts, utcnow
from warroom.room import WarRoom

if TYPE_CHECKING:
    import httpx  # imported when delivering: its __init__ pulls in rich (see notify.py)

TABLE = "outbox"
MEMORY = "channel_state"  # per destination: what a sender keeps (the status page's incident)
PAGE = "page"  # the audience of page destinations
CHANNEL_NAMES = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie", "email": "e-mail"}
CLAIM_MARGIN_S = 30.0  # a claim outlives the destination's timeout by this much
# failed: gave up after max_attempts; cancelled: a page the incident no longer needs (acked)
State = Literal["pending", "delivered", "failed", "cancelled"]
DONE = ("delivered", "cancelled")


@dataclass(frozen=True)
class OutboxItem:
    key: str
    update_seq: int
    destination: str
    state: State
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None
    last_attempt_at: datetime | None
    delivered_at: datetime | None
    status_code: int | None
    message: Message

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> OutboxItem:
        def t(name: str) -> datetime | None:
            return parse_ts(doc[name]) if doc.get(name) else None

        return cls(
            key=str(doc["key"]),
            update_seq=int(doc["update_seq"]),
            destination=str(doc["destination"]),
            state=doc["state"],
            attempts=int(doc.get("attempts", 0)),
            created_at=parse_ts(doc["created_at"]),
            next_attempt_at=parse_ts(doc["next_attempt_at"]),
            last_error=doc.get("last_error"),
            last_attempt_at=t("last_attempt_at"),
            delivered_at=t("delivered_at"),
            status_code=doc.get("status_code"),
            message=Message.from_dict(doc.get("message") or {}),
        )


@dataclass(frozen=True)
class DeliveryResult:
    key: str
    destination: str
    update_seq: int
    ok: bool
    state: State
    attempts: int
    status_code: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None  # None once delivered or given up


def item_key(seq: int, destination: str) -> str:
    return f"{seq}:{destination}"


class Outbox:
    def __init__(
        self,
        room: WarRoom,
        destinations: Sequence[Destination],
        *,
        client_factory: Callable[[], httpx.AsyncClient] | None = None,
        max_attempts: int | None = None,
        base_backoff: float = 1.0,
        max_backoff: float = 60.0,
        clock: Callable[[], datetime] = utcnow,
        actor: str = "warroom",
        rng: random.Random | None = None,
        witness: Destination | None = None,
    ) -> None:
        if max_attempts is not None and max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (or None: retry forever)")
        self.room = room
        self.store = room.store
        self.destinations = {d.name: d for d in destinations}
        # The witness receives the signed checkpoints, and nothing else.
        self.witness = witness.name if witness is not None else None
        if witness is not None:
            self.destinations[witness.name] = witness
        self.client_factory = client_factory or _default_client
        self.max_attempts = max_attempts
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self.clock = clock
        self.actor = actor
        self._rng = rng or random.Random()
        self._lock = asyncio.Lock()  # one delivery pass at a time (timer and "retry now")
        self.owner = f"{actor}:{uuid.uuid4().hex[:12]}"  # names this outbox in a claim

    # -- writing -----------------------------------------------------------------------------

    def enqueue(self, update_event: Event) -> list[str]:
        """Persist one pending item per destination for a Kind.UPDATE event (for a
        Kind.CHECKPOINT: one for the witness); returns the keys.

        Idempotent: an item that already exists is left as it is.
        """
        if update_event.kind not in (Kind.UPDATE, Kind.CHECKPOINT):
            raise ValueError(f"only {Kind.UPDATE.value} events are sent, not {update_event.kind}")
        msg = _message_of(self.store.incident_id, update_event)
        if update_event.kind == Kind.CHECKPOINT:
            dests = [self.destinations[self.witness]] if self.witness else []
        else:
            dests = self.hearing(msg.audience)
        return [self._put(update_event.seq, d, msg, d.audience or d.name) for d in dests]

    def hearing(self, audience: str) -> list[Destination]:
        """The destinations an update for `audience` goes to (every one but the pagers when
        the update names no audience; never the witness, which receives checkpoints only)."""
        return [
            d
            for d in self.destinations.values()
            if d.audience != PAGE
            and d.heard_by == (audience or d.heard_by)
            and d.name != self.witness
        ]

    def enqueue_page(self, seq: int, destination: str, msg: Message) -> str:
        """One page (or its acknowledgement, or resolve) to one page destination, recorded by
        the event `seq` that decided it. Idempotent, like enqueue."""
        dest = self.destinations.get(destination)
        if dest is None:
            raise ValueError(f"no page destination {destination!r}")
        return self._put(seq, dest, msg, PAGE)

    def _put(self, seq: int, dest: Destination, msg: Message, audience: str) -> str:
        key = item_key(seq, dest.name)
        if self.store.get_doc(TABLE, key) is not None:
            return key
        now = format_ts(self.clock())
        self.store.put_doc(
            TABLE,
            key,
            {
                "key": key,
                "update_seq": seq,
                "destination": dest.name,  # the name only: the URL is a secret
                "audience": audience,  # for the post-mortem
                "kind": PAGE if audience == PAGE else "update",
                "state": "pending",
                "attempts": 0,
                "created_at": now,
                "next_attempt_at": now,
                "last_attempt_at": None,
                "last_error": None,
                "delivered_at": None,
                "status_code": None,
                "reported": False,  # first failure already on the timeline
                "message": msg.to_dict(),
            },
        )
        return key

    def retry_now(self, key: str | None = None) -> int:
        """Make one item (or every undelivered one, given-up ones included) due now."""
        now = format_ts(self.clock())
        count = 0
        for k, doc in self.store.docs(TABLE).items():
            if doc["state"] in DONE or (key is not None and k != key):
                continue
            self.store.put_doc(TABLE, k, {**doc, "state": "pending", "next_attempt_at": now})
            count += 1
        return count

    # -- reading -----------------------------------------------------------------------------

    def items(self) -> list[OutboxItem]:
        docs = self.store.docs(TABLE).values()
        return sorted(
            (OutboxItem.from_doc(d) for d in docs), key=lambda i: (i.update_seq, i.destination)
        )

    def pending(self) -> list[OutboxItem]:
        """Every item not delivered yet (state "pending", or "failed" after max_attempts)."""
        return [i for i in self.items() if i.state not in DONE]

    def cancel(self, key: str, why: str) -> bool:
        """Drop an item not sent yet (a page the acknowledgement made moot); False when it is
        delivered, gone, or being sent right now (its answer decides)."""
        now = self.clock()

        def drop(doc: dict[str, Any] | None) -> dict[str, Any] | None:
            if doc is None or doc.get("state") in DONE:
                return None
            held = doc.get("claimed_until")
            if held and parse_ts(held) > now:
                return None
            return {**doc, "state": "cancelled", "last_error": why}

        return self.store.update_doc(TABLE, key, drop) is not None

    def undelivered_count(self) -> int:
        """Updates with at least one destination still waiting: the header's "1 undelivered"
        (the witness's checkpoints are not updates)."""
        return len(
            {
                i.update_seq
                for i in self.pending()
                if i.message.template != PAGE and i.destination != self.witness
            }
        )

    def undelivered_pages(self) -> int:
        """Pages (and their acknowledgements) not delivered yet, one per channel."""
        return sum(1 for i in self.pending() if i.message.template == PAGE)

    def next_due(self) -> datetime | None:
        """When the next pending item becomes due, for arming a timer."""
        due = [i.next_attempt_at for i in self.pending() if i.state == "pending"]
        return min(due) if due else None

    # -- delivering --------------------------------------------------------------------------

    async def deliver_due(self, now: datetime | None = None) -> list[DeliveryResult]:
        """Send every due item once. Safe to call any time, also right after a restart."""
        async with self._lock:
            now = now or self.clock()
            queues: dict[str, list[OutboxItem]] = {}
            for item in self.pending():
                if item.state != "pending":
                    continue
                if item.destination not in self.destinations:
                    self._note_unconfigured(item)
                    continue
                queues.setdefault(item.destination, []).append(item)
            if not queues:
                return []
            if all(self.destinations[name].type in LOCAL_TYPES for name in queues):
                per_dest = await asyncio.gather(
                    *(self._drain(q, None, now) for q in queues.values())
                )
            else:
                async with self.client_factory() as client:
                    per_dest = await asyncio.gather(
                        *(self._drain(q, client, now) for q in queues.values())
                    )
            return [r for results in per_dest for r in results]

    async def _drain(
        self, queue: list[OutboxItem], client: httpx.AsyncClient | None, now: datetime
    ) -> list[DeliveryResult]:
        results = []
        for item in queue:  # in update order; stop at the first one not due or not delivered
            if item.next_attempt_at > now:
                break
            if not self._claim(item, now):
                break  # another console is sending it (or has): keep the order, look later
            result = await self._attempt(item, client)
            results.append(result)
            if not result.ok:
                break
        return results

    def _claim(self, item: OutboxItem, now: datetime) -> bool:
        """Take the item for one attempt, atomically across processes; False if it is not
        ours to send: delivered, given up, attempted since we read it, or leased by another."""
        lease = timedelta(seconds=self.destinations[item.destination].timeout + CLAIM_MARGIN_S)

        def claim(doc: dict[str, Any] | None) -> dict[str, Any] | None:
            if doc is None or doc.get("state") != "pending":
                return None
            if int(doc.get("attempts", 0)) != item.attempts:
                return None  # someone attempted it after we listed it: their retry timing
            held_until = doc.get("claimed_until")
            if held_until and parse_ts(held_until) > now:
                # Leased, by another console or by an attempt of ours cut short (cancelled,
                # crashed): that post may have arrived, so wait for the lease to end.
                return None
            # A lease that ran out with no outcome recorded: that attempt may have arrived.
            doubt = bool(doc.get("in_doubt") or doc.get("claimed_by"))
            claim = {"claimed_by": self.owner, "claimed_until": format_ts(now + lease)}
            return {**doc, **claim, "in_doubt": doubt}

        return self.store.update_doc(TABLE, item.key, claim) is not None

    async def _attempt(self, item: OutboxItem, client: httpx.AsyncClient | None) -> DeliveryResult:
        dest = self.destinations[item.destination]
        started = self.clock()
        key = f"{self.store.incident_id}:{item.key}"  # one per update and destination
        before = self.store.get_doc(TABLE, item.key) or {}
        prior = item.attempts > 0 or bool(before.get("in_doubt"))
        outcome = await deliver(
            dest, item.message, client, format_ts(started), key,
            prior=prior, memory=_Memory(self.store, dest.name),
        )  # fmt: skip
        done = self.clock()
        doc = dict(self.store.get_doc(TABLE, item.key) or {})
        attempts = int(doc.get("attempts", 0)) + 1
        doc.update(attempts=attempts, last_attempt_at=format_ts(done), in_doubt=False)
        doc.update(claimed_by=None, claimed_until=None)  # the lease ends with the attempt
        page = item.message.template == PAGE
        label = _page_label(item.message, dest) if page else f"{item.message.label} to {dest.name}"
        if outcome.ok:
            doc.update(
                state="delivered",
                delivered_at=format_ts(done),
                status_code=outcome.status_code,
                last_error=None,
            )
            self.store.put_doc(TABLE, item.key, doc)
            if page:
                tries = f" after {attempts} attempts" if attempts > 1 else ""
                self._log(item, f"{label}: delivered{tries}", attempts, kind=Kind.PAGE)
            elif attempts > 1:
                self._log(item, f"{label} delivered after {attempts} attempts", attempts)
            return DeliveryResult(
                item.key,
                dest.name,
                item.update_seq,
                True,
                "delivered",
                attempts,
                outcome.status_code,
            )

        gave_up = self.max_attempts is not None and attempts >= self.max_attempts
        wait = self._backoff(attempts)
        if outcome.retry_after is not None:  # the service said when: never sooner
            wait = max(wait, timedelta(seconds=min(outcome.retry_after, 3600)))
        next_at = None if gave_up else done + wait
        doc.update(
            state="failed" if gave_up else "pending",
            status_code=outcome.status_code,
            last_error=outcome.error,
            next_attempt_at=format_ts(next_at) if next_at else doc["next_attempt_at"],
        )
        first_report = not doc.get("reported")
        doc["reported"] = True
        self.store.put_doc(TABLE, item.key, doc)
        kind = Kind.PAGE if page else Kind.SYSTEM
        if gave_up:
            self._log(
                item,
                f"{label} not delivered, gave up after {attempts} attempts: {outcome.error}",
                attempts,
                outcome.error,
                kind=kind,
            )
        elif first_report:
            text = f"{label} not delivered: {outcome.error}; retrying"
            self._log(item, text, attempts, outcome.error, kind=kind)
        return DeliveryResult(
            item.key,
            dest.name,
            item.update_seq,
            False,
            "failed" if gave_up else "pending",
            attempts,
            outcome.status_code,
            outcome.error,
            next_at,
        )

    def _backoff(self, attempts: int) -> timedelta:
        # Exponential, capped, with "equal jitter": half fixed, half random, so many warrooms
        # (or destinations) that failed together do not retry in lockstep.
        delay = min(self.max_backoff, self.base_backoff * 2 ** min(attempts - 1, 32))
        return timedelta(seconds=delay / 2 + self._rng.uniform(0, delay / 2))

    def _note_unconfigured(self, item: OutboxItem) -> None:
        error = "destination no longer configured"
        doc = self.store.get_doc(TABLE, item.key)
        if doc is not None and doc.get("last_error") != error:
            self.store.put_doc(TABLE, item.key, {**doc, "last_error": error})

    def _log(
        self,
        item: OutboxItem,
        text: str,
        attempts: int,
        error: str | None = None,
        *,
        kind: Kind = Kind.SYSTEM,
    ) -> None:
        data: dict[str, Any] = {
            "outbox": item.key,
            "update_seq": item.update_seq,
            "destination": item.destination,
            "attempts": attempts,
        }
        if error:
            data["error"] = error
        if kind == Kind.PAGE:
            data.update(action=item.message.action, to=item.message.to, level=item.message.level)
        self.room.record(kind, text, data, source=self.actor)


def _default_client() -> httpx.AsyncClient:
    import httpx

    return httpx.AsyncClient()


def _page_label(msg: Message, dest: Destination) -> str:
    """ "Page to Bo Chen (L2) via PagerDuty", "Acknowledgement to Bo Chen via Opsgenie"."""
    how = CHANNEL_NAMES.get(dest.type, dest.type)
    return f"{msg.label[0].upper()}{msg.label[1:]} via {how}"


class _Memory:
    """A sender's memory for one destination, in the store (see statuspage.py)."""

    def __init__(self, store: Any, name: str) -> None:
        self.store, self.name = store, name

    def get(self) -> str | None:
        doc = self.store.get_doc(MEMORY, self.name)
        return str(doc["value"]) if doc and doc.get("value") else None

    def put(self, value: str) -> None:
        self.store.put_doc(MEMORY, self.name, {"value": value})


def _message_of(incident_id: str, ev: Event) -> Message:
    """The message of an update event (the fields come from notify.update_data()), or of a
    checkpoint for the witness: the full head it covers, who signed it, the signature."""
    if ev.kind == Kind.CHECKPOINT:
        d = ev.data
        text = (
            f"{ev.text}\nref {d.get('seq')}:{d.get('hash')}\nsigned by {ev.actor} with key "
            f"{d.get('fingerprint')}\n{d.get('signature')}"
        )
        return Message(incident=incident_id, text=text, template="checkpoint")
    # The event's data carries the same fields a stored message has (notify.update_data).
    return Message.from_dict({**ev.data, "incident": incident_id, "text": ev.text})
