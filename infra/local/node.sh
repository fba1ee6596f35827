#!/usr/bin/env bash
# Node.js for the tests: the OpenID Connect provider the suite logs in against is node's `oidc-provider`
# (tests/oidc). Makes sure node (18.12 or newer) and npm exist, installing Debian's nodejs and npm when they
# don't, then installs tests/oidc/node_modules exactly as package-lock.json says (npm ci) when it is missing
# or was installed from another lock file or node version. Idempotent: a second run only checks.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PROJECT="$ROOT/tests/oidc"

source "$ROOT/infra/local/debian.sh"
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    debian_install "node.sh: node and npm" nodejs npm
fi

if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a === 18 && b >= 12) ? 0 : 1)'; then
    echo "node.sh: node $(node --version) is too old; tests/oidc needs Node.js 18.12 or newer" >&2
    exit 1
fi

# The stamp records what node_modules was installed from: the lock file and the node version.
STAMP="$PROJECT/node_modules/.journal-installed"
WANT="$(sha256sum "$PROJECT/package-lock.json" | cut -d' ' -f1) node-$(node --version)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "node.sh: npm ci in tests/oidc" >&2
    (cd "$PROJECT" && npm ci --no-audit --no-fund --loglevel=error)
    printf '%s\n' "$WANT" >"$STAMP"
fi
