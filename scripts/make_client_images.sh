#!/usr/bin/env bash
# Draws the client pictures in docs/images/ from real clients:
#   1. scripts/client_notebooks.py runs the showcase notebooks (the 12-layer encoder with AdamW,
#      the Llama on meta, the pinned h) in a real kernel and saves their %tensorgraph outputs;
#   2. JupyterLab (tests/lab, headless Chromium) and VS Code (code-server, the e2e rig) open
#      them; the tests named "pictures for the docs" crop each to the cell / the editor and save
#      it (they are skipped in the ordinary test runs);
#   3. pngquant (Debian pngquant) makes the PNGs small.
# Needs scripts/setup.sh, scripts/setup-vscode.sh and Debian's chromium. A few minutes.
#     scripts/make_client_images.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[ -x .venv/bin/python ] || { echo "make_client_images: no .venv: run scripts/setup.sh first" >&2; exit 2; }
command -v pngquant >/dev/null || { echo "make_client_images: pngquant not found: apt-get install pngquant" >&2; exit 2; }
export TENSORVIEWS_PYTHON="$root/.venv/bin/python"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export TENSORVIEWS_CLIENT_NOTEBOOKS="$tmp/notebooks" TENSORVIEWS_CLIENT_IMAGES="$tmp/raw"

PYTHONPATH="$root" .venv/bin/python scripts/client_notebooks.py "$TENSORVIEWS_CLIENT_NOTEBOOKS"
(cd tests/lab && npm ci --no-audit --no-fund --loglevel=error \
  && timeout 600 node --test --test-reporter=spec --test-name-pattern='pictures for the docs' lab.test.mjs)
timeout 600 scripts/setup-vscode.sh
(cd vscode-client \
  && timeout 600 node --test --test-reporter=spec --test-name-pattern='pictures for the docs' out/test/e2e/vscode.test.js)

for png in "$TENSORVIEWS_CLIENT_IMAGES"/*.png; do
  pngquant --quality 65-90 --strip --force --output "docs/images/$(basename "$png")" "$png"
  echo "docs/images/$(basename "$png") ($(du -k "docs/images/$(basename "$png")" | cut -f1) KiB)"
done
