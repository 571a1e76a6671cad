from datetime import timedelta
from pathlib import Path

import pytest

from warroom.model import Severity, parse_duration
from warroom.settings import SettingsError, load_settings, toml_line


def test_shipped_defaults_carry_the_seed_slas(tmp_path: Path) -> None:
    s = load_settings(env={"USER": "ann"}, data_dir=tmp_path)
    p0 = s.policy(Severity.P0)
    assert p0.respond_within == timedelta(minutes=15)
    assert p0.update_every == timedelta(minutes=30)
    assert p0.resolve_within == timedelta(hours=4)
    assert s.policy("P1").respond_within == timedelta(hours=1)
    assert s.policy("P2").respond_within == timedelta(hours=4)
    assert s.policy("P3").resolve_within == timedelta(hours=72)
    assert s.actor == "ann"
    assert s.data_dir == tmp_path


def test_file_overrides_defaults_and_env_overrides_file(tmp_path: Path) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text('actor = "bob"\n[severity.P1]\nupdate_every = "20m"\n')
    s = load_settings(cfg, env={"WARROOM_DATA_DIR": str(tmp_path / "d")})
    assert s.actor == "bob"
    assert s.policy("P1").update_every == timedelta(minutes=20)
    assert s.policy("P1").respond_within == timedelta(hours=1)  # untouched default
    assert s.data_dir == tmp_path / "d"
    s2 = load_settings(cfg, actor="carol", env={})
    assert s2.actor == "carol"


def test_config_from_environment_variable(tmp_path: Path) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text('[prometheus]\nurl = "http://127.0.0.1:9"\n')
    s = load_settings(env={"WARROOM_CONFIG": str(cfg), "USER": "x"})
    assert s.prometheus.url == "http://127.0.0.1:9"
    assert s.source == str(cfg)


def test_prometheus_url_from_env(tmp_path: Path) -> None:
    s = load_settings(env={"PROMETHEUS_URL": "http://127.0.0.1:1", "USER": "x"})
    assert s.prometheus.url == "http://127.0.0.1:1"


def test_broken_toml_names_file_and_line(tmp_path: Path) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text('[ui]\nbell = false\n\n[severity.P0\nname = "x"\n')
    with pytest.raises(SettingsError) as err:
        load_settings(cfg, env={})
    msg = str(err.value)
    assert msg.startswith(f"{cfg}: line 4")


def test_bad_value_names_file_key_and_line(tmp_path: Path) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text('# mine\n\n[severity.P1]\nname = "high"\nupdate_every = "soon"\n')
    with pytest.raises(SettingsError) as err:
        load_settings(cfg, env={})
    assert str(err.value).startswith(f"{cfg}:5: severity.P1.update_every: not a duration")


def test_wrong_type_and_unknown_severity(tmp_path: Path) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text("[ui]\nbell = 3\n")
    with pytest.raises(SettingsError, match=r":2: ui.bell: expected true or false"):
        load_settings(cfg, env={})
    cfg.write_text('[severity.P9]\nname = "x"\n')
    with pytest.raises(SettingsError, match=r":1: severity.P9: unknown severity"):
        load_settings(cfg, env={})


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="settings file not found"):
        load_settings(tmp_path / "nope.toml", env={})


def test_toml_line_finds_array_of_tables() -> None:
    text = "[[health.checks]]\nname='a'\n\n[[health.checks]]\nname = 'b'\nquery = 'up'\n"
    assert toml_line(text, "health.checks[1].query") == 6
    assert toml_line(text, "health.checks[0].name") == 2


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("15m", 900), ("1h30m", 5400), ("2d", 172800), (30, 30), ("1.5h", 5400)],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "soon", "5", "m5", "-3m", True])
def test_parse_duration_rejects(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)  # type: ignore[arg-type]


