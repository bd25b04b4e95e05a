#!/usr/bin/env bash
# The whole suite on SQLite and on PostgreSQL (tests/databases.py), side by side: much of the
# suite waits on servers, radios and browsers, so on two cores the two passes together take
# about 24 minutes against 40 one after the other. The PostgreSQL pass prints as it goes; the
# SQLite pass's output follows when both are done. Arguments go to both pytest runs.
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="$root/.venv/bin/python"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Each pass has its own temporary folders, and only one keeps pytest's cache.
"$python" -m pytest -q -p no:cacheprovider --basetemp="$work/sqlite" "$@" \
  > "$work/sqlite.log" 2>&1 &
sqlite=$!
LOCKHUB_TEST_DATABASE=postgresql "$python" -m pytest -q --basetemp="$work/postgresql" "$@"
postgresql=$?
wait "$sqlite"
sqlite_status=$?
echo
echo "=== the SQLite pass ==="
cat "$work/sqlite.log"
echo "SQLite pass: exit $sqlite_status; PostgreSQL pass: exit $postgresql"
[ "$sqlite_status" -eq 0 ] && [ "$postgresql" -eq 0 ]
