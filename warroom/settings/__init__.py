"""Settings: shipped defaults, then a TOML file, then WARROOM_* variables, then CLI flags.

The file is found as Harlequin does: --config, else $WARROOM_CONFIG, else warroom.toml in the
user config dir (platformdirs). Every validation error names the file, the key and its line, so
a commander who broke the config at 3 a.m. sees one line, not a traceback.
"""

from __future__ import annotations

import getpass
import os
import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from platformdirs import user_config_path, user_data_path

from warroom.checks import HealthConfig, HealthConfigError, parse_health
from warroom.destinations import (
    Destination,
    NotifyConfigError,
    parse_destinations,
)
from warroom.model import Severity, SeverityPolicy
from warroom.paging import Directory, parse_directory
from warroom.sanitize import one_line
from warroom.settings.reader import (
    PREFIX,
    Reader,
    SettingsError,
    env_bool,
    error,
    refuse_unknown,
)
from warroom.settings.signing import SigningSettings, parse_signing
from warroom.tomlfile import deep_merge, toml_error_line, toml_line
from warroom.trackers import Tracker, TrackerConfigError, parse_trackers

APP_NAME = "warroom"
DEFAULTS_NAME = "<shipped defaults>"
# Upper bounds: a typo'd extra digit is refused at start, not met as an API server 400 (or a
# bundle that fills the disk) in the middle of an incident.
MAX_LOG_LINES = 1_000_000
MAX_LOG_BYTES = 1024**3
MAX_PODS = 1000


@dataclass(frozen=True)
class PrometheusSettings:
    url: str | None = None
    bearer_token: str | None = None
    basic_auth: tuple[str, str] | None = None
    verify_tls: bool = True
    timeout: float = 5.0
    refresh: timedelta = timedelta(seconds=15)


@dataclass(frozen=True)
class AlertmanagerSettings:
    url: str | None = None
    bearer_token: str | None = None
    timeout: float = 5.0
    refresh: timedelta = timedelta(seconds=15)
    # An alert gone after Alertmanager restarted is held this long for Prometheus to send it
    # again (its resend delay is 1m by default) before it counts as resolved.
    restart_grace: timedelta = timedelta(minutes=2)


@dataclass(frozen=True)
class KubeSettings:
    enabled: bool = True
    kubeconfig: str | None = None
    context: str | None = None
    namespaces: tuple[str, ...] = ()  # empty: the context's namespace; ("*",): all namespaces
    mutate_namespaces: tuple[str, ...] = ()  # allow-list for every change; empty: any watched
    read_only_contexts: tuple[str, ...] = ()
    log_lines: int = 500
    # How long an action is watched before its outcome is written: a delete that has not
    # shown after this did nothing; a rollout not complete by then is "pending".
    verify_delete: timedelta = timedelta(seconds=20)
    verify_rollout: timedelta = timedelta(seconds=90)
    # A drain gives up on pods a disruption budget keeps refusing (or that never go) after this.
    drain_timeout: timedelta = timedelta(minutes=2)


@dataclass(frozen=True)
class EvidenceSettings:
    """[evidence]: bounds of one bundle. Logs are capped per file so a chatty pod cannot fill
    the disk or the collector's memory in the middle of an incident."""

    max_log_lines: int = 5000
    max_log_bytes: int = 5 * 1024 * 1024
    max_pods: int = 20
    request_timeout: float = 60.0
    metric_window: timedelta = timedelta(minutes=30)
    ssh_config: Path | None = None  # `-F` for scp/ssh of `warroom evidence copy` to a host


@dataclass(frozen=True)
class StoreSettings:
    """[store]: where incidents live. The DSN (it carries a password) is read from the
    environment variable named by dsn_env, or from dsn_file; never from the settings file."""

    backend: str = "tinydb"  # or "postgres"
    dsn: str | None = None
    spool_dir: Path | None = None  # postgres: local journal while the database is away


@dataclass(frozen=True)
class ServeSettings:
    """[serve]: the read-only web page for stakeholders (`warroom serve`)."""

    host: str = "127.0.0.1"
    port: int = 8040
    token: str | None = None  # $WARROOM_SERVE_TOKEN or serve.token_file


