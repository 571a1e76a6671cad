"""Who to reach and how, as configured: contacts, teams, escalation levels and their policy,
the paging channels, audiences with their cadences, and the regulatory clock. Pure data and
parsing (through the settings' Reader); the sending is in warroom/actions/.

    [contacts.ann]
    name = "Ann Lee"
    roles = ["commander", "tech_lead"]       # the roles she can take (the `o` dialog)
    phone = "+1 555 0100"
    email = "ann@example.com"
    pagerduty_key_env = "WARROOM_PD_ANN"     # her PagerDuty service's routing key
    opsgenie = "ann@example.com"             # her Opsgenie user
    webhook = "oncall-hook"                  # a [[notify.destinations]] name

    [teams.checkout]                         # a team: its own channels, else its members'
    members = ["ann", "bo"]

    [escalation.levels.L2]
    targets = ["checkout"]

Nothing here is required: with no contact and no team, `E` asks for a name as it always did
and nothing is paged. Secrets (routing keys, API keys, the SMTP password) are named, never
written here: `<key>_env` (a variable) or `<key>_file` (a file's first line).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from warroom.destinations import (
    STATUSPAGE_URL,
    TACTICAL,
    Destination,
    Secret,
    SettingsReader,
    is_address,
    url_problem,
)
from warroom.model import Role, Severity, parse_duration

LEVEL_IDS = ("L1", "L2", "L3", "L4")
CHANNELS = ("pagerduty", "opsgenie", "email", "webhook")
CONTACT_KEYS = (
    "name", "roles", "phone", "email", "pagerduty_key_env", "pagerduty_key_file", "opsgenie",
    "webhook", "members",
)  # fmt: skip
PAGERDUTY_URL = "https://events.pagerduty.com"
OPSGENIE_URL = "https://api.opsgenie.com"
__all__ = ["STATUSPAGE_URL", "TACTICAL", "Directory", "parse_directory"]


@dataclass(frozen=True)
class Recipient:
    """A contact, or a team (members: paged through them unless the team has channels)."""

    id: str
    name: str
    roles: tuple[str, ...] = ()
    phone: str = ""
    email: str = ""
    pagerduty: Secret | None = field(default=None, repr=False)
    opsgenie: str = ""
    webhook: str = ""
    members: tuple[str, ...] = ()
    team: bool = False

    @property
    def channels(self) -> tuple[str, ...]:
        have = (bool(self.pagerduty), bool(self.opsgenie), bool(self.email), bool(self.webhook))
        return tuple(c for c, ok in zip(CHANNELS, have, strict=True) if ok)


@dataclass(frozen=True)
class Level:
    id: str  # L1..L4
    name: str
    criteria: str = ""
    targets: tuple[str, ...] = ()  # contact or team ids
    severity: Severity | None = None  # raised to this (or worse): escalate here

    @property
    def rank(self) -> int:
        return LEVEL_IDS.index(self.id) + 1


@dataclass(frozen=True)
class Channels:
    """[channels.*]: where pages and e-mail go (the endpoints; keys are per contact)."""

    pagerduty_url: str = PAGERDUTY_URL
    pagerduty_timeout: float = 10.0
    opsgenie_url: str = OPSGENIE_URL
    opsgenie_key: Secret | None = field(default=None, repr=False)
    opsgenie_timeout: float = 10.0
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"  # starttls | ssl | none
    smtp_user: str | None = None
    smtp_password: Secret | None = field(default=None, repr=False)
    smtp_from: str = "warroom@localhost"
    smtp_timeout: float = 10.0

    def smtp(self) -> dict[str, Any]:
        """What an email Destination carries to reach the server."""
        return {
            "host": self.smtp_host,
            "port": self.smtp_port,
            "security": self.smtp_security,
            "user": self.smtp_user,
            "from": self.smtp_from,
        }


@dataclass(frozen=True)
class Audience:
    id: str
    title: str
    every: dict[Severity, timedelta] | None = None  # None: the severity's update_every

    def cadence(self, severity: Severity, update_every: timedelta) -> timedelta | None:
        if self.every is None:
            return update_every
        return self.every.get(severity)


@dataclass(frozen=True)
class Directory:
    contacts: dict[str, Recipient] = field(default_factory=dict)
    teams: dict[str, Recipient] = field(default_factory=dict)
    levels: tuple[Level, ...] = ()
    on_missed_ack: bool = True
    on_severity: bool = True
    channels: Channels = field(default_factory=Channels)
    audiences: tuple[Audience, ...] = (Audience(TACTICAL, "Responders"),)
    regulatory_categories: tuple[str, ...] = ("security", "data")
    regulatory_within: timedelta = timedelta(hours=72)

    @property
    def empty(self) -> bool:
        """No contact and no team: escalation stays a name typed by hand, nothing is paged."""
        return not self.contacts and not self.teams

    def level(self, level_id: str) -> Level | None:
        return next((lv for lv in self.levels if lv.id == level_id), None)

    def next_level(self, current: str | None) -> Level | None:
        rank = LEVEL_IDS.index(current) + 1 if current in LEVEL_IDS else 1
        return next((lv for lv in self.levels if lv.rank > rank), None)

    def recipient(self, rid: str) -> Recipient | None:
        return self.contacts.get(rid) or self.teams.get(rid)

    def paged(self, level: Level) -> list[Recipient]:
        """Who a level's page reaches: contacts, teams with channels, else their members."""
        out: dict[str, Recipient] = {}
        for rid in level.targets:
            r = self.recipient(rid)
            if r is None:
                continue
            if r.team and not r.channels:
                for m in r.members:
                    if m in self.contacts:
                        out.setdefault(m, self.contacts[m])
            else:
                out.setdefault(r.id, r)
        return list(out.values())

    def by_name(self, name: str) -> Recipient | None:
        key = " ".join(name.split()).lower()
        return next(
            (c for c in self.contacts.values() if key in (c.name.lower(), c.id.lower())), None
        )

    def audience(self, audience_id: str) -> Audience | None:
        return next((a for a in self.audiences if a.id == audience_id), None)

    def in_use(self, notify: tuple[Destination, ...]) -> list[Audience]:
        """The responders, and every audience some destination is for: who `u` writes to."""
        heard = {d.heard_by for d in notify}
        return [a for a in self.audiences if a.id == TACTICAL or a.id in heard]

    def regulated(self, category: str) -> bool:
        return category.lower() in self.regulatory_categories

    def regulatory_due(self, aware_at: datetime | None) -> datetime | None:
        return aware_at + self.regulatory_within if aware_at else None

    def destinations(self, notify: tuple[Destination, ...]) -> list[Destination]:
        """One Destination per recipient and channel: what the outbox sends pages through."""
        out = []
        ch = self.channels
        hooks = {d.name: d for d in notify}
        for r in [*self.contacts.values(), *self.teams.values()]:
            opts = {"to": r.name, "id": r.id, "team": r.team}

            def page(via: str, kind: str, **kw: Any) -> Destination:
                return Destination(f"page:{r.id}:{via}", kind, audience="page", **kw)  # noqa: B023

            if r.pagerduty:
                url = f"{ch.pagerduty_url}/v2/enqueue"
                out.append(page("pagerduty", "pagerduty", url=url, timeout=ch.pagerduty_timeout,
                                secret=r.pagerduty, options=opts))  # fmt: skip
            if r.opsgenie:
                out.append(page("opsgenie", "opsgenie", url=f"{ch.opsgenie_url}/v2/alerts",
                                timeout=ch.opsgenie_timeout, secret=ch.opsgenie_key,
                                to=(r.opsgenie,), options=opts))  # fmt: skip
            if r.email:
                out.append(page("email", "email", timeout=ch.smtp_timeout, secret=ch.smtp_password,
                                to=(r.email,), options={**opts, **ch.smtp()}))  # fmt: skip
            hook = hooks.get(r.webhook)
            if hook is not None:
                kw = {"url": hook.url, "path": hook.path, "headers": hook.headers}
                out.append(page("webhook", hook.type, timeout=hook.timeout, options=opts, **kw))
        return out

    def with_smtp(self, notify: list[Destination]) -> tuple[Destination, ...]:
        """E-mail destinations of [[notify.destinations]] given the SMTP server to go through."""
        ch = self.channels
        return tuple(
            replace(d, secret=ch.smtp_password, options={**ch.smtp(), **d.options})
            if d.type == "email"
            else d
            for d in notify
        )

    def secrets(self) -> list[Secret]:
        found = [r.pagerduty for r in [*self.contacts.values(), *self.teams.values()]]
        found += [self.channels.opsgenie_key, self.channels.smtp_password]
        return [s for s in found if s is not None]


