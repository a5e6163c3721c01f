#!/usr/bin/env bash
# Prints the size of the release binary and the resident memory (RSS) of an idle
# Heimdall on SQLite (docs/src/production.md#binary-size-and-memory).
#   scripts/size_report.sh            builds the release profile first (slow: fat LTO)
#   scripts/size_report.sh BINARY     measures that binary instead (e.g. target/debug/heimdall)
# Linux only (reads /proc). Nothing is written outside a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-}"
if [ -z "$BIN" ]; then
  cargo build --release --locked --bin heimdall
  BIN=target/release/heimdall
fi
[ -x "$BIN" ] || { echo "no executable at $BIN" >&2; exit 1; }
[ -r /proc/self/status ] || { echo "RSS is read from /proc: Linux only" >&2; exit 1; }

DIR=$(mktemp -d)
PORT="${SIZE_REPORT_PORT:-18095}"
HEIMDALL_BIND="127.0.0.1:$PORT" HEIMDALL_DATABASE_URL="sqlite://$DIR/h.db?mode=rwc" \
  HEIMDALL_DATA_DIR="$DIR" HEIMDALL_LOG=warn "$BIN" >"$DIR/log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { cat "$DIR/log" >&2; exit 1; }
# Idle: migrated, background loops started, a few requests served, then quiet.
for _ in $(seq 1 20); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; done
sleep 3
rss_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$PID/status")
hwm_kib=$(awk '/^VmHWM:/ {print $2}' "/proc/$PID/status")
size=$(stat -c %s "$BIN")
awk -v b="$size" -v r="$rss_kib" -v h="$hwm_kib" -v bin="$BIN" 'BEGIN {
  printf "binary      %s\n", bin
  printf "size        %d bytes (%.1f MiB)\n", b, b / 1048576
  printf "idle RSS    %d KiB (%.1f MiB)\n", r, r / 1024
  printf "peak RSS    %d KiB (%.1f MiB) since start\n", h, h / 1024
}'
