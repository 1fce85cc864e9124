#!/usr/bin/env bash
# Sets up everything Tensor Views needs on a fresh Debian machine (idempotent):
# Debian packages (graphviz, librsvg2-bin, pngquant, neovim, chromium), a virtualenv in .venv with the
# pinned Python packages, the JupyterLab extension built (needs node and npm), and the project
# installed in editable mode.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
command -v rsvg-convert >/dev/null 2>&1 || need_apt+=(librsvg2-bin)  # scripts/make_images.py
command -v pngquant >/dev/null 2>&1 || need_apt+=(pngquant)  # scripts/make_client_images.sh
command -v nvim >/dev/null 2>&1 || need_apt+=(neovim)
# node >= 20.19 with npm builds the JupyterLab extension (rspack).
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
if [ "${TENSORVIEWS_BROWSER:-1}" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  # Liberation Sans: Helvetica's metrics, the font the cores' DOT names, so text drawn in the
  # browser fits the boxes graphviz sized for it (DejaVu Sans, the fallback, is wider).
  dpkg -s fonts-liberation2 >/dev/null 2>&1 || need_apt+=(fonts-liberation2)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=180 update -qq
  apt-get -o DPkg::Lock::Timeout=180 install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  python3 -m venv .venv
fi
stamp=.venv/.tensorviews-installed
reinstall=0
if [ ! -f "$stamp" ] || [ requirements-lock.txt -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing pinned Python packages (torch CPU build included; first run takes a few minutes)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements-lock.txt
  reinstall=1
fi

# The prebuilt JupyterLab extension: npm packages (package-lock.json), esbuild, then
# jupyter-builder (from the pinned jupyterlab) into jupyterlab-ext/labextension/, which
# pyproject's data-files install into <prefix>/share/jupyter/labextensions/tensorviews/.
# Rebuilt only when its sources (or the shared web package) changed.
labext=jupyterlab-ext/labextension/package.json
node_ok() {
  command -v npm >/dev/null 2>&1 && node -e 'const [a, b] = process.versions.node.split(".").map(Number);
    process.exit((a === 20 && b >= 19) || (a === 22 && b >= 12) || a > 22 ? 0 : 1)'
}
if ! node_ok; then
  echo "setup: the JupyterLab extension needs node >= 20.19 with npm (found: $(node --version 2>/dev/null || echo none));" \
    "not building it: JupyterLab and Notebook 7 get no Tensor Views extension" >&2
elif [ ! -f "$labext" ] || [ -n "$(find jupyterlab-ext/src jupyterlab-ext/style web/src \
    jupyterlab-ext/package.json jupyterlab-ext/package-lock.json jupyterlab-ext/esbuild.mjs \
    -newer "$labext" -print -quit)" ]; then
  echo "setup: building the JupyterLab extension (jupyterlab-ext/)"
  (cd jupyterlab-ext && npm ci --no-audit --no-fund --loglevel=error \
    && PATH="$PWD/../.venv/bin:$PATH" npm run build --silent)
  touch "$labext"
  reinstall=1
fi
if [ "$reinstall" = 1 ] || [ ! -f "$stamp" ] || [ "$labext" -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --no-deps -e .
  touch "$stamp"
fi
# An editable install leaves pyproject's data-files out: link them into the venv where a
# wheel puts them (the lab extension, the server extension's enabling config).
mkdir -p .venv/share/jupyter/labextensions .venv/etc/jupyter/jupyter_server_config.d
if [ -d jupyterlab-ext/labextension ]; then
  ln -sfn "$PWD/jupyterlab-ext/labextension" .venv/share/jupyter/labextensions/tensorviews
fi
ln -sfn "$PWD/jupyter-config/jupyter_server_config.d/tensorviews.json" \
  .venv/etc/jupyter/jupyter_server_config.d/tensorviews.json
