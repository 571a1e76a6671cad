"""What every entry point needs before it does anything: settings with the command line's
overrides, logging, the repository, the incident to open, and the one read-only decision.

The CLI verbs, `warroom` (the console) and `warroom drill` all start here, so a setting means
the same thing whichever way warroom was started.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from typing import Any

from warroom.errors import UsageError, WarroomError
from warroom.room import WarRoom
from warroom.settings import Settings, SettingsError, load_settings
from warroom.store import (
    IncidentNotFound,
    IncidentRepository,
    IncidentStore,
    StoreError,
)
from warroom.store import open_repository as _open_repository
from warroom.store.private import private_dir, private_file

log = logging.getLogger("warroom")


def settings_from(args: Any) -> Settings:
    """Settings for parsed command-line arguments: --config, --data-dir, --as, --read-only,
    --kubeconfig, --context and --namespace win over the file and the environment."""
    try:
        settings = load_settings(
            getattr(args, "config", None),
            data_dir=getattr(args, "data_dir", None),
            actor=getattr(args, "actor", None),
            read_only=True if getattr(args, "read_only", False) else None,
        )
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    return with_kube_overrides(settings, args)


def with_kube_overrides(settings: Settings, args: Any) -> Settings:
    kube = settings.kube
    changes: dict[str, Any] = {}
    if getattr(args, "kubeconfig", None):
        changes["kubeconfig"] = args.kubeconfig
    if getattr(args, "context", None):
        changes["context"] = args.context
    if getattr(args, "namespace", None):
        changes["namespaces"] = tuple(args.namespace)
    if not changes:
        return settings
    return dataclasses.replace(settings, kube=dataclasses.replace(kube, **changes))


def own_secrets(settings: Settings) -> list[str]:
    """warroom's own credentials that can be read now (tokens, webhook URLs, routing and API
    keys, the SMTP password): redacted wherever they turn up (logs, evidence, exports)."""
    found = [settings.prometheus.bearer_token, settings.alertmanager.bearer_token]
    if settings.prometheus.basic_auth:
        found.append(settings.prometheus.basic_auth[1])
    for d in settings.destinations:
        found.append(d.url)
        found.extend(d.headers.values())
        found.append(d.secret.peek() if d.secret else None)
    found.extend(secret.peek() for secret in settings.paging.secrets())
    return [x for x in found if x]


class RedactingFormatter(logging.Formatter):
    """Every line of warroom.log (message and traceback) through the redactor, our own secrets
    (`own_secrets`) first: a library that logs a request, or an error quoting a log line, must
    not write a credential to disk."""

    def __init__(self, fmt: str, secrets: list[str]) -> None:
        super().__init__(fmt)
        self.secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        from warroom.actions.redact import hide, scrub

        return scrub(hide(super().format(record), self.secrets))


def setup_logging(settings: Settings) -> None:
    """warroom.log in the data dir (0700; the log 0600); WARROOM_LOG_LEVEL (default INFO)."""
    level = os.environ.get("WARROOM_LOG_LEVEL", "INFO").upper()
    private_dir(settings.data_dir)
    path = private_file(settings.data_dir / "warroom.log")
    handler = logging.FileHandler(path, encoding="utf-8")
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler.setFormatter(RedactingFormatter(fmt, own_secrets(settings)))
    log.addHandler(handler)
    log.setLevel(getattr(logging, level, logging.INFO))


def repository(settings: Settings, backend: str | None = None) -> IncidentRepository:
    """The incidents of the configured store (or of `backend`, for `warroom store copy`)."""
    st = settings.store
    backend = backend or st.backend
    if settings.data_dir.is_dir():  # made 0755 by an older warroom: tightened, said once
        private_dir(settings.data_dir)
    if backend == "postgres" and not st.dsn:
        raise UsageError("postgres needs a DSN: set $WARROOM_PG_DSN or store.dsn_file")
    try:
        return _open_repository(settings.data_dir, backend, st.dsn, st.spool_dir)
    except StoreError as exc:
        raise WarroomError(str(exc)) from None


def open_store(
    settings: Settings,
    incident_id: str,
    read_only: bool = False,
    repo: IncidentRepository | None = None,
) -> IncidentStore:
    """The incident's store, or one clear WarroomError for an unknown, unsafe or damaged id."""
    try:
        return (repo or repository(settings)).open(incident_id, read_only=read_only)
    except IncidentNotFound:
        where = settings.incidents_dir if settings.store.backend == "tinydb" else "the database"
        raise WarroomError(f"no incident {incident_id!r} in {where}") from None
    except StoreError as exc:  # damaged, or the database unreachable
        raise WarroomError(str(exc)) from None
    except ValueError as exc:  # the store's message names the id and the rule
        raise WarroomError(str(exc)) from None


def open_room(
    settings: Settings, incident_id: str | None, repo: IncidentRepository | None = None
) -> WarRoom | None:
    """The named incident, else the newest open one, else None."""
    repo = repo or repository(settings)
    incident_id = incident_id or repo.newest_open()
    if not incident_id:
        return None
    return WarRoom(open_store(settings, incident_id, repo=repo), settings)


def scrubber(settings: Settings) -> Callable[[str], str]:
    """What leaves the store for a reader (exports, stats): our own secrets (any length)
    hidden, then the redactor's patterns."""
    from warroom.actions.redact import hide, scrub

    secrets = own_secrets(settings)
    return lambda text: scrub(hide(text, secrets))


def export_context(settings: Settings, store: IncidentStore) -> dict[str, Any]:
    """What the post-mortem needs beyond the events: where each update went (the outbox's
    documents) and the severity's review window."""
    from warroom.actions.outbox import TABLE as OUTBOX
    from warroom.projection import project

    return {
        "deliveries": list(store.docs(OUTBOX).values()),
        "review_within": settings.policy(project(store.events()).severity).review_within,
        "scrub": scrubber(settings),
    }


def read_only_for(settings: Settings, context: str | None) -> bool:
    """Read-only: asked for (--read-only, settings), or the cluster context in use is listed in
    kube.read_only_contexts. `context` is the one actually in use (the kubeconfig's current
    context when settings name none), so what is shown and what is refused agree."""
    if settings.read_only:
        return True
    return bool(context) and context in settings.kube.read_only_contexts


def kube_context(settings: Settings) -> str | None:
    """The context the console will use: the configured one, else the kubeconfig's current
    one (read with PyYAML, no client import); None without a usable kubeconfig."""
    if not settings.kube.enabled:
        return settings.kube.context
    from warroom.sources.kubeconfig import KubeConfigError, resolve_target

    try:
        return resolve_target(settings.kube.kubeconfig, settings.kube.context).context
    except (KubeConfigError, OSError):
        return settings.kube.context
