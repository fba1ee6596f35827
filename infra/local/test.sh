#!/usr/bin/env bash
# Lint, type-check and test: bash infra/local/test.sh [pytest arguments]
# Without DATABASE_URL / REDIS_URL the suite starts embedded PostgreSQL and Redis in a temporary folder.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
bash infra/local/install.sh
# Node and the OpenID provider the identity tests log in through (installed when missing).
bash infra/local/node.sh
# Chromium from Debian's packages for the page tests (Playwright launches it by path).
bash infra/local/browser.sh
# DejaVu Sans for the printed reports' PDFs (installed when missing).
bash infra/local/fonts.sh
.venv/bin/ruff check .
.venv/bin/mypy services workers tenants infra
exec .venv/bin/pytest -q "$@"
