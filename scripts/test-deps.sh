#!/usr/bin/env bash
# npm packages of the Z-Wave JS test stack (tests/zwave_harness: zwave-js, zwave-server, mocks),
# installed exactly as locked. Re-runs `npm ci` only when package-lock.json changed since the
# last install. Needs Node.js >= 20 and npm (scripts/system-deps.sh installs Debian's).
set -euo pipefail
harness="$(cd "$(dirname "$0")/../tests/zwave_harness" && pwd)"
stamp="$harness/node_modules/.lockhub-installed"
if [ -f "$stamp" ] && [ "$stamp" -nt "$harness/package-lock.json" ]; then
  exit 0
fi
if ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  echo "the Z-Wave JS test stack needs Node.js >= 20 (found $(node --version)); Debian 12's nodejs is 18" >&2
  exit 1
fi
npm ci --prefix "$harness" --no-audit --no-fund --loglevel=error
touch "$stamp"
