#!/usr/bin/env bash
# Installs the browser test's node dependencies (playwright-core, pinned by package-lock.json).
# Chromium itself comes from Debian: apt-get install -y chromium.
set -euo pipefail
cd "$(dirname "$0")/../tests/browser"
npm ci --no-audit --no-fund