def escalation(
    directory: Directory,
    level: Level,
    *,
    reason: str,
    auto: str | None = None,
) -> tuple[str, dict[str, Any]]:
    """(timeline text, event data) of escalating to `level`: who it pages, through what."""
    paged = directory.paged(level)
    targets = [{"id": r.id, "name": r.name, "via": list(r.channels)} for r in paged]
    who = ", ".join(r.name for r in paged) or "nobody (no target configured)"
    how = "automatically" if auto else ""
    text = " ".join(x for x in (f"Escalated to {level.id} ({level.name})", how) if x)
    text += f": {reason}; paging {who}" if reason else f"; paging {who}"
    data: dict[str, Any] = {
        "to": f"{level.id} {level.name}",
        "level": level.id,
        "rank": level.rank,
        "criteria": level.criteria,
        "targets": targets,
    }
    if auto:
        data["auto"] = auto
    return text, data


REGULATORY_ITEM = "regulator-notified"


# ----- parsing ------------------------------------------------------------------------------
def parse_directory(r: SettingsReader, notify_names: set[str]) -> Directory:
    contacts = _recipients(r, "contacts", notify_names, team=False)
    teams = _recipients(r, "teams", notify_names, team=True)
    for tid, t in teams.items():
        for m in t.members:
            if m not in contacts:
                raise r.fail(f"teams.{tid}.members", f"no contact {m!r} in [contacts]")
        if tid in contacts:
            raise r.fail(f"teams.{tid}", f"{tid!r} is a contact too: ids must be unique")
    return Directory(
        contacts=contacts,
        teams=teams,
        levels=_levels(r, contacts, teams),
        on_missed_ack=r.bool_("escalation.on_missed_ack", True),
        on_severity=r.bool_("escalation.on_severity", True),
        channels=_channels(r),
        audiences=_audiences(r),
        regulatory_categories=tuple(c.lower() for c in r.str_list("regulatory.categories")),
        regulatory_within=r.duration("regulatory.notify_within", "72h"),
    )


