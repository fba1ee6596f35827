#!/usr/bin/env bash
# Run the whole system locally: bash infra/local/run.sh [--port N] [--host ADDR] [--no-demo]
# Without DATABASE_URL / REDIS_URL it starts embedded PostgreSQL and Redis under .data (JOURNAL_DATA_DIR).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
bash infra/local/install.sh
exec .venv/bin/journal-run "$@"
