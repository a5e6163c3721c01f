#!/usr/bin/env bash
# Instructions per request (callgrind), for comparing two builds on a machine whose
# speed varies from run to run (shared cores): unlike requests/s, the count barely
# moves between runs. For each path, the server runs under valgrind twice, serving
# 200 and 1,200 requests (8 keep-alive connections, after 200 to warm up); the
# difference over 1,000 requests leaves startup out.
# Usage: bench/instructions.sh [binary, default target/profiling/heimdall]
#        (PATHS="cc authorize healthz"; needs valgrind, curl, python3)
# Figures are for comparing builds on one machine; valgrind's CPU model makes
# aws-lc pick other code than on the real CPU, so they are not a profile of it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-target/profiling/heimdall}"
for tool in valgrind callgrind_control curl python3; do
  command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "$BIN not found (cargo build --profile profiling)" >&2; exit 1; }

# Runs the server under callgrind, serves N requests of one path, prints the
# instructions counted since the warm-up.
count() {
  local path="$1" n="$2"
  local dir; dir="$(mktemp -d)"
  local port=18194 h="http://127.0.0.1:18194"
  local root="hm_root_instructionsinstructionsinstructions0"
  HEIMDALL_BIND="127.0.0.1:$port" HEIMDALL_DATABASE_URL="sqlite://$dir/p.db?mode=rwc" \
  HEIMDALL_DATA_DIR="$dir" HEIMDALL_ROOT_KEY="$root" HEIMDALL_LOG=warn \
  HEIMDALL_PASSWORD_HASH__MEMORY_KIB=256 HEIMDALL_PASSWORD_HASH__ITERATIONS=1 \
    valgrind --tool=callgrind --callgrind-out-file="$dir/cg.%p" "$BIN" > "$dir/out.log" 2>&1 &
  local server=$!
  for _ in $(seq 1 600); do curl -sf "$h/healthz" >/dev/null && break; sleep 0.2; done
  python3 - "$h" "$root" "$path" "$n" "$server" <<'PY'
import json, socket, subprocess, sys, urllib.request
base, root, path, n, pid = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
port = int(base.rsplit(":", 1)[1])

def call(method, url, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + url, json.dumps(body).encode(), headers, method=method)
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read())

call("POST", "/v1/apps", {"name": "bench", "settings": {"signing_alg": "ES256"}}, root)
client = call("POST", "/v1/apps/bench/m2m-clients", {"name": "bench", "scopes": ["invoice.read"]}, root)["data"]
call("POST", "/v1/apps/bench/roles", {"name": "reader", "permissions": ["invoice.read"]}, root)
call("POST", "/v1/apps/bench/users", {"email": "bench@example.com", "password": "correct horse battery", "role": "reader"}, root)
token = call("POST", "/bench/v1/auth/signin", {"email": "bench@example.com", "password": "correct horse battery"})["access_token"]

def post(target, content_type, body, bearer=None):
    auth = f"Authorization: Bearer {bearer}\r\n".encode() if bearer else b""
    return (f"POST {target} HTTP/1.1\r\nHost: bench\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n").encode() + auth + b"\r\n" + body

requests = {
    "cc": post("/bench/v1/oauth/token", "application/x-www-form-urlencoded",
               f"grant_type=client_credentials&client_id={client['client_id']}&client_secret={client['client_secret']}".encode()),
    "authorize": post("/bench/v1/authorize", "application/json", b'{"permission": "invoice.read"}', token),
    "healthz": b"GET /healthz HTTP/1.1\r\nHost: bench\r\n\r\n",
}
request = requests[path]

def serve(count, connections=8):
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(connections)]
    done = 0
    while done < count:
        for s in socks:
            s.sendall(request)
        for s in socks:
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += s.recv(65536)
            head, rest = buf.split(b"\r\n\r\n", 1)
            assert head.startswith(b"HTTP/1.1 200"), head[:200]
            length = next(int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length"))
            while len(rest) < length:
                rest += s.recv(65536)
        done += connections
    for s in socks:
        s.close()

serve(200)
subprocess.run(["callgrind_control", "-z", pid], check=True, capture_output=True)
serve(n)
subprocess.run(["callgrind_control", "-d", "measured", pid], check=True, capture_output=True)
PY
  kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true
  grep -h "^totals:" "$dir"/cg.*.1 | awk '{print $2}'
  rm -rf "$dir"
}

echo "$(date -u '+%Y-%m-%d %H:%M') UTC · $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs) · $BIN ($(git rev-parse --short HEAD))"
echo "| path | instructions per request |"
echo "|---|---|"
for path in ${PATHS:-cc authorize healthz}; do
  small=$(count "$path" 200)
  large=$(count "$path" 1200)
  echo "| $path | $(( (large - small) / 1000 )) |"
done
