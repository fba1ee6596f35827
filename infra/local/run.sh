#!/usr/bin/env bash
# Run the whole system locally: bash infra/local/run.sh [--port N] [--host ADDR] [--no-demo]
# Without DATABASE_URL / REDIS_URL it starts embedded PostgreSQL and Redis under .data (JOURNAL_DATA_DIR).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
bash infra/local/install.sh
# DejaVu Sans for the printed reports' PDFs; without it only those answer 503.
bash infra/local/fonts.sh || echo "printed reports (PDF) will be unavailable until fonts-dejavu-core is installed" >&2
exec .venv/bin/journal-run "$@"
