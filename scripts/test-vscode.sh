#!/usr/bin/env bash
# Tests of the VS Code client, in three stages, each with a hard time limit so CI never hangs:
#   1. unit tests of the pure modules (node --test; graphviz wasm and a real Python included),
#   2. the webview and notebook renderer in headless Chromium (playwright-core),
#   3. end to end in a real VS Code: code-server with the packaged .vsix, driven by Chromium
#      (with a test-only extension that runs the real debugpy adapter for the debugger command),
#      and `vsce package` from a clean copy.
# Runs scripts/setup-vscode.sh first (idempotent; code-server is cached). Set
# TENSORVIEWS_SKIP_E2E=1 to stop after stage 2. Prints "N passed, N failed" and exits non-zero
# if any stage fails. Screenshots go to test-artifacts/vscode/.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
# The project's Python (torch, debugpy, the kernel and the server): $TENSORVIEWS_PYTHON, else .venv.
if [ -z "${TENSORVIEWS_PYTHON:-}" ]; then
  [ -x .venv/bin/python ] || { echo "test-vscode: no .venv: run scripts/setup.sh first (or set TENSORVIEWS_PYTHON)" >&2; exit 2; }
  export TENSORVIEWS_PYTHON="$root/.venv/bin/python"
fi

start=$SECONDS
if [ "${TENSORVIEWS_SKIP_E2E:-0}" = 1 ]; then
  TENSORVIEWS_SKIP_CODE_SERVER=1 timeout 600 scripts/setup-vscode.sh || exit 2
else
  timeout 600 scripts/setup-vscode.sh || exit 2
fi
echo "test-vscode: setup took $((SECONDS - start)) s"
# The tests bundles are built by the same esbuild run as the extension (npm run package).
cd vscode-client
mkdir -p "$root/test-artifacts/vscode"

passed=0
failed=0
stage() { # name, time limit (s), npm script
  local name=$1 limit=$2 script=$3 log
  log=$(mktemp)
  echo "== $name"
  local t0=$SECONDS
  # No `|| true` here: under pipefail it would run and replace PIPESTATUS with its own 0.
  timeout --kill-after=10 "$limit" npm run --silent "$script" 2>&1 | tee "$log" | grep -E '^\s*(✔|✖)|^ℹ (tests|pass|fail)'
  local rc=${PIPESTATUS[0]}
  local p f
  p=$(sed -n 's/^ℹ pass \([0-9]*\)$/\1/p' "$log" | tail -1)
  f=$(sed -n 's/^ℹ fail \([0-9]*\)$/\1/p' "$log" | tail -1)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ] || [ -z "$p" ] || [ "${p:-0}" -eq 0 ]; then
    [ "$rc" -eq 124 ] && echo "test-vscode: $name timed out after ${limit}s"
    echo "test-vscode: $name FAILED (exit $rc); details:"
    grep -vE '^\s*(✔)' "$log" | tail -60
    [ "${f:-0}" -eq 0 ] && failed=$((failed + 1))
  fi
  echo "   ($((SECONDS - t0)) s)"
  rm -f "$log"
}

stage "unit tests" 120 test:unit
stage "webview and renderer in headless Chromium" 180 test:browser
if [ "${TENSORVIEWS_SKIP_E2E:-0}" != 1 ]; then
  stage "end to end in code-server" 480 test:e2e
fi
echo "test-vscode: $passed passed, $failed failed ($((SECONDS - start)) s in all)"
[ "$failed" -eq 0 ]
