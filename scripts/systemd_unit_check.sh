#!/usr/bin/env bash
# Checks deploy/heimdall.service with systemd's own tools
# (docs/src/production.md#the-systemd-unit): `systemd-analyze verify` (the unit
# parses, its directives exist, ExecStart runs a binary) and `systemd-analyze
# security --offline` (the hardening: exposure at most 2.0 of 10; --threshold counts
# in tenths). Uses target/debug/heimdall as the ExecStart binary; systemd need not be
# running. Skips when systemd-analyze is missing, except under CI=true.
set -euo pipefail
cd "$(dirname "$0")/.."
skip() {
  if [ "${CI:-}" = "true" ]; then echo "FAIL: $1" >&2; exit 1; fi
  echo "SKIPPED: $1"; exit 0
}
command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed (apt-get install systemd)"
[ -x target/debug/heimdall ] || cargo test --quiet --no-run --test api
DIR=$(mktemp -d); trap 'rm -rf "$DIR"' EXIT
sed "s#/usr/local/bin/heimdall#$PWD/target/debug/heimdall#g" deploy/heimdall.service > "$DIR/heimdall.service"
out=$(systemd-analyze verify "$DIR/heimdall.service" 2>&1) || { echo "$out" >&2; exit 1; }
[ -z "$out" ] || { echo "systemd-analyze verify: $out" >&2; exit 1; }
systemd-analyze security --offline=true --threshold=20 "$DIR/heimdall.service" | tail -n 1
echo "heimdall.service: verified"
