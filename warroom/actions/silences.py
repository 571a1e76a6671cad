"""Silence a firing alert in Alertmanager, and expire the silence (API v2), and what they did.

A silence matches every label of the alert (as Alertmanager's own "Silence" button fills it),
so it silences that alert and no other; it starts now and ends after the chosen duration,
with the responder as `createdBy` and their comment (Alertmanager requires one). Expiring is
`DELETE /api/v2/silence/{id}`. The equivalent command is amtool's. The effect is what
Alertmanager then reports for the alert: suppressed by that silence, or no longer.
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime, timedelta
from typing import Any

from warroom.actions.kube_call import ActionResult, Step
from warroom.actions.verify import Outcome, watch
from warroom.alerts import Alert
from warroom.model import format_duration, format_ts
from warroom.sources.http_errors import transport_error

TIMEOUT = 10.0


def _matchers(alert: Alert) -> list[dict[str, Any]]:
    return [
        {"name": k, "value": v, "isRegex": False, "isEqual": True}
        for k, v in sorted(alert.labels.items())
    ]


def _duration(d: timedelta) -> str:
    """ "2h", "1h30m", "45m": as amtool's --duration takes it."""
    minutes = max(1, round(d.total_seconds() / 60))
    hours, rest = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + (f"{rest}m" if rest or not hours else "")


def add_command(url: str, alert: Alert, duration: timedelta, comment: str) -> str:
    matchers = " ".join(shlex.quote(f"{k}={v}") for k, v in sorted(alert.labels.items()))
    return (
        f"amtool silence add {matchers} --duration={_duration(duration)} "
        f"--comment={shlex.quote(comment)} --alertmanager.url={url}"
    )


def expire_command(url: str, silence_id: str) -> str:
    return f"amtool silence expire {silence_id} --alertmanager.url={url}"


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _step(verb: str, alert: Alert) -> Step:
    """The call in flight, named after the alert, as the cluster actions name theirs."""
    return Step(alert.labels.get("namespace", ""), verb, "silences", alert.name)


def _refusal(status: int, body: str, verb: str) -> tuple[str, bool]:
    if status in (401, 403):
        return f"not allowed: {verb} silences in Alertmanager (HTTP {status})", True
    return f"failed: {verb} silences: HTTP {status}: {body.strip()[:300]}", False


async def silence(
    url: str,
    alert: Alert,
    duration: timedelta,
    comment: str,
    created_by: str,
    *,
    token: str | None = None,
    now: datetime | None = None,
) -> ActionResult:
    """POST /api/v2/silences for this alert's labels; the result's `seen` has the id."""
    import httpx

    step = _step("create", alert)
    url = url.rstrip("/")
    start = (now or datetime.now(UTC)).astimezone(UTC)
    end = start + duration
    body = {
        "matchers": _matchers(alert),
        "startsAt": format_ts(start),
        "endsAt": format_ts(end),
        "createdBy": created_by,
        "comment": comment,
    }
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, headers=_headers(token)) as http:
            resp = await http.post(f"{url}/api/v2/silences", json=body)
    except httpx.HTTPError as e:
        text = f"failed: create silences: {transport_error(e, url, TIMEOUT)}"
        return step.result(False, text)
    if resp.status_code != 200:
        text, forbidden = _refusal(resp.status_code, resp.text, "create")
        return step.result(False, text, forbidden=forbidden)
    sid = str((resp.json() or {}).get("silenceID") or "")
    until = end.strftime("%H:%M UTC")
    text = (
        f"silenced alert {alert.name} in Alertmanager for {format_duration(duration)} "
        f"(until {until}, silence {sid}): {comment}"
    )
    record = {
        "silence_id": sid,
        "fingerprint": alert.fingerprint,
        "ends_at": format_ts(end),
        "matchers": {k: v for k, v in sorted(alert.labels.items())},
    }
    seen = {"silence_id": sid, "fingerprint": alert.fingerprint, "expire": False}
    revert = expire_command(url, sid)
    return step.result(True, text, revert, seen=seen, record=record)


async def expire(
    url: str, alert: Alert, silence_id: str, *, token: str | None = None
) -> ActionResult:
    """DELETE /api/v2/silence/{id}: the silence ends now."""
    import httpx

    step = _step("delete", alert)
    url = url.rstrip("/")
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, headers=_headers(token)) as http:
            resp = await http.delete(f"{url}/api/v2/silence/{silence_id}")
    except httpx.HTTPError as e:
        text = f"failed: delete silences: {transport_error(e, url, TIMEOUT)}"
        return step.result(False, text)
    if resp.status_code != 200:
        text, forbidden = _refusal(resp.status_code, resp.text, "delete")
        return step.result(False, text, forbidden=forbidden)
    text = f"expired silence {silence_id} of alert {alert.name} in Alertmanager"
    seen = {"silence_id": silence_id, "fingerprint": alert.fingerprint, "expire": True}
    return step.result(
        True,
        text,
        "silence it again from the alerts table (m)",
        seen=seen,
        record={"silence_id": silence_id, "fingerprint": alert.fingerprint},
    )


async def verify_silence(
    url: str,
    alert_name: str,
    seen: dict[str, Any],
    *,
    token: str | None = None,
    wait: float = 15.0,
    poll: float = 1.0,
) -> Outcome:
    """Took effect when Alertmanager reports the alert suppressed by the silence (or, after
    an expiry, the silence expired and the alert, if still firing, no longer silenced by it)."""
    import httpx

    url = url.rstrip("/")
    sid, fp, expiring = seen.get("silence_id"), seen.get("fingerprint"), seen.get("expire")

    async def read() -> dict[str, Any] | None:
        async with httpx.AsyncClient(timeout=TIMEOUT, headers=_headers(token)) as http:
            alerts = (await http.get(f"{url}/api/v2/alerts")).json()
            state = ""
            if expiring:
                got = await http.get(f"{url}/api/v2/silence/{sid}")
                state = ((got.json() or {}).get("status") or {}).get("state", "")
        alert = next((a for a in alerts or [] if a.get("fingerprint") == fp), None)
        return {"alert": alert, "silence_state": state}

    def silenced_by(now: dict[str, Any] | None) -> list[str]:
        a = (now or {}).get("alert") or {}
        return list((a.get("status") or {}).get("silencedBy") or [])

    def judge(now: dict[str, Any] | None) -> Outcome | None:
        if expiring:
            if (now or {}).get("silence_state") == "expired" and sid not in silenced_by(now):
                text = f"silence {sid} expired; {alert_name} is not silenced by it"
                return Outcome("took_effect", text, 0)
            return None
        if sid in silenced_by(now):
            return Outcome("took_effect", f"alert {alert_name} is silenced (suppressed)", 0)
        if now is not None and now.get("alert") is None:
            return Outcome("took_effect", f"alert {alert_name} is no longer firing", 0)
        return None

    def still(now: dict[str, Any] | None) -> str:
        a = (now or {}).get("alert") or {}
        state = (a.get("status") or {}).get("state", "gone")
        return f"alert {alert_name} is still {state} in Alertmanager"

    return await watch(read, judge, wait=wait, poll=poll, still=still, otherwise="no_effect")
