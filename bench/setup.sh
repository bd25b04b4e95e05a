#!/usr/bin/env bash
# What the benchmarks need beyond the project's venv, installed only where missing (idempotent):
# wrk and PostgreSQL (Debian; the bench starts throwaway clusters of its own, as the tests do),
# Seam's fake server pinned to one version in bench/.peer (npm --prefix, not the project), and
# py-spy in the venv for profiles.
set -euo pipefail
cd "$(dirname "$0")"
PEER_VERSION=1.86.0

# Only what is missing: a NodeSource node already brings npm, and Debian's npm conflicts with it.
missing=()
command -v wrk >/dev/null || missing+=(wrk)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v taskset >/dev/null || missing+=(util-linux)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    # Debian starts a default cluster on install; it would only take memory and CPU.
    if [[ " ${missing[*]} " == *" postgresql "* ]]; then
        $SUDO service postgresql stop >/dev/null 2>&1 || true
    fi
fi

installed=$(node -p "require('./.peer/node_modules/@seamapi/fake-seam-connect/package.json').version" 2>/dev/null || true)
if [ "$installed" != "$PEER_VERSION" ]; then
    npm install --silent --no-audit --no-fund --prefix .peer "@seamapi/fake-seam-connect@$PEER_VERSION"
fi

if [ ! -x ../.venv/bin/py-spy ]; then
    ../.venv/bin/pip install --quiet py-spy
fi
