#!/usr/bin/env python3
"""Side-by-side benchmark of Heimdall's hot paths against node oidc-provider.

Each server is pinned to one core (`taskset -c 0`, so Heimdall runs one tokio worker)
and `wrk -t1 -c64` to the other; token pools of distinct tokens are used where a
cache could otherwise make one token look fast. Heimdall runs on SQLite and, when a
PostgreSQL server is reachable, on PostgreSQL too. Prints one Markdown table with the
date, the machine and the ratios; docs/src/benchmarks.md shows only what this prints.

Every measurement follows a warm-up of the same request mix on the same server
(BENCH_WARMUP seconds, not counted), for Heimdall and the peer alike: the targets are
steady-state ones (caches filled, node's JIT warm), not the first second of a cold pool.

Usage: bench/compare.py            (BENCH_SECONDS=15 BENCH_WARMUP=3 BENCH_CONNECTIONS=64 BENCH_TOKENS=2000)
Needs: taskset (util-linux), wrk, node + npm, curl-free (stdlib HTTP), psql for PostgreSQL.
"""

import datetime
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, "bench")
SECONDS = int(os.environ.get("BENCH_SECONDS", "15"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "3"))
POOL = int(os.environ.get("BENCH_TOKENS", "2000"))
SERVER_CPU, LOAD_CPU = "0", "1"
PEER_VERSION = "9.13.3"
ROOT_KEY = "hm_root_benchbenchbenchbenchbenchbenchbenchbench00"
PEER_SECRET = "bench-secret-bench-secret-bench-secret"
PG = os.environ.get("HEIMDALL_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")

TARGETS = {
    "cc_es256": 15_000,
    "cc_eddsa": 15_000,
    "introspect": 30_000,
    "authorize": 30_000,
    "jwks": 40_000,
}


def need(tool):
    if shutil.which(tool) is None:
        sys.exit(f"bench/compare.py needs `{tool}` (Debian: apt-get install {tool})")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, token=None, form=False):
    data, headers = None, {}
    if body is not None:
        if form:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, (json.loads(text) if text else None)


def wait_up(url, process):
    for _ in range(200):
        if process.poll() is not None:
            sys.exit(f"server exited early ({url})")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except Exception:
            time.sleep(0.1)
    sys.exit(f"server did not come up: {url}")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def wrk(url, script=None, env=None):
    def run(seconds):
        cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
        if script:
            cmd += ["-s", os.path.join(BENCH, script)]
        cmd.append(url)
        return subprocess.run(cmd, env={**os.environ, **(env or {})}, capture_output=True, text=True, check=True).stdout
    if WARMUP > 0:
        run(WARMUP)
    out = run(SECONDS)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    value, unit = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", out).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {"rps": rps, "p99": p99, "non2xx": int(bad.group(1)) if bad else 0, "socket": errors.group(0) if errors else ""}


def tokens_file(tokens):
    f = tempfile.NamedTemporaryFile("w", delete=False, suffix=".tokens")
    f.write("\n".join(tokens) + "\n")
    f.close()
    return f.name


