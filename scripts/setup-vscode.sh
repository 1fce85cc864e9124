#!/usr/bin/env bash
# Sets up the VS Code client and its test rig (idempotent; works from scratch in CI):
#   1. Debian packages: chromium (browser tests) and fonts-liberation2 (Helvetica's metrics), ripgrep + libkrb5-dev (code-server's install);
#   2. vscode-client: npm ci, typecheck, esbuild bundles, the .vsix (vsce, no network);
#   3. code-server (a real VS Code in a browser) from npm, cached under $TENSORVIEWS_CACHE.
# Set TENSORVIEWS_SKIP_CODE_SERVER=1 to stop after step 2.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
CODE_SERVER_VERSION=4.100.3
cache=${TENSORVIEWS_CACHE:-$HOME/.cache/tensorviews}
cs_dir=$cache/code-server-$CODE_SERVER_VERSION

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
dpkg -s fonts-liberation2 >/dev/null 2>&1 || need_apt+=(fonts-liberation2)  # Helvetica's metrics
if [ "${TENSORVIEWS_SKIP_CODE_SERVER:-0}" != 1 ]; then
  command -v rg >/dev/null 2>&1 || need_apt+=(ripgrep)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup-vscode: installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=180 update -qq
  apt-get -o DPkg::Lock::Timeout=180 install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

cd "$root/vscode-client"
stamp=node_modules/.tensorviews-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup-vscode: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi
echo "setup-vscode: typecheck, bundle, package"
npm run --silent package

if [ "${TENSORVIEWS_SKIP_CODE_SERVER:-0}" = 1 ]; then
  exit 0
fi
if [ -x "$cs_dir/node_modules/.bin/code-server" ]; then
  echo "setup-vscode: code-server $CODE_SERVER_VERSION cached in $cs_dir"
  exit 0
fi
echo "setup-vscode: installing code-server $CODE_SERVER_VERSION into $cs_dir (about a minute)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# code-server's ripgrep postinstall downloads from GitHub, which is unreachable here: seed the
# download cache it looks in with Debian's rg, packed under the name it expects.
mkdir -p "$tmp/vscode-ripgrep-cache-1.15.11" "$tmp/rg"
cp "$(command -v rg)" "$tmp/rg/rg"
tar -czf "$tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$tmp/rg" rg
mkdir -p "$cs_dir.partial"
(
  cd "$cs_dir.partial"
  [ -f package.json ] || echo '{"name": "tensorviews-code-server", "private": true}' > package.json
  TMPDIR=$tmp npm_config_yes=true npm_config_unsafe_perm=true \
    npm install --no-audit --no-fund --loglevel=error --foreground-scripts \
    "code-server@$CODE_SERVER_VERSION" >"$tmp/install.log" 2>&1 || { tail -40 "$tmp/install.log"; exit 1; }
)
rm -rf "$cs_dir"
mv "$cs_dir.partial" "$cs_dir"
echo "setup-vscode: code-server ready"
