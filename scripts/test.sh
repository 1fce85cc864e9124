#!/usr/bin/env bash
# Set everything up and run every test: lint and types, the fast suite, the end-to-end stage
# that drives real editors and browsers (headless Neovim, Chromium), the JupyterLab face (a
# real JupyterLab in Chromium), then the VS Code client
# (unit, Chromium and real code-server tests). Exits non-zero if any stage fails or collects
# no tests.
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
echo "== tests: JupyterLab face (real JupyterLab in Chromium)"
timeout --kill-after=30 600 scripts/test-lab.sh
echo "== tests: VS Code client (unit, Chromium, code-server end-to-end)"
scripts/test-vscode.sh