def heimdall(database_url, label):
    """Starts a release Heimdall pinned to SERVER_CPU on `database_url` and runs every path."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = tempfile.mkdtemp(prefix="heimdall-bench-")
    env = {
        **os.environ,
        "HEIMDALL_BIND": f"127.0.0.1:{port}",
        "HEIMDALL_DATABASE_URL": database_url,
        "HEIMDALL_DATA_DIR": data,
        "HEIMDALL_ROOT_KEY": ROOT_KEY,
        "HEIMDALL_LOG": "warn",
        # Sign-ins only fill the token pool; the measured paths never hash passwords.
        "HEIMDALL_PASSWORD_HASH__MEMORY_KIB": "256",
        "HEIMDALL_PASSWORD_HASH__ITERATIONS": "1",
    }
    server = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, os.path.join(ROOT, "target/release/heimdall")],
        env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(data, "server.log"), "w"),
    )
    results = {}
    try:
        wait_up(f"{base}/healthz", server)
        clients = {}
        for alg in ("ES256", "EdDSA", "RS256"):
            slug = f"bench-{alg.lower()}"
            status, _ = http("POST", f"{base}/v1/apps", {"name": slug, "settings": {"signing_alg": alg}}, ROOT_KEY)
            assert status == 201, status
            status, client = http("POST", f"{base}/v1/apps/{slug}/m2m-clients",
                                  {"name": "bench", "scopes": ["invoice.read", "report:*"]}, ROOT_KEY)
            assert status == 201, (status, client)
            clients[alg] = (slug, client["data"]["client_id"], client["data"]["client_secret"])
        results["rss_idle"] = rss_mib(server.pid)
        for alg, key in (("ES256", "cc_es256"), ("EdDSA", "cc_eddsa"), ("RS256", "cc_rs256")):
            slug, cid, secret = clients[alg]
            results[key] = wrk(
                f"{base}/{slug}/v1/oauth/token", "post.lua",
                {"BODY": f"grant_type=client_credentials&client_id={cid}&client_secret={secret}",
                 "CONTENT_TYPE": "application/x-www-form-urlencoded"},
            )
        slug, cid, secret = clients["ES256"]
        machine = []
        for _ in range(POOL):
            status, answer = http("POST", f"{base}/{slug}/v1/oauth/token",
                                  {"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}, form=True)
            assert status == 200, (status, answer)
            machine.append(answer["access_token"])
        pool = tokens_file(machine)
        results["introspect"] = wrk(f"{base}/{slug}/v1/oauth/introspect", "pool.lua",
                                    {"TOKENS_FILE": pool, "BODY": "", "CONTENT_TYPE": "application/x-www-form-urlencoded"})
        http("POST", f"{base}/v1/apps/{slug}/roles", {"name": "billing", "permissions": ["invoice.read", "invoice.create"]}, ROOT_KEY)
        http("POST", f"{base}/v1/apps/{slug}/users",
             {"email": "bench@example.com", "password": "correct horse battery", "role": "billing"}, ROOT_KEY)
        users = []
        for _ in range(POOL):
            status, answer = http("POST", f"{base}/{slug}/v1/auth/signin",
                                  {"email": "bench@example.com", "password": "correct horse battery"})
            assert status == 200, (status, answer)
            users.append(answer["access_token"])
        pool = tokens_file(users)
        results["authorize"] = wrk(f"{base}/{slug}/v1/authorize", "pool.lua",
                                   {"TOKENS_FILE": pool, "BODY": json.dumps({"permissions": ["invoice.read", "invoice.create"]})})
        results["jwks"] = wrk(f"{base}/bench-es256/v1/.well-known/jwks.json", "get.lua")
        results["rss_loaded"] = rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(data, ignore_errors=True)
    print(f"  {label}: done", file=sys.stderr)
    return results


def peer():
    """node oidc-provider pinned to SERVER_CPU: client credentials (JWT ES256),
    introspection of distinct opaque tokens, JWKS."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, "node", os.path.join(BENCH, "peer/server.mjs"), str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "NODE_ENV": "production"},
    )
    results = {}
    try:
        wait_up(f"{base}/.well-known/openid-configuration", server)
        results["rss_idle"] = rss_mib(server.pid)
        body = f"grant_type=client_credentials&client_id=bench&client_secret={PEER_SECRET}&scope=invoice.read"
        results["cc_es256"] = wrk(f"{base}/token", "post.lua",
                                  {"BODY": body, "CONTENT_TYPE": "application/x-www-form-urlencoded"})
        opaque = []
        for _ in range(POOL):
            status, answer = http("POST", f"{base}/token",
                                  {"grant_type": "client_credentials", "client_id": "bench", "client_secret": PEER_SECRET,
                                   "scope": "invoice.read", "resource": "urn:bench:opaque"}, form=True)
            assert status == 200, (status, answer)
            opaque.append(answer["access_token"])
        pool = tokens_file(opaque)
        results["introspect"] = wrk(f"{base}/token/introspection", "pool.lua",
                                    {"TOKENS_FILE": pool, "POOL_MODE": "form",
                                     "BODY": f"client_id=bench&client_secret={PEER_SECRET}",
                                     "CONTENT_TYPE": "application/x-www-form-urlencoded"})
        results["jwks"] = wrk(f"{base}/jwks", "get.lua")
        results["rss_loaded"] = rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait()
    print("  oidc-provider: done", file=sys.stderr)
    return results


