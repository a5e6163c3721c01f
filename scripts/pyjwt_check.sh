#!/usr/bin/env bash
# Runs seed 002's PyJWT snippet against a freshly started Heimdall (debug build).
# Needs python3 with venv and access to PyPI; skips (exit 0, with a message) when
# either is missing, fails when the verification itself fails.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v python3 >/dev/null || { echo "pyjwt check skipped: no python3"; exit 0; }
VENV=target/pyjwt-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" >/dev/null 2>&1 || { echo "pyjwt check skipped: python3 -m venv unavailable"; exit 0; }
fi
if ! "$VENV/bin/python" -c "import jwt, cryptography" 2>/dev/null; then
  "$VENV/bin/pip" install -q "pyjwt[crypto]>=2.8" >/dev/null 2>&1 || { echo "pyjwt check skipped: cannot install PyJWT from PyPI"; exit 0; }
fi
cargo build --quiet
DIR=$(mktemp -d); PORT=18089; H="http://127.0.0.1:$PORT"
ROOT="hm_root_pyjwtpyjwtpyjwtpyjwtpyjwtpyjwtpyjwt0000"
HEIMDALL_BIND="127.0.0.1:$PORT" HEIMDALL_DATABASE_URL="sqlite://$DIR/p.db?mode=rwc" HEIMDALL_DATA_DIR="$DIR" \
  HEIMDALL_ROOT_KEY="$ROOT" HEIMDALL_LOG=warn target/debug/heimdall >"$DIR/log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf "$H/healthz" >/dev/null && break; sleep 0.1; done
curl -sf -X POST "$H/v1/apps" -H "Authorization: Bearer $ROOT" -H 'Content-Type: application/json' -d '{"name": "acme"}' >/dev/null
TOKEN=$(curl -sf -X POST "$H/acme/v1/auth/signup" -H 'Content-Type: application/json' \
  -d '{"email": "py@example.com", "password": "correct horse battery"}' | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
"$VENV/bin/python" scripts/pyjwt_seed002.py "$H/acme/v1/.well-known/jwks.json" "$H/acme" "$TOKEN"