def _table(r: SettingsReader, key: str) -> dict[str, Any]:
    value = r.get(key, {}) or {}
    if not isinstance(value, dict):
        raise r.fail(key, "expected a table")
    return value


def _secret(r: SettingsReader, key: str, default_env: str | None = None) -> Secret | None:
    if r.get(key) is not None:
        raise r.fail(key, f"secrets never go in the settings file: use {key}_env or {key}_file")
    env, path = r.str_(f"{key}_env", default_env), r.str_(f"{key}_file")
    if not env and not path:
        return None
    return Secret(key, env, Path(path).expanduser() if path else None)


def _recipients(
    r: SettingsReader, section: str, hooks: set[str], *, team: bool
) -> dict[str, Recipient]:
    out = {}
    for rid, entry in _table(r, section).items():
        base = f"{section}.{rid}"
        if not isinstance(entry, dict):
            raise r.fail(base, "expected a table ([contacts.ID] with name, phone, email...)")
        allowed = set(CONTACT_KEYS) | {"pagerduty_key"}
        allowed -= {"roles"} if team else {"members"}
        unknown = sorted(set(entry) - allowed)
        if unknown:
            raise r.fail(f"{base}.{unknown[0]}", f"unknown key (use {', '.join(sorted(allowed))})")
        email = r.str_(f"{base}.email", "") or ""
        if email and not is_address(email):
            raise r.fail(f"{base}.email", f"not an e-mail address: {email!r}")
        roles = r.str_list(f"{base}.roles") if not team else ()
        for role in roles:
            if role.replace(" ", "_").lower() not in {x.value for x in Role}:
                names = ", ".join(x.value for x in Role)
                raise r.fail(f"{base}.roles", f"unknown role {role!r} (use {names})")
        hook = r.str_(f"{base}.webhook", "") or ""
        if hook and hook not in hooks:
            raise r.fail(f"{base}.webhook", f"no [[notify.destinations]] named {hook!r}")
        out[rid] = Recipient(
            id=rid,
            name=(r.str_(f"{base}.name", rid) or rid).strip(),
            roles=tuple(x.replace(" ", "_").lower() for x in roles),
            phone=(r.str_(f"{base}.phone", "") or "").strip(),
            email=email.strip(),
            pagerduty=_secret(r, f"{base}.pagerduty_key"),
            opsgenie=(r.str_(f"{base}.opsgenie", "") or "").strip(),
            webhook=hook,
            members=r.str_list(f"{base}.members") if team else (),
            team=team,
        )
    return out


