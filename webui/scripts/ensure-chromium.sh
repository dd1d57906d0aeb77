#!/usr/bin/env bash
# The browser the end-to-end tests drive: Debian's Chromium (playwright-core cannot
# download its own here). Installs it with apt-get when it is missing.
set -euo pipefail
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then
  exit 0
fi
echo "test-webui: $chromium is missing; installing Debian's chromium"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then sudo="sudo"; else
    echo "test-webui: not root and no sudo: install chromium (apt-get install chromium) and rerun" >&2
    exit 2
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
"$chromium" --version