@dataclass(frozen=True)
class Settings:
    source: str  # the file that was read, or DEFAULTS_NAME
    data_dir: Path
    actor: str
    severities: dict[Severity, SeverityPolicy]
    id_prefix: str = "INC"
    categories: tuple[str, ...] = ("application",)
    read_only: bool = False
    warn_before: timedelta = timedelta(minutes=5)
    bell: bool = False
    lost_after: timedelta = timedelta(seconds=10)  # a source failing this long is "lost"
    keymap: dict[str, str] = field(default_factory=dict)
    prometheus: PrometheusSettings = field(default_factory=PrometheusSettings)
    alertmanager: AlertmanagerSettings = field(default_factory=AlertmanagerSettings)
    kube: KubeSettings = field(default_factory=KubeSettings)
    evidence: EvidenceSettings = field(default_factory=EvidenceSettings)
    playbooks_dir: Path | None = None
    templates_dir: Path | None = None
    health: HealthConfig = field(default_factory=HealthConfig)
    destinations: tuple[Destination, ...] = ()
    store: StoreSettings = field(default_factory=StoreSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    trackers: dict[str, Tracker] = field(default_factory=dict)  # [tickets.*]
    signing: SigningSettings = field(default_factory=SigningSettings)  # [signing]
    # Contacts, teams, escalation levels, paging channels, audiences, regulatory clock.
    paging: Directory = field(default_factory=Directory)
    raw: dict[str, Any] = field(default_factory=dict)  # the merged TOML, as read

    def policy(self, severity: Severity | str) -> SeverityPolicy:
        return self.severities[Severity(severity)]

    @property
    def incidents_dir(self) -> Path:
        return self.data_dir / "incidents"

    def line_of(self, dotted_key: str) -> int | None:
        """Line of a key in the settings file, for errors raised by other modules."""
        if self.source == DEFAULTS_NAME:
            return None
        try:
            return toml_line(Path(self.source).read_text(encoding="utf-8"), dotted_key)
        except OSError:
            return None

    def error(self, dotted_key: str, problem: str) -> SettingsError:
        return error(self.source, self.line_of(dotted_key), dotted_key, problem)

    def tracker_token(self, name: str, env: dict[str, str] | None = None) -> str:
        """The tracker's token, read now; SettingsError naming the key and line if missing."""
        try:
            return self.trackers[name].token(dict(os.environ if env is None else env))
        except TrackerConfigError as exc:
            raise self.error(exc.key, exc.problem) from None


def default_config_path() -> Path:
    return user_config_path(APP_NAME) / "warroom.toml"


def default_data_dir() -> Path:
    return user_data_path(APP_NAME)


def shipped_defaults_text() -> str:
    return resources.files("warroom.config").joinpath("warroom.toml").read_text(encoding="utf-8")


def load_settings(
    config: str | Path | None = None,
    *,
    data_dir: str | Path | None = None,
    actor: str | None = None,
    read_only: bool | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    """Defaults < file < environment < arguments. Raises SettingsError with file, key and line."""
    env = dict(os.environ if env is None else env)
    merged = tomllib.loads(shipped_defaults_text())

    path: Path | None = None
    if config is not None:
        path = Path(config)
        if not path.is_file():
            raise SettingsError(f"{path}: settings file not found")
    elif env.get("WARROOM_CONFIG"):
        path = Path(env["WARROOM_CONFIG"])
        if not path.is_file():
            raise SettingsError(f"{path}: settings file not found (from $WARROOM_CONFIG)")
    elif default_config_path().is_file():
        path = default_config_path()

    text = ""
    source = DEFAULTS_NAME
    user: dict[str, Any] = {}
    if path is not None:
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
            user = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: {toml_error_line(exc)}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{path}: cannot read settings: {exc}") from None
        merged = deep_merge(merged, user)

    _apply_env(merged, env)
    return _build(
        merged,
        source,
        text,
        user=user,
        data_dir=data_dir,
        actor=actor,
        read_only=read_only,
        env=env,
    )


_ENV_MAP = {
    "WARROOM_DATA_DIR": ("data_dir",),
    "WARROOM_ACTOR": ("actor",),
    "WARROOM_READ_ONLY": ("read_only",),
    "PROMETHEUS_URL": ("prometheus", "url"),
    "WARROOM_PROMETHEUS_URL": ("prometheus", "url"),
    "WARROOM_PROMETHEUS_TOKEN": ("prometheus", "bearer_token"),
    "WARROOM_ALERTMANAGER_URL": ("alertmanager", "url"),
    "ALERTMANAGER_URL": ("alertmanager", "url"),
    "WARROOM_KUBE_CONTEXT": ("kube", "context"),
}


def _apply_env(merged: dict[str, Any], env: dict[str, str]) -> None:
    # Specific names win over generic ones: WARROOM_PROMETHEUS_URL over PROMETHEUS_URL.
    for name in sorted(_ENV_MAP, key=lambda n: n.startswith("WARROOM_")):
        if env.get(name):
            node = merged
            *parents, leaf = _ENV_MAP[name]
            for p in parents:
                node = node.setdefault(p, {})
            value: Any = env[name]
            if leaf == "read_only":
                value = env_bool(name, value)
            node[leaf] = value


def _build(
    data: dict[str, Any],
    source: str,
    text: str,
    *,
    user: dict[str, Any],
    data_dir: str | Path | None,
    actor: str | None,
    read_only: bool | None,
    env: dict[str, str],
) -> Settings:
    r = Reader(data, source, text)

    severities: dict[Severity, SeverityPolicy] = {}
    for sev in Severity:
        base = f"severity.{sev.value}"
        severities[sev] = SeverityPolicy(
            severity=sev,
            name=r.str_(f"{base}.name", sev.value) or sev.value,
            respond_within=r.duration(f"{base}.respond_within"),
            update_every=r.duration(f"{base}.update_every"),
            escalate_after=r.duration(f"{base}.escalate_after"),
            resolve_within=r.duration(f"{base}.resolve_within"),
            notify=r.str_(f"{base}.notify", "") or "",
            review_within=r.duration(f"{base}.review_within", "7d"),
            criteria=r.str_(f"{base}.criteria", "") or "",
        )
    unknown = set(data.get("severity") or {}) - {s.value for s in Severity}
    if unknown:
        key = f"severity.{sorted(unknown)[0]}"
        raise r.fail(key, "unknown severity (use P0, P1, P2 or P3)")

    keymap = r.table("keymap") or {}
    if not isinstance(keymap, dict) or not all(isinstance(v, str) for v in keymap.values()):
        raise r.fail("keymap", 'expected binding-id = "key" pairs')

    basic_user = r.str_("prometheus.basic_auth_user")
    basic_pass = r.str_("prometheus.basic_auth_password")
    prometheus = PrometheusSettings(
        url=r.url("prometheus.url"),
        bearer_token=r.str_("prometheus.bearer_token"),
        basic_auth=(basic_user, basic_pass or "") if basic_user else None,
        verify_tls=r.bool_("prometheus.verify_tls", True),
        timeout=r.number("prometheus.timeout", 5.0),
        refresh=r.duration("prometheus.refresh", "15s"),
    )
    alertmanager = AlertmanagerSettings(
        url=r.url("alertmanager.url"),
        bearer_token=r.str_("alertmanager.bearer_token"),
        timeout=r.number("alertmanager.timeout", 5.0),
        refresh=r.duration("alertmanager.refresh", "15s"),
        restart_grace=r.duration("alertmanager.restart_grace", "2m"),
    )
    log_lines = r.whole("kube.log_lines", 500, at_most=MAX_LOG_LINES)
    kube = KubeSettings(
        enabled=r.bool_("kube.enabled", True),
        kubeconfig=r.str_("kube.kubeconfig"),
        context=r.str_("kube.context"),
        namespaces=r.str_list("kube.namespaces"),
        mutate_namespaces=r.str_list("kube.mutate_namespaces"),
        read_only_contexts=r.str_list("kube.read_only_contexts"),
        log_lines=log_lines,
        verify_delete=r.duration("kube.verify_delete", "20s"),
        verify_rollout=r.duration("kube.verify_rollout", "90s"),
        drain_timeout=r.duration("kube.drain_timeout", "2m"),
    )

    evidence = EvidenceSettings(
        max_log_lines=r.whole("evidence.max_log_lines", 5000, at_most=MAX_LOG_LINES),
        max_log_bytes=r.size("evidence.max_log_bytes", 5 * 1024 * 1024, at_most=MAX_LOG_BYTES),
        max_pods=r.whole("evidence.max_pods", 20, at_most=MAX_PODS),
        request_timeout=r.number("evidence.request_timeout", 60.0),
        metric_window=r.duration("evidence.metric_window", "30m"),
        ssh_config=Path(cfg).expanduser() if (cfg := r.str_("evidence.ssh_config")) else None,
    )

    def opt_path(key: str) -> Path | None:
        value = r.str_(key)
        return Path(value).expanduser() if value else None

    try:
        health = parse_health(r.table("health"), source)
    except HealthConfigError as exc:
        raise r.fail(exc.key, exc.problem) from None
    try:
        notify = r.table("notify") or {}
        destinations = parse_destinations(
            notify.get("destinations") if isinstance(notify, dict) else notify,
            source,
            line_of=lambda key: toml_line(text, key) if text else None,
        )
    except NotifyConfigError as exc:
        raise SettingsError(str(exc)) from None

    store, serve = _store_and_serve(r, env)
    paging = parse_directory(r, {d.name for d in destinations})
    # Read whether or not a flag overrides them: they are valid keys of the file either way.
    file_dir, file_actor, file_ro = r.str_("data_dir"), r.str_("actor"), r.bool_("read_only", False)
    resolved_dir = data_dir or file_dir
    folder = Path(resolved_dir).expanduser() if resolved_dir else None
    if folder is not None and folder.exists() and not folder.is_dir():
        raise r.fail("data_dir", f"{resolved_dir} is a file, not a directory")
    id_prefix = r.str_("incident.id_prefix", "INC") or "INC"
    if not PREFIX.fullmatch(id_prefix):
        raise r.fail(
            "incident.id_prefix",
            f"expected letters, digits, '-' or '_' (up to 20, a letter first), got {id_prefix!r}",
        )
    resolved_actor = actor or file_actor or _default_actor(env)
    if not resolved_actor.strip():
        raise r.fail("actor", "must not be empty")
    if one_line(resolved_actor) != resolved_actor:  # who did what is on every record
        raise r.fail("actor", f"control or invisible characters in {one_line(resolved_actor)!r}")
    settings = Settings(
        source=source,
        data_dir=Path(resolved_dir).expanduser() if resolved_dir else default_data_dir(),
        actor=resolved_actor.strip(),
        severities=severities,
        id_prefix=id_prefix,
        categories=r.str_list("incident.categories") or ("application",),
        read_only=read_only if read_only is not None else file_ro,
        warn_before=r.duration("ui.warn_before", "5m"),
        bell=r.bool_("ui.bell", False),
        lost_after=r.duration("ui.lost_after", "10s"),
        keymap=dict(keymap),
        prometheus=prometheus,
        alertmanager=alertmanager,
        kube=kube,
        evidence=evidence,
        playbooks_dir=opt_path("incident.playbooks_dir"),
        templates_dir=opt_path("templates_dir"),
        health=health,
        destinations=paging.with_smtp(destinations),
        store=store,
        serve=serve,
        trackers=parse_trackers(r),
        signing=parse_signing(r, env, {d.name for d in destinations}),
        paging=paging,
        raw=data,
    )
    known = {a.id for a in settings.paging.audiences}
    for i, d in enumerate(destinations):
        if d.audience and d.audience not in known:
            key = f"notify.destinations[{i}].audience"
            raise r.fail(key, f"unknown audience {d.audience!r} (use {', '.join(sorted(known))})")
    refuse_unknown(user, r)
    return settings


BACKENDS = ("tinydb", "postgres")


def _secret(
    r: Reader, env: dict[str, str], env_key: str, default_env: str, file_key: str
) -> str | None:
    """A secret from the environment variable named at env_key, else from the file named at
    file_key (first line); None when neither is set."""
    name = r.str_(env_key, default_env) or default_env
    path = r.str_(file_key)  # read either way: a valid key of the file even when unused
    if env.get(name, "").strip():
        return env[name].strip()
    if not path:
        return None
    try:
        lines = Path(path).expanduser().read_text(encoding="utf-8").strip().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise r.fail(file_key, f"cannot read {path}: {exc}") from None
    if not lines or not lines[0].strip():
        raise r.fail(file_key, f"{path} is empty")
    return lines[0].strip()


def _store_and_serve(r: Reader, env: dict[str, str]) -> tuple[StoreSettings, ServeSettings]:
    for key in ("store.dsn", "serve.token"):
        if r.get(key) is not None:
            raise r.fail(
                key,
                "secrets never go in the settings file: use the environment "
                f"variable ({key}_env) or a file ({key}_file)",
            )
    in_file = r.str_("store.backend", "tinydb") or "tinydb"
    backend = env.get("WARROOM_STORE_BACKEND") or in_file
    if backend not in BACKENDS:
        raise r.fail("store.backend", f"unknown backend {backend!r}: use tinydb or postgres")
    dsn = _secret(r, env, "store.dsn_env", "WARROOM_PG_DSN", "store.dsn_file")
    if backend == "postgres" and not dsn:
        name = r.str_("store.dsn_env", "WARROOM_PG_DSN")
        raise r.fail("store.backend", f"postgres needs a DSN: set ${name} or store.dsn_file")
    spool = r.str_("store.spool_dir")
    port = r.whole("serve.port", 8040)
    if port > 65535:
        raise r.fail("serve.port", f"expected a port number up to 65535, got {port}")
    serve = ServeSettings(
        host=r.str_("serve.host", "127.0.0.1") or "127.0.0.1",
        port=port,
        token=_secret(r, env, "serve.token_env", "WARROOM_SERVE_TOKEN", "serve.token_file"),
    )
    store = StoreSettings(backend, dsn, Path(spool).expanduser() if spool else None)
    return store, serve


def _default_actor(env: dict[str, str]) -> str:
    for name in ("USER", "LOGNAME"):
        if env.get(name):
            return env[name]
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "responder"
