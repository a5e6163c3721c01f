#!/usr/bin/env bash
# Throughput and latency of the hot endpoints, measured with wrk against a release
# build on SQLite: client-credentials issuance (ES256, EdDSA, RS256), /authorize,
# introspection and the JWKS. Needs `wrk` (Debian: apt-get install wrk).
# Usage: bench/run.sh [seconds per run, default 15] [connections, default 64]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-15}"
CONNECTIONS="${2:-64}"
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

cargo build --release --quiet
DIR="$(mktemp -d)"
PORT=18080
H="http://127.0.0.1:$PORT"
ROOT="hm_root_benchbenchbenchbenchbenchbenchbenchbench00"
HEIMDALL_BIND="127.0.0.1:$PORT" HEIMDALL_DATABASE_URL="sqlite://$DIR/bench.db?mode=rwc" \
HEIMDALL_DATA_DIR="$DIR" HEIMDALL_ROOT_KEY="$ROOT" HEIMDALL_LOG=warn \
  target/release/heimdall > "$DIR/out.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 50); do curl -sf "$H/healthz" >/dev/null && break; sleep 0.2; done

json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
post() { curl -sf -X POST "$H$1" -H "Authorization: Bearer $ROOT" -H 'Content-Type: application/json' -d "$2"; }

for alg in ES256 EdDSA RS256; do
  slug="bench-$(echo "$alg" | tr 'A-Z' 'a-z')"
  post /v1/apps "{\"name\": \"$slug\", \"settings\": {\"signing_alg\": \"$alg\"}}" >/dev/null
  client=$(post "/v1/apps/$slug/m2m-clients" '{"name": "bench", "scopes": ["invoice.read", "report:*"]}')
  id=$(echo "$client" | json '["data"]["client_id"]')
  secret=$(echo "$client" | json '["data"]["client_secret"]')
  echo "== client_credentials, $alg"
  BODY="grant_type=client_credentials&client_id=$id&client_secret=$secret" \
  CONTENT_TYPE=application/x-www-form-urlencoded \
    wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s bench/post.lua "$H/$slug/v1/oauth/token" \
    | grep -E "Requests/sec|50%|99%|Non-2xx"
done

# An end user with a role, for /authorize and introspection.
post /v1/apps/bench-es256/roles '{"name": "billing", "permissions": ["invoice.read", "invoice.create"]}' >/dev/null
post /v1/apps/bench-es256/users '{"email": "bench@example.com", "password": "correct horse battery", "role": "billing"}' >/dev/null
TOKEN=$(curl -sf -X POST "$H/bench-es256/v1/auth/signin" -H 'Content-Type: application/json' \
  -d '{"email": "bench@example.com", "password": "correct horse battery"}' | json '["access_token"]')

echo "== /authorize (end user, ES256)"
BODY='{"permissions": ["invoice.read", "invoice.create"]}' TOKEN="$TOKEN" \
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s bench/post.lua "$H/bench-es256/v1/authorize" \
  | grep -E "Requests/sec|50%|99%|Non-2xx"
echo "== introspection (end user, ES256)"
BODY='' TOKEN="$TOKEN" \
  wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency -s bench/post.lua "$H/bench-es256/v1/oauth/introspect" \
  | grep -E "Requests/sec|50%|99%|Non-2xx"
echo "== JWKS"
wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency "$H/bench-rs256/v1/.well-known/jwks.json" \
  | grep -E "Requests/sec|50%|99%|Non-2xx"
