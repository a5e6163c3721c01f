#!/usr/bin/env bash
# Where the time of one hot path goes: builds the `profiling` profile (release
# optimisation with symbols), starts it pinned to core 0 on SQLite, loads
# client_credentials (ES256) with wrk on core 1, and records it with perf.
# Usage: bench/profile.sh [seconds, default 8]   (needs perf, wrk, taskset)
# Prints the requests/s and the top symbols; the full record is in target/profile/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-8}"
for tool in perf wrk taskset curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
cargo build --profile profiling --quiet --bin heimdall
OUT=target/profile; mkdir -p "$OUT"
DIR="$(mktemp -d)"; PORT=18190; H="http://127.0.0.1:$PORT"
ROOT="hm_root_profileprofileprofileprofileprofile000"
HEIMDALL_BIND="127.0.0.1:$PORT" HEIMDALL_DATABASE_URL="sqlite://$DIR/p.db?mode=rwc" \
HEIMDALL_DATA_DIR="$DIR" HEIMDALL_ROOT_KEY="$ROOT" HEIMDALL_LOG=warn \
  taskset -c 0 target/profiling/heimdall > "$DIR/out.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf "$H/healthz" >/dev/null && break; sleep 0.1; done
post() { curl -sf -X POST "$H$1" -H "Authorization: Bearer $ROOT" -H 'Content-Type: application/json' -d "$2"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
post /v1/apps '{"name": "prof", "settings": {"signing_alg": "ES256"}}' >/dev/null
client=$(post /v1/apps/prof/m2m-clients '{"name": "bench", "scopes": ["invoice.read"]}')
id=$(echo "$client" | json '["data"]["client_id"]')
secret=$(echo "$client" | json '["data"]["client_secret"]')
export BODY="grant_type=client_credentials&client_id=$id&client_secret=$secret"
export CONTENT_TYPE=application/x-www-form-urlencoded
# Warm up, then load and record at once.
taskset -c 1 wrk -t1 -c64 -d3s -s bench/post.lua "$H/prof/v1/oauth/token" >/dev/null
taskset -c 1 wrk -t1 -c64 -d"$((SECS + 2))s" --latency -s bench/post.lua "$H/prof/v1/oauth/token" > "$OUT/wrk.txt" &
LOAD=$!
sleep 1
# PROFILE_CALLGRAPH=1 records call stacks too (DWARF unwinding: large files).
GRAPH=(); [ "${PROFILE_CALLGRAPH:-0}" = 1 ] && GRAPH=(--call-graph dwarf,16384)
perf record -F 1999 "${GRAPH[@]}" -p "$SERVER" -o "$OUT/perf.data" -- sleep "$SECS" 2>/dev/null >/dev/null
wait $LOAD
grep -E "Requests/sec|50%|99%|Non-2xx" "$OUT/wrk.txt"
perf report -i "$OUT/perf.data" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v "^#" | grep -v "^$" | grep "%" | head -60
