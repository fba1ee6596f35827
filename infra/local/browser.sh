#!/usr/bin/env bash
# Chromium for the page tests, from Debian's packages (Playwright drives it by path: no browser download).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/debian.sh"
if ! command -v chromium >/dev/null 2>&1; then
    debian_install chromium chromium fonts-dejavu-core
fi
