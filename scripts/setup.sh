#!/usr/bin/env bash
# Sets up everything Tensor Views needs on a fresh Debian machine (idempotent):
# Debian packages (graphviz, librsvg2-bin, neovim, chromium), a virtualenv in .venv with the pinned
# Python packages, and the project installed in editable mode.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
command -v rsvg-convert >/dev/null 2>&1 || need_apt+=(librsvg2-bin)  # scripts/make_images.py
command -v nvim >/dev/null 2>&1 || need_apt+=(neovim)
if [ "${TENSORVIEWS_BROWSER:-1}" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=180 update -qq
  apt-get -o DPkg::Lock::Timeout=180 install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.tensorviews-installed
if [ ! -f "$stamp" ] || [ requirements-lock.txt -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing pinned Python packages (torch CPU build included; first run takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements-lock.txt
  .venv/bin/python -m pip install -q --no-deps -e .
  touch "$stamp"
fi
