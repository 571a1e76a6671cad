"""`warroom serve` in Debian's headless Chromium (Playwright, never a downloaded browser): the
page loads with the token and only with it, follows the incident live over server-sent events
when a note is added on another host, keeps hostile strings inert, has no write actions, and
fits a phone's screen. The server runs as the real command, on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from warroom.room import WarRoom
from warroom.settings import load_settings
from warroom.store import open_repository

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "t0ken-for-the-stakeholders"
HOSTILE = (
    '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
    " [bold red]markup[/] \x1b[31mred\x1b]0;title\x07 {{ 7*7 }}"
)


def _browser_path() -> str:
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    msg = "chromium not installed (apt-get install chromium chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture
def served(tmp_path: Path, pg_dsn: str) -> Iterator[tuple[str, str, WarRoom]]:
    settings = load_settings(env={"USER": "ann"}, data_dir=tmp_path / "host-a")
    repo = open_repository(tmp_path / "host-a", "postgres", pg_dsn)
    room = WarRoom.declare(repo, settings, title=HOSTILE, severity="P1")
    room.add_note(f"note: {HOSTILE}")
    room.toggle_item(next(iter(room.state.checklist)))
    env = {
        **os.environ,
        "WARROOM_PG_DSN": pg_dsn,
        "WARROOM_STORE_BACKEND": "postgres",
        "WARROOM_SERVE_TOKEN": TOKEN,
        "WARROOM_CONFIG": "",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "warroom",
            "serve",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "web"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read()
        yield url, room.incident_id, room
    finally:
        proc.terminate()
        proc.wait(10)
        room.store.close()


def _status(url: str, method: str = "GET", headers: dict | None = None) -> int:
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_no_token_no_page_and_no_write_actions(served) -> None:
    url, incident, _ = served
    page = f"{url}/i/{incident}"
    assert _status(f"{url}/") == 401
    assert _status(page) == 401
    assert _status(f"{page}/events") == 401
    assert _status(f"{page}?token=wrong") == 401
    assert _status(page, headers={"Authorization": "Bearer wrong"}) == 401
    assert _status(page, headers={"Authorization": f"Bearer {TOKEN}"}) == 200
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert _status(page, method, {"Authorization": f"Bearer {TOKEN}"}) == 405


def test_the_page_loads_escapes_and_follows_live(served, tmp_path: Path, pg_dsn: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    url, incident, room = served
    executable = _browser_path()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{url}/i/{incident}?token={TOKEN}")
            assert page.url == f"{url}/i/{incident}"  # the token left the address bar
            title = page.locator("#title").inner_text()
            assert "<script>window.__pwned = 1</script>" in title  # shown, not run
            assert "{{ 7*7 }}" in title and "[bold red]markup[/]" in title
            assert "\x1b" not in title and "\x07" not in title
            assert page.evaluate("window.__pwned") is None
            assert page.locator("#live img, #live script").count() == 0
            expect(page.locator("#progress")).to_have_text("1/" + str(len(room.state.checklist)))
            assert "P1" in page.locator("header").inner_text()
            expect(page.locator("#next-update")).to_contain_text("in ")
            # Phone-sized: nothing wider than the screen.
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path=str(tmp_path / "phone.png"), full_page=True)

            # Another host writes; the page shows it without a reload.
            other = open_repository(tmp_path / "host-b", "postgres", pg_dsn).open(incident)
            settings = load_settings(env={"USER": "bo"}, data_dir=tmp_path / "host-b")
            WarRoom(other, settings).add_note("<b>live</b> from host b")
            first = page.locator("#timeline li").first
            expect(first).to_contain_text("<b>live</b> from host b", timeout=5_000)
            assert page.locator("#timeline b").count() == 0
            assert page.locator("#link").inner_text() == "live"
            other.close()
        finally:
            browser.close()
