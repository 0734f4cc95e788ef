#!/usr/bin/env bash
# One set-up for srhw on Debian 12: apt tools, a .venv with the pinned stack, srhw itself (editable).
# Idempotent: every step is skipped when what it makes is already there, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v iverilog >/dev/null 2>&1 || need_apt+=(iverilog)
command -v python3.11 >/dev/null 2>&1 || need_apt+=(python3.11 python3.11-venv)
python3.11 -c 'import ensurepip' >/dev/null 2>&1 || need_apt+=(python3.11-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3.11 -m venv .venv
stamp=.venv/.srhw-lock.sha256
want=$(sha256sum requirements-lock.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    # torch==2.13.0+cpu comes from the machine's local CPU wheel (pip's own config); never a CUDA build.
    pip_q() { .venv/bin/pip install -q --disable-pip-version-check "$@" >.venv/pip.log 2>&1 \
              || { grep -v "^WARNING: Location" .venv/pip.log >&2; exit 1; }; }
    pip_q -r requirements-lock.txt
    pip_q --no-deps --no-build-isolation -e .
    .venv/bin/python -c "import srhw, torch, hls4ml" >/dev/null
    echo "$want" > "$stamp"
fi
