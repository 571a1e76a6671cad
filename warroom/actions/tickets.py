"""Action items filed as tickets in GitHub, GitLab or Jira, through their REST APIs, never twice.

The discipline is the outbox's: a document per (item, tracker) in the store's "tickets" table
records each attempt under the store's lock (a claim with a lease, so two warrooms never send
the same item at once), and the created ticket's URL goes on the timeline (an action_item
"ticket" event, hash-chained). Before creating, the timeline and the document are checked; when
an earlier attempt may have created the ticket without us hearing the answer (a timeout, a
dropped connection, a 5xx, a process killed mid-request), the tracker is searched for the
item's marker first. A refused connection or a 4xx created nothing: the next run creates it.

    GitHub  POST {url}/repos/{owner}/{repo}/issues             -> 201 {html_url, number}
    GitLab  POST {url}/api/v4/projects/{id or path}/issues     -> 201 {web_url, iid}
    Jira    POST {url}/rest/api/2/issue                        -> 201 {id, key, self}
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from warroom.action_items import ActionItem
from warroom.actions.redact import scrub
from warroom.followup import record_ticket
from warroom.model import format_ts, parse_ts, utcnow
from warroom.room import WarRoom
from warroom.sanitize import one_line
from warroom.trackers import Tracker

if TYPE_CHECKING:
    import httpx

TABLE = "tickets"
LEASE = timedelta(seconds=60)  # a claim outlives one request (timeout) by a margin


@dataclass(frozen=True)
class Filed:
    item: str
    tracker: str
    ok: bool
    url: str | None = None
    how: str = ""  # created | found | already | (empty on failure)
    error: str | None = None


class TicketError(Exception):
    """One attempt's failure. `maybe_created`: the request may have reached the tracker."""

    def __init__(self, message: str, maybe_created: bool = False) -> None:
        super().__init__(message)
        self.maybe_created = maybe_created


def marker(incident_id: str, item_id: str) -> str:
    return f"warroom:{incident_id}/{item_id}"


def marker_label(incident_id: str, item_id: str) -> str:
    return f"warroom-{incident_id}-{item_id}"  # Jira labels: no spaces, no slashes