def postgres_database():
    """A fresh database on the benchmark's PostgreSQL server, or None."""
    if shutil.which("psql") is None:
        return None
    name = f"heimdall_bench_{uuid.uuid4().hex[:12]}"
    made = subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], capture_output=True)
    return f"{PG}/{name}" if made.returncode == 0 else None


def drop_postgres(url):
    name = url.rsplit("/", 1)[1]
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True)


def cell(result):
    if not result:
        return "—"
    note = f", {result['non2xx']} non-2xx" if result["non2xx"] else ""
    return f"{result['rps']:,.0f}/s (p99 {result['p99']:.1f} ms{note})"


def main():
    for tool in ("taskset", "wrk", "node", "npm", "cargo"):
        need(tool)
    print("building (release) and installing the peer …", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=os.path.join(BENCH, "peer"), check=True)
    sqlite_dir = tempfile.mkdtemp(prefix="heimdall-bench-db-")
    sqlite = heimdall(f"sqlite://{sqlite_dir}/bench.db?mode=rwc", "Heimdall, SQLite")
    shutil.rmtree(sqlite_dir, ignore_errors=True)
    pg_url = postgres_database()
    postgres = None
    if pg_url:
        try:
            postgres = heimdall(pg_url, "Heimdall, PostgreSQL")
        finally:
            drop_postgres(pg_url)
    node = peer()

    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    print(f"\n{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} cores, {cpu} · "
          f"{platform.system()} {platform.release()} · Heimdall {rev} (release) · oidc-provider {PEER_VERSION} on node {node_version}")
    print(f"server pinned to core {SERVER_CPU}, `wrk -t1 -c{CONNECTIONS} -d{SECONDS}s` pinned to core {LOAD_CPU}; "
          f"pools of {POOL} distinct tokens for introspection and /authorize; each after a {WARMUP} s warm-up\n")
    rows = [
        ("`oauth/token` client_credentials, JWT ES256", "cc_es256"),
        ("`oauth/token` client_credentials, JWT EdDSA", "cc_eddsa"),
        ("`oauth/token` client_credentials, JWT RS256", "cc_rs256"),
        (f"introspection, {POOL} distinct tokens (peer: opaque)", "introspect"),
        (f"`/authorize`, {POOL} distinct end-user tokens", "authorize"),
        ("JWKS", "jwks"),
    ]
    print(f"| path | Heimdall (SQLite) | Heimdall (PostgreSQL) | oidc-provider {PEER_VERSION} | Heimdall / peer | target |")
    print("|---|---|---|---|---|---|")
    for title, key in rows:
        ours, theirs = sqlite.get(key), node.get(key)
        ratio = f"{ours['rps'] / theirs['rps']:.1f}×" if ours and theirs else "—"
        target = TARGETS.get(key)
        met = ""
        if target:
            ok = ours["rps"] >= target and ours["p99"] < 10 and not ours["non2xx"]
            met = f"≥ {target:,}/s, p99 < 10 ms: {'met' if ok else 'NOT met'}"
        print(f"| {title} | {cell(ours)} | {cell(postgres.get(key) if postgres else None)} | {cell(theirs)} | {ratio} | {met} |")
    print(f"| RSS idle → after load | {sqlite['rss_idle']:.0f} → {sqlite['rss_loaded']:.0f} MiB | "
          + (f"{postgres['rss_idle']:.0f} → {postgres['rss_loaded']:.0f} MiB" if postgres else "—")
          + f" | {node['rss_idle']:.0f} → {node['rss_loaded']:.0f} MiB | | |")


if __name__ == "__main__":
    main()
