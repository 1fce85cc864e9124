#!/usr/bin/env bash
# The JupyterLab face in a real JupyterLab driven by headless Chromium (tests/lab/): the prebuilt
# extension, its renderer and panel, and jupyterlab-lsp running the language server. Needs
# scripts/setup.sh (the .venv with jupyterlab, the built extension) and Debian's chromium.
# A hard time limit keeps CI from hanging; prints "N passed, N failed" and exits non-zero if a
# test fails or none ran. Screenshots go to test-artifacts/lab/.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
[ -x .venv/bin/python ] || { echo "test-lab: no .venv: run scripts/setup.sh first" >&2; exit 2; }
export TENSORVIEWS_PYTHON="$root/.venv/bin/python"
(cd tests/lab && npm ci --no-audit --no-fund --loglevel=error) || exit 2

log=$(mktemp)
start=$SECONDS
(cd tests/lab && timeout --kill-after=15 "${TENSORVIEWS_LAB_TIMEOUT:-480}" npm test --silent) 2>&1 \
  | tee "$log" | grep -E '^\s*(✔|✖)|^ℹ (tests|pass|fail)'
rc=${PIPESTATUS[0]}
passed=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$log" | tail -1)
failed=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$log" | tail -1)
passed=${passed:-0}
failed=${failed:-0}
if [ "$rc" -ne 0 ] || [ "$passed" -eq 0 ]; then
  [ "$rc" -eq 124 ] && echo "test-lab: timed out"
  echo "test-lab: FAILED (exit $rc); details:"
  grep -vE '^\s*(✔)|^\s*\[[IWD] ' "$log" | tail -80
  [ "$failed" -eq 0 ] && failed=1
fi
rm -f "$log"
echo "test-lab: $passed passed, $failed failed ($((SECONDS - start)) s)"
[ "$failed" -eq 0 ]
