#!/usr/bin/env bash
# Creates .venv-peer with jedi-language-server, the peer baseline for benchmarks/bench_lsp.py.
# Kept apart from .venv because jedi-language-server pins its own pygls/lsprotocol versions.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-peer/bin/python ]; then
  python3 -m venv .venv-peer
fi
.venv-peer/bin/python -m pip install -q jedi-language-server==0.47.0
.venv-peer/bin/jedi-language-server --version
