#!/usr/bin/env bash
# `make webui`: installs the web UI's packages exactly as package-lock.json says
# (npm ci, only when the lockfile changed since the last install) and builds the
# app into webui/dist, which the next `cargo build` embeds in shofar.
# npm's download cache lives outside the clone: $SHOFAR_CACHE/npm.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "make webui: Node.js 20+ and npm are needed to build the web UI (apt-get install nodejs npm)," >&2
  echo "  or use a shofar built elsewhere: the box itself never needs Node.js." >&2
  exit 2
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "make webui: Node.js $(node --version) is too old; Vite 7 needs 20 or newer" >&2
  exit 2
fi

export npm_config_cache="${npm_config_cache:-${SHOFAR_CACHE:-$HOME/.cache/shofar}/npm}"
stamp=node_modules/.shofar-lockfile.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "make webui: npm ci (package-lock.json changed or node_modules missing)"
  npm ci --no-audit --no-fund --prefer-offline
  echo "$want" > "$stamp"
fi
npm run --silent build
echo "make webui: built $(pwd)/dist (embedded in shofar by the next cargo build)"
