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
