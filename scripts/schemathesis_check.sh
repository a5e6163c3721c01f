#!/usr/bin/env bash
# Runs schemathesis (PyPI) against a freshly started Heimdall (debug build) from the
# committed openapi.json, over every operation, once with the root key and once with
# an app key (PAK), on SQLite and, with --postgres or HEIMDALL_TEST_POSTGRES_URL set,
# on PostgreSQL too (a database of its own, dropped afterwards). Fails on any 5xx
# answer and on any answer whose status, content type or body the document does not
# allow. The document itself is first checked to be valid OpenAPI 3.1
# (openapi-spec-validator). Bounded: SCHEMATHESIS_MAX_EXAMPLES per operation
# (default 10) and SCHEMATHESIS_MAX_TIME seconds per run (default 60).
# Needs python3 with venv and access to PyPI. When either is missing it reports
# SKIPPED (exit 0), except under CI=true, where a check that cannot run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
skip() {
  if [ "${CI:-}" = "true" ]; then
    echo "schemathesis check FAILED: $1 (CI=true: every check must run)" >&2
    exit 1
  fi
  echo "schemathesis check SKIPPED (not passed): $1"
  exit 0
}
POSTGRES="${HEIMDALL_TEST_POSTGRES_URL:-}"
if [ "${1:-}" = "--postgres" ]; then
  POSTGRES="${POSTGRES:-postgres://postgres@127.0.0.1:5432}"
fi
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-10}"
MAX_TIME="${SCHEMATHESIS_MAX_TIME:-60}"

command -v python3 >/dev/null || skip "no python3"
VENV=target/schemathesis-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV" >/dev/null 2>&1 || skip "python3 -m venv is unavailable"
fi
if ! "$VENV/bin/python" -c "import schemathesis, openapi_spec_validator" 2>/dev/null; then
  "$VENV/bin/pip" install -q "schemathesis==4.32.5" "openapi-spec-validator==0.9.0" >/dev/null 2>&1 ||
    skip "cannot install schemathesis from PyPI"
fi

echo "==> openapi.json is valid OpenAPI 3.1"
"$VENV/bin/python" - <<'PY'
import json
from openapi_spec_validator import validate
from openapi_spec_validator.validation.validators import OpenAPIV31SpecValidator
with open("openapi.json") as f:
    document = json.load(f)
assert document["openapi"].startswith("3.1"), document["openapi"]
validate(document, cls=OpenAPIV31SpecValidator)
print("valid:", len(document["paths"]), "paths")
PY

# The binary as the test suite builds it (`cargo test` resolves features with the
# dev-dependencies; a plain `cargo build` resolves them without and rebuilds much of
# the tree, minutes in CI). After a test run this is a no-op.
cargo test --quiet --no-run --test api
WORK=$(mktemp -d)
SERVER=""
PG_DB=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  if [ -n "$PG_DB" ]; then
    psql "$POSTGRES/postgres" -qc "drop database if exists \"$PG_DB\" with (force)" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PORT=18093
H="http://127.0.0.1:$PORT"
ROOT="hm_root_schemathesisschemathesisschemath0000"

start() { # DATABASE_URL
  HEIMDALL_BIND="127.0.0.1:$PORT" HEIMDALL_DATABASE_URL="$1" HEIMDALL_DATA_DIR="$WORK" \
    HEIMDALL_ROOT_KEY="$ROOT" HEIMDALL_LOG=warn HEIMDALL_WEBHOOK_ALLOW_PRIVATE=true \
    target/debug/heimdall >"$WORK/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 300); do curl -sf "$H/healthz" >/dev/null && return 0; sleep 0.1; done
  cat "$WORK/server.log" >&2
  echo "heimdall did not start" >&2
  exit 1
}

stop() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
}

fuzz() { # LABEL KEY
  echo "==> schemathesis ($1): every operation, max $MAX_EXAMPLES examples each, ${MAX_TIME}s"
  # The checks, the seeded app's path parameters and the exclusions are in
  # scripts/schemathesis.toml (read from the working directory), a JSON Lines
  # serializer in scripts/schemathesis_hooks.py. One worker: hypothesis' lambda
  # descriptions are not thread-safe on every CPython (a spurious runtime error).
  (cd scripts && SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH=. "../$VENV/bin/schemathesis" run ../openapi.json \
    --url "$H" \
    --header "Authorization: Bearer $2" \
    --phases examples,coverage,fuzzing \
    --max-examples "$MAX_EXAMPLES" \
    --max-time "$MAX_TIME" \
    --max-redirects 0 \
    --request-timeout 10 \
    --workers 1 \
    --seed 19 \
    --no-color \
    --warnings off) || {
    echo "--- server log (last lines)" >&2
    tail -n 40 "$WORK/server.log" >&2
    echo "schemathesis check FAILED ($1)" >&2
    exit 1
  }
}

run_on() { # LABEL DATABASE_URL
  start "$2"
  curl -sf -X POST "$H/v1/apps" -H "Authorization: Bearer $ROOT" -H 'Content-Type: application/json' \
    -d '{"name": "demo"}' >/dev/null
  PAK=$(curl -sf -X POST "$H/v1/apps/demo/api-keys" -H "Authorization: Bearer $ROOT" \
    -H 'Content-Type: application/json' -d '{"name": "schemathesis"}' |
    "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["data"]["key"])')
  fuzz "$1, root key" "$ROOT"
  fuzz "$1, app key" "$PAK"
  if grep -q 'panicked' "$WORK/server.log"; then
    grep -n 'panicked' "$WORK/server.log" >&2
    echo "schemathesis check FAILED ($1): a handler panicked" >&2
    exit 1
  fi
  stop
}

run_on "SQLite" "sqlite://$WORK/st.db?mode=rwc"

if [ -n "$POSTGRES" ]; then
  command -v psql >/dev/null || skip "no psql to create the PostgreSQL database"
  POSTGRES="${POSTGRES%/}"
  PG_DB="heimdall_st_$$_$RANDOM"
  psql "$POSTGRES/postgres" -qc "create database \"$PG_DB\"" >/dev/null
  run_on "PostgreSQL" "$POSTGRES/$PG_DB"
fi
echo "schemathesis check passed"
