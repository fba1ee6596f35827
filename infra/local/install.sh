#!/usr/bin/env bash
# Bootstrap a checkout on a fresh machine that has Python 3.11+: a virtualenv in .venv with uv in it, then the
# exact dependencies of uv.lock. Idempotent (a second run only checks), and works from any directory.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

UV_VERSION="0.13.8"
PYTHON="${PYTHON:-python3}"

if [ ! -x .venv/bin/python ]; then
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        echo "install.sh: $PYTHON not found; install Python 3.11 or newer (Debian: apt-get install python3 python3-venv)" >&2
        exit 1
    fi
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "install.sh: $("$PYTHON" --version 2>&1) is too old; Python 3.11 or newer is needed" >&2
        exit 1
    fi
    echo "creating the virtualenv in $ROOT/.venv" >&2
    if ! "$PYTHON" -m venv .venv; then
        rm -rf .venv
        echo "install.sh: '$PYTHON -m venv' failed; on Debian/Ubuntu install the venv module: apt-get install python3-venv" >&2
        exit 1
    fi
fi

if [ "$(.venv/bin/uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    echo "installing uv $UV_VERSION into .venv" >&2
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
fi

# --frozen: exactly uv.lock, never re-resolved. Quiet when everything is already in place.
.venv/bin/uv sync --frozen --quiet