def test_evidence_limits_come_from_the_file(tmp_path: Path) -> None:
    from warroom.actions.evidence import EvidenceLimits

    default = load_settings(env={"USER": "x"}, data_dir=tmp_path).evidence
    assert EvidenceLimits.from_settings(default) == EvidenceLimits()  # one set of defaults
    cfg = tmp_path / "w.toml"
    cfg.write_text(
        '[evidence]\nmax_log_lines = 200\nmax_log_bytes = "512KiB"\nmax_pods = 3\n'
        'request_timeout = 7.5\nmetric_window = "10m"\n'
    )
    limits = EvidenceLimits.from_settings(load_settings(cfg, env={"USER": "x"}).evidence)
    assert limits == EvidenceLimits(
        max_log_lines=200,
        max_log_bytes=512 * 1024,
        max_pods=3,
        request_timeout=7.5,
        metric_minutes=10.0,
    )
    cfg.write_text("[evidence]\nmax_log_bytes = 2000000\n")
    assert load_settings(cfg, env={"USER": "x"}).evidence.max_log_bytes == 2_000_000
    cfg.write_text('[evidence]\nmax_log_bytes = "2MB"\n')
    assert load_settings(cfg, env={"USER": "x"}).evidence.max_log_bytes == 2_000_000


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ('max_log_bytes = "lots"', "evidence.max_log_bytes"),
        ("max_log_lines = 0", "evidence.max_log_lines"),
        ("max_pods = 2.5", "evidence.max_pods"),
        ('metric_window = "soon"', "evidence.metric_window"),
    ],
)
def test_bad_evidence_limits_name_file_key_and_line(tmp_path: Path, body: str, key: str) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text(f"[ui]\nbell = false\n\n[evidence]\n{body}\n")
    with pytest.raises(SettingsError) as err:
        load_settings(cfg, env={"USER": "x"})
    assert str(err.value).startswith(f"{cfg}:5: {key}: ")


def test_ticket_trackers_and_review_windows(tmp_path: Path) -> None:
    cfg = tmp_path / "w.toml"
    token = tmp_path / "jira.token"
    token.write_text("jira-secret\n")
    cfg.write_text(
        '[tickets.github]\nproject = "acme/shop"\n\n'
        f'[tickets.jira]\nurl = "https://jira.example/"\nproject = "OPS"\ntoken_file = "{token}"\n'
        'user = "ann@example.com"\nlabels = ["incident"]\n\n[severity.P2]\nreview_within = "5d"\n'
    )
    s = load_settings(cfg, env={"USER": "ann"})
    gh, jira = s.trackers["github"], s.trackers["jira"]
    assert (gh.url, gh.project, gh.token_env) == (
        "https://api.github.com",
        "acme/shop",
        "GITHUB_TOKEN",
    )
    assert (jira.url, jira.user, jira.labels) == (
        "https://jira.example",
        "ann@example.com",
        ("incident",),
    )
    assert s.tracker_token("jira") == "jira-secret"
    assert s.tracker_token("github", env={"GITHUB_TOKEN": " gh-secret "}) == "gh-secret"
    with pytest.raises(SettingsError, match=r"w.toml:1: tickets.github.token_env: \$GITHUB_TOKEN"):
        s.tracker_token("github", env={})
    assert "jira-secret" not in repr(s.trackers)
    reviews = {sev.value: s.policy(sev).review_within for sev in s.severities}
    assert reviews == {
        "P0": timedelta(hours=24),
        "P1": timedelta(hours=72),
        "P2": timedelta(days=5),
        "P3": timedelta(days=7),
    }


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('[tickets.trello]\nproject = "x"\n', ":1: tickets.trello: unknown tracker"),
        (
            '[tickets.github]\nproject = "a/b"\ntoken = "x"\n',
            ":3: tickets.github.token: unknown key",
        ),
        (
            '[tickets.github]\nurl = "ftp://x"\nproject = "a/b"\n',
            ":2: tickets.github.url: expected",
        ),
        ('[tickets.gitlab]\nurl = "https://gl.example"\n', ":1: tickets.gitlab.project: missing"),
        ('[tickets.jira]\nproject = "OPS"\n', ":1: tickets.jira.url: missing"),
    ],
)
def test_bad_trackers_name_file_key_and_line(tmp_path: Path, body: str, where: str) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text(body)
    with pytest.raises(SettingsError) as err:
        load_settings(cfg, env={"USER": "ann"})
    assert str(err.value).startswith(str(cfg)) and where in str(err.value), str(err.value)


def test_missing_token_file_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text('[tickets.gitlab]\nproject = "a/b"\ntoken_file = "/nonexistent/token"\n')
    s = load_settings(cfg, env={"USER": "ann"})
    with pytest.raises(SettingsError, match=r":3: tickets.gitlab.token_file: cannot read"):
        s.tracker_token("gitlab", env={"GITLAB_TOKEN": "ignored: the file is named"})
