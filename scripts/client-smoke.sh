#!/usr/bin/env bash
# Generated-client smoke test: what a new user of the API does. Starts a fresh Querent (the
# debug binary on a free loopback port, a temporary data directory, so the demo database is
# registered at setup), checks its /openapi.json with the standard validator
# (openapi-spec-validator), generates a Python client from it with openapi-python-client
# (warnings are errors: a dropped endpoint fails), then runs scripts/client_smoke.py, which
# sets up an admin, logs in, lists connections and reads a chat answer (JSON and SSE)
# through the generated client.
#
#   scripts/client-smoke.sh     (just client-smoke)
#
# The Python tools come from PyPI into a virtualenv kept in $QUERENT_SMOKE_VENV (default
# ~/.cache/querent/client-smoke-venv). When they cannot be installed the test is skipped
# with a message — unless CI=true or QUERENT_REQUIRE_CLIENT_SMOKE=1, where that fails.
set -euo pipefail

cd "$(dirname "$(readlink -f "$0")")/.."
T0=$SECONDS

skip() {
  if [[ ${CI:-} == true || ${QUERENT_REQUIRE_CLIENT_SMOKE:-} == 1 ]]; then
    echo "client smoke FAILED: $*" >&2
    exit 1
  fi
  echo "client smoke SKIPPED: $*"
  exit 0
}

command -v python3 >/dev/null 2>&1 || skip "python3 is missing"

BIN=${QUERENT_BIN:-target/debug/querent}
if [[ ! -x $BIN ]]; then
  echo "building $BIN"
  cargo build -q -p querent
fi

VENV=${QUERENT_SMOKE_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/querent/client-smoke-venv}
if [[ ! -x $VENV/bin/openapi-python-client || ! -x $VENV/bin/openapi-spec-validator ]]; then
  echo "installing openapi-python-client and openapi-spec-validator into $VENV"
  python3 -m venv "$VENV" || skip "python3 -m venv failed (Debian: apt-get install python3-venv)"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    'openapi-python-client>=0.29,<0.30' 'openapi-spec-validator>=0.7,<0.10' ||
    skip "pip could not install openapi-python-client (no PyPI?)"
fi
# The generator formats its output with ruff, installed beside it.
export PATH="$VENV/bin:$PATH"

WORK=$(mktemp -d)
PID=""
cleanup() {
  if [[ -n $PID ]]; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
QUERENT_LOG_LEVEL=warn "$BIN" serve --bind "127.0.0.1:$PORT" --data-dir "$WORK/data" >"$WORK/server.log" 2>&1 &
PID=$!

fetch() { # fetch URL FILE
  python3 -c 'import sys, urllib.request; open(sys.argv[2], "wb").write(urllib.request.urlopen(sys.argv[1], timeout=5).read())' "$1" "$2"
}
for ((i = 0; i < 60; i++)); do
  fetch "$BASE/health" "$WORK/health.json" 2>/dev/null && break
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/server.log"; echo "client smoke FAILED: the server exited" >&2; exit 1; }
  sleep 0.5
done
fetch "$BASE/openapi.json" "$WORK/openapi.json"

echo "validating $BASE/openapi.json (openapi-spec-validator)"
openapi-spec-validator "$WORK/openapi.json"

echo "generating the Python client (openapi-python-client, warnings are errors)"
openapi-python-client generate --path "$WORK/openapi.json" \
  --output-path "$WORK/client/querent_api_client" --meta none --fail-on-warning >"$WORK/generate.log" 2>&1 ||
  { cat "$WORK/generate.log"; echo "client smoke FAILED: the generator refused the document" >&2; exit 1; }

PYTHONPATH="$WORK/client" "$VENV/bin/python" scripts/client_smoke.py "$BASE" ||
  { echo "--- server log"; tail -n 40 "$WORK/server.log"; echo "client smoke FAILED" >&2; exit 1; }
echo "client smoke passed in $((SECONDS - T0)) s"
