"""Where action items become tickets, as configured: [tickets.github], [tickets.gitlab] and
[tickets.jira] parsed into Trackers. Pure data and parsing; the HTTP side is
actions/tickets.py.

    [tickets.github]
    project = "acme/shop"            # owner/repo
    token_env = "GITHUB_TOKEN"       # the default; or token_file = "~/.config/warroom/gh"

    [tickets.jira]
    url = "https://acme.atlassian.net"
    project = "OPS"                  # project key
    user = "ann@acme.example"        # Jira Cloud: basic auth user:token; without it, a bearer
    issue_type = "Task"

Tokens are secrets: never in the settings file itself, only named there (a variable or a file),
and read when a ticket is filed, so a missing token breaks only `warroom action export`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from warroom.destinations import Secret, SecretError, SettingsReader, url_problem

# API base URL and token variable of each tracker, unless the settings say otherwise.
DEFAULTS: dict[str, tuple[str | None, str]] = {
    "github": ("https://api.github.com", "GITHUB_TOKEN"),
    "gitlab": ("https://gitlab.com", "GITLAB_TOKEN"),
    "jira": (None, "JIRA_API_TOKEN"),
}
KEYS = ("url", "project", "token_env", "token_file", "user", "issue_type", "labels", "timeout")


class TrackerConfigError(ValueError):
    """A tracker cannot be used as configured; `key` is dotted, for the settings' line."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}")
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class Tracker:
    name: str  # github | gitlab | jira
    url: str  # API base, no trailing slash
    project: str  # github: owner/repo; gitlab: group/project or its id; jira: project key
    token_env: str | None = None
    token_file: Path | None = field(default=None, repr=False)
    user: str | None = None
    issue_type: str = "Task"
    labels: tuple[str, ...] = ()
    timeout: float = 10.0

    def token(self, env: dict[str, str]) -> str:
        """Read the token now: from token_file if set, else from the token_env variable."""
        try:
            return Secret(f"tickets.{self.name}.token", self.token_env, self.token_file).read(env)
        except SecretError as exc:
            raise TrackerConfigError(exc.key, exc.problem) from None


def parse_trackers(r: SettingsReader) -> dict[str, Tracker]:
    raw = r.get("tickets", {}) or {}
    if not isinstance(raw, dict):
        raise r.fail(
            "tickets", "expected tables [tickets.github], [tickets.gitlab], [tickets.jira]"
        )
    out: dict[str, Tracker] = {}
    for name, entry in raw.items():
        base = f"tickets.{name}"
        if name not in DEFAULTS:
            raise r.fail(base, f"unknown tracker (use {', '.join(DEFAULTS)})")
        if not isinstance(entry, dict):
            raise r.fail(base, "expected a table")
        unknown = sorted(set(entry) - set(KEYS))
        if unknown:
            raise r.fail(f"{base}.{unknown[0]}", f"unknown key (use {', '.join(KEYS)})")
        default_url, default_env = DEFAULTS[name]
        url = (r.str_(f"{base}.url") or default_url or "").rstrip("/")
        if not url:
            raise r.fail(f"{base}.url", "missing (the tracker's base URL)")
        if problem := url_problem(url):
            raise r.fail(f"{base}.url", problem)
        project = (r.str_(f"{base}.project") or "").strip()
        if not project:
            raise r.fail(f"{base}.project", "missing (owner/repo, group/project or a Jira key)")
        token_file = r.str_(f"{base}.token_file")
        out[name] = Tracker(
            name=name,
            url=url,
            project=project,
            token_env=r.str_(f"{base}.token_env") or default_env,
            token_file=Path(token_file).expanduser() if token_file else None,
            user=r.str_(f"{base}.user"),
            issue_type=r.str_(f"{base}.issue_type") or "Task",
            labels=r.str_list(f"{base}.labels"),
            timeout=r.number(f"{base}.timeout", 10.0),
        )
    return out