class TrackerAPI:
    """One tracker's create and find requests, and how its answers read."""

    def __init__(self, tracker: Tracker, token: str, client: httpx.Client) -> None:
        self.t = tracker
        self.token = token
        self.client = client

    def _request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        import httpx

        kw.setdefault("timeout", self.t.timeout)
        try:
            resp = self.client.request(method, url, **kw)
        except httpx.ConnectTimeout:
            raise TicketError(f"no connection after {self.t.timeout:g}s") from None
        except httpx.ConnectError as exc:
            refused = "refused" in str(exc).lower() or isinstance(
                exc.__cause__, ConnectionRefusedError
            )
            raise TicketError("connection refused" if refused else self._clean(str(exc))) from None
        except httpx.TimeoutException:
            raise TicketError(f"no answer after {self.t.timeout:g}s", maybe_created=True) from None
        except httpx.HTTPError as exc:
            raise TicketError(self._clean(f"{type(exc).__name__}: {exc}"), True) from None
        if resp.status_code >= 500:
            raise TicketError(f"HTTP {resp.status_code}{self._reason(resp)}", maybe_created=True)
        if resp.status_code >= 400:
            raise TicketError(f"HTTP {resp.status_code}{self._reason(resp)}")
        return resp

    def _clean(self, text: str) -> str:
        return one_line(text.replace(self.token, "…"))[:200] if self.token else one_line(text)

    def _reason(self, resp: httpx.Response) -> str:
        """The tracker's own words: GitHub/GitLab "message" (or "error"), Jira's errors."""
        try:
            body = resp.json()
        except ValueError:
            return ""
        if not isinstance(body, dict):
            return ""
        parts = [body.get("message"), body.get("error")]
        parts += list(body.get("errorMessages") or [])
        errors = body.get("errors")
        if isinstance(errors, dict):
            parts += [f"{k}: {v}" for k, v in errors.items()]
        elif isinstance(errors, list):
            parts += [e.get("message") or e.get("code") for e in errors if isinstance(e, dict)]
        said = "; ".join(str(p) for p in parts if p)
        return f": {self._clean(said)}" if said else ""

    # ----- per tracker -----------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        if self.t.name == "github":
            return {
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
            }
        if self.t.name == "gitlab":
            return {"PRIVATE-TOKEN": self.token}
        return {} if self.t.user else {"Authorization": f"Bearer {self.token}"}

    def _auth(self) -> tuple[str, str] | None:
        return (self.t.user, self.token) if self.t.name == "jira" and self.t.user else None

    def create(self, incident_id: str, item: ActionItem, body: str) -> tuple[str, str]:
        """(ticket URL, key) of the ticket created now."""
        t, title = self.t, scrub(f"[{incident_id}] {item.text}")[:250]
        kw: dict[str, Any] = {"headers": self._headers(), "auth": self._auth()}
        if t.name == "github":
            payload: dict[str, Any] = {"title": title, "body": body}
            if t.labels:
                payload["labels"] = list(t.labels)
            data = self._request("POST", f"{t.url}/repos/{t.project}/issues", json=payload, **kw)
            doc = data.json()
            return str(doc["html_url"]), str(doc.get("number", ""))
        if t.name == "gitlab":
            payload = {"title": title, "description": body}
            if t.labels:
                payload["labels"] = ",".join(t.labels)
            if item.due:
                payload["due_date"] = item.due.isoformat()
            url = f"{t.url}/api/v4/projects/{quote(t.project, safe='')}/issues"
            doc = self._request("POST", url, json=payload, **kw).json()
            return str(doc["web_url"]), str(doc.get("iid", ""))
        fields: dict[str, Any] = {
            "project": {"key": t.project},
            "summary": title,
            "description": body,
            "issuetype": {"name": t.issue_type},
            "labels": [*t.labels, marker_label(incident_id, item.id)],
        }
        if item.due:
            fields["duedate"] = item.due.isoformat()
        doc = self._request("POST", f"{t.url}/rest/api/2/issue", json={"fields": fields}, **kw)
        key = str(doc.json()["key"])
        return f"{t.url}/browse/{key}", key

    def find(self, incident_id: str, item: ActionItem) -> tuple[str, str] | None:
        """The ticket an earlier, unanswered attempt may have created, found by its marker."""
        t, mark = self.t, marker(incident_id, item.id)
        kw: dict[str, Any] = {"headers": self._headers(), "auth": self._auth()}
        if t.name == "github":
            params = {"state": "all", "sort": "created", "direction": "desc", "per_page": "100"}
            found = self._request("GET", f"{t.url}/repos/{t.project}/issues", params=params, **kw)
            for issue in found.json():
                if mark in str(issue.get("body") or ""):
                    return str(issue["html_url"]), str(issue.get("number", ""))
            return None
        if t.name == "gitlab":
            url = f"{t.url}/api/v4/projects/{quote(t.project, safe='')}/issues"
            params = {"search": mark, "in": "description"}
            for issue in self._request("GET", url, params=params, **kw).json():
                if mark in str(issue.get("description") or ""):
                    return str(issue["web_url"]), str(issue.get("iid", ""))
            return None
        jql = f'labels = "{marker_label(incident_id, item.id)}"'
        params = {"jql": jql, "fields": "key"}
        found = self._request("GET", f"{t.url}/rest/api/2/search", params=params, **kw).json()
        for issue in found.get("issues") or ():
            return f"{t.url}/browse/{issue['key']}", str(issue["key"])
        return None


def ticket_body(incident_id: str, title: str, item: ActionItem) -> str:
    owner = f"@{item.owner}" if item.owner else "no owner"
    due = item.due.isoformat() if item.due else "no due date"
    text = scrub(f"{item.text}\n\nAction item {item.id} of incident {incident_id}: {title}\n")
    return f"{text}Owner: {owner}. Due: {due}.\n\n{marker(incident_id, item.id)}\n"


