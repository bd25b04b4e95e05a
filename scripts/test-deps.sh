#!/usr/bin/env bash
# npm packages the tests run, installed exactly as locked: the Z-Wave JS test stack
# (tests/zwave_harness: zwave-js, zwave-server, mocks), Seam's JavaScript SDK
# (tests/js_sdk: @seamapi/http), Seam Components (tests/seam_components: @seamapi/react,
# whose elements build the browser tests load) and axe-core (tests/a11y: the accessibility
# checks of the console's pages). Re-runs `npm ci` in a project only when its
# package-lock.json changed since the last install. Needs Node.js >= 20 and npm
# (scripts/system-deps.sh installs Debian's).
set -euo pipefail
tests="$(cd "$(dirname "$0")/../tests" && pwd)"
if ! node -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)'; then
  echo "the npm test projects need Node.js >= 20 (found $(node --version)); Debian 12's nodejs is 18" >&2
  exit 1
fi
for project in "$tests/zwave_harness" "$tests/js_sdk" "$tests/seam_components" "$tests/a11y"; do
  stamp="$project/node_modules/.lockhub-installed"
  if [ -f "$stamp" ] && [ "$stamp" -nt "$project/package-lock.json" ]; then
    continue
  fi
  npm ci --prefix "$project" --no-audit --no-fund --loglevel=error
  touch "$stamp"
done
