#!/usr/bin/env bash
# Set everything up (Debian packages, .venv, pinned packages) and run the demo: the blog post's
# swap as a notebook, executed headless by a real kernel with Tensor Views loaded, written as
# an HTML page with the storage graphs before and after the swap.
set -euo pipefail
cd "$(dirname "$0")/.."
TENSORVIEWS_BROWSER=0 scripts/setup.sh
.venv/bin/python examples/run_demo.py examples/seed_swap.ipynb --out out
echo "demo: the same checks in an editor: .venv/bin/python -m lsp_server check examples/"