class TicketExporter:
    def __init__(
        self,
        room: WarRoom,
        tracker: Tracker,
        token: str,
        *,
        client_factory: Callable[[], httpx.Client] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.room = room
        self.tracker = tracker
        self.token = token
        self.client_factory = client_factory or _default_client
        self.clock = clock
        self.owner = f"{room.actor}:{uuid.uuid4().hex[:12]}"

    def export(self, item_ids: list[str] | None = None) -> list[Filed]:
        items = list(self.room.state.action_items.values())
        if item_ids:
            wanted = {i.strip().upper() for i in item_ids}
            items = [i for i in items if i.id in wanted]
        with self.client_factory() as client:
            api = TrackerAPI(self.tracker, self.token, client)
            return [self._one(api, it) for it in items]

    def _one(self, api: TrackerAPI, item: ActionItem) -> Filed:
        name, key = self.tracker.name, f"{item.id}:{self.tracker.name}"
        self.room.refresh()
        if name in item.tickets:
            return Filed(item.id, name, True, item.tickets[name], "already")
        now = self.clock()
        lookup = False

        def claim(doc: dict[str, Any] | None) -> dict[str, Any] | None:
            nonlocal lookup
            doc = doc or {"key": key, "item": item.id, "tracker": name, "attempts": 0}
            if doc.get("state") == "created":
                return None
            held = doc.get("claimed_until") and parse_ts(doc["claimed_until"]) > now
            if doc.get("state") == "sending" and held and doc.get("claimed_by") != self.owner:
                return None
            lookup = doc.get("state") in ("sending", "unknown")  # may exist already
            until = format_ts(now + LEASE)
            return {**doc, "state": "sending", "claimed_by": self.owner, "claimed_until": until}

        if self.room.store.update_doc(TABLE, key, claim) is None:
            doc = self.room.store.get_doc(TABLE, key) or {}
            if doc.get("state") == "created":  # recorded there, not yet on the timeline
                return self._created(item, str(doc["url"]), str(doc.get("ticket", "")), "found")
            return Filed(item.id, name, False, error="being exported by another warroom now")
        body = ticket_body(self.room.incident_id, self.room.state.title, item)
        try:
            found = api.find(self.room.incident_id, item) if lookup else None
            if found is not None:
                return self._created(item, *found, how="found")
            url, ticket = api.create(self.room.incident_id, item, body)
        except TicketError as exc:
            state = "unknown" if exc.maybe_created else "pending"
            self._settle(key, state=state, last_error=str(exc))
            return Filed(item.id, name, False, error=str(exc))
        except (KeyError, ValueError, TypeError) as exc:  # a 2xx we cannot read: may exist
            error = f"unexpected answer ({type(exc).__name__})"
            self._settle(key, state="unknown", last_error=error)
            return Filed(item.id, name, False, error=error)
        return self._created(item, url, ticket, how="created")

    def _created(self, item: ActionItem, url: str, ticket: str, how: str) -> Filed:
        key = f"{item.id}:{self.tracker.name}"
        self._settle(key, state="created", url=url, ticket=ticket, last_error=None)
        if self.tracker.name not in self.room.state.action_items[item.id].tickets:
            record_ticket(self.room, item.id, self.tracker.name, url, ticket)
        return Filed(item.id, self.tracker.name, True, url, how)

    def _settle(self, key: str, **fields: Any) -> None:
        at = format_ts(self.clock())

        def change(doc: dict[str, Any] | None) -> dict[str, Any]:
            doc = dict(doc or {"key": key})
            attempts = int(doc.get("attempts", 0)) + (fields.get("state") != "created")
            return {**doc, **fields, "attempts": attempts, "last_attempt_at": at,
                    "claimed_by": None, "claimed_until": None}  # fmt: skip

        self.room.store.update_doc(TABLE, key, change)


def _default_client() -> httpx.Client:
    import httpx

    return httpx.Client()
