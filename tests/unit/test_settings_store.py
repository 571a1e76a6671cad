"""[store] and [serve]: the backend, where the DSN and the token come from (never the settings
file itself), and one clear line, with file and line, for each mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from warroom.settings import SettingsError, load_settings


def load(tmp_path: Path, text: str, **env: str):  # type: ignore[no-untyped-def]
    cfg = tmp_path / "warroom.toml"
    cfg.write_text(text)
    return load_settings(cfg, env={"USER": "ann", **env}, data_dir=tmp_path)


def test_defaults_are_tinydb_and_loopback(tmp_path: Path) -> None:
    s = load(tmp_path, "")
    assert (s.store.backend, s.store.dsn, s.store.spool_dir) == ("tinydb", None, None)
    assert (s.serve.host, s.serve.port, s.serve.token) == ("127.0.0.1", 8040, None)


def test_postgres_dsn_from_the_environment_or_a_file(tmp_path: Path) -> None:
    s = load(tmp_path, '[store]\nbackend = "postgres"\n', WARROOM_PG_DSN="host=db dbname=w")
    assert (s.store.backend, s.store.dsn) == ("postgres", "host=db dbname=w")
    s = load(tmp_path, '[store]\nbackend = "postgres"\ndsn_env = "TEAM_DSN"\n', TEAM_DSN="x=1")
    assert s.store.dsn == "x=1"
    secret = tmp_path / "pg.dsn"
    secret.write_text("host=db password=s3cret\n")
    text = f'[store]\nbackend = "postgres"\ndsn_file = "{secret}"\nspool_dir = "~/sp"\n'
    s = load(tmp_path, text)
    assert (
        s.store.dsn == "host=db password=s3cret" and s.store.spool_dir == Path("~/sp").expanduser()
    )
    s = load(tmp_path, "", WARROOM_STORE_BACKEND="postgres", WARROOM_PG_DSN="h=1")
    assert s.store.backend == "postgres"


def test_serve_token_from_the_environment_or_a_file(tmp_path: Path) -> None:
    assert load(tmp_path, "", WARROOM_SERVE_TOKEN="tok").serve.token == "tok"
    f = tmp_path / "serve.token"
    f.write_text("from-file\n")
    s = load(tmp_path, f'[serve]\ntoken_file = "{f}"\nport = 9000\nhost = "0.0.0.0"\n')
    assert (s.serve.token, s.serve.port, s.serve.host) == ("from-file", 9000, "0.0.0.0")


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ('\n[store]\ndsn = "host=db password=x"\n', {}, ":3: store.dsn: secrets never go"),
        ('[serve]\ntoken = "abc"\n', {}, ":2: serve.token: secrets never go"),
        ('[store]\nbackend = "mysql"\n', {}, ":2: store.backend: unknown backend 'mysql'"),
        ('[store]\nbackend = "postgres"\n', {}, ":2: store.backend: postgres needs a DSN"),
        ('[store]\ndsn_file = "/nonexistent/pg.dsn"\n', {}, ":2: store.dsn_file: cannot read"),
        ("[serve]\nport = 70000\n", {}, ":2: serve.port: expected a port number"),
        ('[serve]\nport = "80"\n', {}, ":2: serve.port: expected a positive whole number"),
    ],
)
def test_mistakes_are_one_line_with_file_and_line(
    tmp_path: Path, text: str, env: dict, expected: str
) -> None:
    with pytest.raises(SettingsError) as err:
        load(tmp_path, text, **env)
    msg = str(err.value)
    assert expected in msg and msg.startswith(str(tmp_path / "warroom.toml"))
    assert "\n" not in msg and "password=x" not in msg
