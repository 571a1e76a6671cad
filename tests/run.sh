#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need, then runs pytest.
# README.md gives this command and .ci/run calls it, so CI runs exactly what a developer runs.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)
command -v prometheus-alertmanager >/dev/null 2>&1 || need_apt+=(prometheus-alertmanager)
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
# Signed checkpoints and custody: a real ssh-keygen and ssh-agent, and an sshd for scp copies.
command -v ssh-keygen >/dev/null 2>&1 || need_apt+=(openssh-client)
command -v ssh-agent >/dev/null 2>&1 || need_apt+=(openssh-client)
[ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1 || need_apt+=(openssh-server)
# PostgreSQL (initdb, pg_ctl: the tests start their own server) and a headless Chromium for
# the web page (driven by Playwright; never a downloaded browser).
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need_apt+=(postgresql)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium chromium-driver)
if ((${#need_apt[@]})); then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    # The Debian packages start nothing here (no systemd); tests start their own servers.
    $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/python -m ruff check .
.venv/bin/python -m ruff format --check .
# Both cores (pytest-xdist); the architecture contracts run as tests/unit/test_architecture.py.
exec .venv/bin/python -m pytest -q -n auto "$@"
