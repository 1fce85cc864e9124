#!/usr/bin/env bash
# Set up, then run every benchmark in benchmarks/ (each prints a table and writes
# benchmarks/results/<name>.json). Numbers are ratios to baselines measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
TENSORVIEWS_BROWSER=0 scripts/setup.sh
for bench in benchmarks/bench_*.py; do
  echo "== $bench"
  .venv/bin/python "$bench"
done
