#!/usr/bin/env bash
# Chromium for the page tests, from Debian's packages (Playwright drives it by path: no browser download).
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium is missing: run 'apt-get install chromium' as root" >&2
  exit 1
fi
echo "installing chromium from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
