#!/usr/bin/env bash
# Set everything up and run every test: lint and types, the fast suite, then the end-to-end
# stage that drives real editors (headless Neovim). Exits non-zero if any stage fails or
# collects no tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup-browser.sh
py=.venv/bin/python

echo "== lint: ruff"
$py -m ruff check .
echo "== types: mypy"
$py -m mypy
echo "== tests: fast suite"
$py -m pytest -q -m "not editor and not slow"
echo "== tests: end-to-end stage (real editors)"
$py -m pytest -q -m "editor or slow"