def _levels(r: SettingsReader, contacts: dict, teams: dict) -> tuple[Level, ...]:
    out = []
    table = _table(r, "escalation.levels")
    for lid in table:
        if lid not in LEVEL_IDS:
            raise r.fail(f"escalation.levels.{lid}", f"unknown level (use {', '.join(LEVEL_IDS)})")
    for lid in LEVEL_IDS:
        if lid not in table:
            continue
        base = f"escalation.levels.{lid}"
        targets = r.str_list(f"{base}.targets")
        for t in targets:
            if t not in contacts and t not in teams:
                raise r.fail(f"{base}.targets", f"no contact or team {t!r}")
        sev = r.str_(f"{base}.severity")
        if sev is not None and sev.upper() not in {s.value for s in Severity}:
            raise r.fail(f"{base}.severity", f"unknown severity {sev!r} (use P0, P1, P2 or P3)")
        out.append(
            Level(
                id=lid,
                name=r.str_(f"{base}.name", lid) or lid,
                criteria=r.str_(f"{base}.criteria", "") or "",
                targets=targets,
                severity=Severity(sev.upper()) if sev else None,
            )
        )
    return tuple(out)


def _url(r: SettingsReader, key: str, default: str) -> str:
    value = r.str_(key, default) or default
    if problem := url_problem(value):
        raise r.fail(key, f"{problem}, got {value!r}")
    return value.rstrip("/")


def _channels(r: SettingsReader) -> Channels:
    security = r.str_("channels.smtp.security", "starttls") or "starttls"
    if security not in ("starttls", "ssl", "none"):
        raise r.fail("channels.smtp.security", "expected starttls, ssl or none")
    sender = r.str_("channels.smtp.from", "warroom@localhost") or "warroom@localhost"
    if not is_address(sender) and not sender.endswith("@localhost"):
        raise r.fail("channels.smtp.from", f"not an e-mail address: {sender!r}")
    port = r.whole("channels.smtp.port", 465 if security == "ssl" else 587)
    if port > 65535:
        raise r.fail("channels.smtp.port", f"expected a port number up to 65535, got {port}")
    return Channels(
        pagerduty_url=_url(r, "channels.pagerduty.url", PAGERDUTY_URL),
        pagerduty_timeout=r.number("channels.pagerduty.timeout", 10.0),
        opsgenie_url=_url(r, "channels.opsgenie.url", OPSGENIE_URL),
        opsgenie_key=_secret(r, "channels.opsgenie.api_key", "OPSGENIE_API_KEY"),
        opsgenie_timeout=r.number("channels.opsgenie.timeout", 10.0),
        smtp_host=r.str_("channels.smtp.host"),
        smtp_port=port,
        smtp_security=security,
        smtp_user=r.str_("channels.smtp.user"),
        smtp_password=_secret(r, "channels.smtp.password", "WARROOM_SMTP_PASSWORD"),
        smtp_from=sender,
        smtp_timeout=r.number("channels.smtp.timeout", 10.0),
    )


def _audiences(r: SettingsReader) -> tuple[Audience, ...]:
    out = []
    table = _table(r, "audiences")
    for aid in [TACTICAL, *(a for a in table if a != TACTICAL)]:
        base = f"audiences.{aid}"
        if not isinstance(table.get(aid, {}), dict):
            raise r.fail(base, "expected a table with title and every")
        every_raw = r.table(f"{base}.every")  # an inline table: errors point at its line
        every: dict[Severity, timedelta] | None = None
        if every_raw is not None:
            if not isinstance(every_raw, dict):
                raise r.fail(f"{base}.every", 'expected a table such as { P1 = "1h" }')
            every = {}
            for sev, value in every_raw.items():
                if sev not in {s.value for s in Severity}:
                    raise r.fail(f"{base}.every", f"{sev}: unknown severity (use P0, P1, P2, P3)")
                try:
                    every[Severity(sev)] = parse_duration(value)
                except ValueError as exc:
                    raise r.fail(f"{base}.every", f"{sev}: {exc}") from None
        title = r.str_(f"{base}.title", aid) or aid
        out.append(Audience(aid, title, every))
    return tuple(out)
