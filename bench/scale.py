#!/usr/bin/env python3
"""Heimdall at scale: the same operations against one busy app on an empty database
and on one filled by `heimdall dev seed` (by default 10,000 apps, 1,000,000 users,
100,000 tenants, 5,000,000 audit entries), on SQLite and, when reachable, on
PostgreSQL. The two servers of a database kind run side by side and take turns, so
that the machine's ups and downs fall on both. Prints the median latency of each and
the ratio seeded / empty; the target is at most 1.5x. docs/src/benchmarks.md shows only what this prints.

Usage: bench/scale.py   (SCALE_APPS, SCALE_USERS, SCALE_TENANTS, SCALE_AUDIT,
                         SCALE_SAMPLES=200 to change the amounts,
                         SCALE_BACKENDS=PostgreSQL or SQLite for one of them)
"""

import datetime
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target/release/heimdall")
ROOT_KEY = "hm_root_scalescalescalescalescalescalescalescale0"
PG = os.environ.get("HEIMDALL_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
SAMPLES = int(os.environ.get("SCALE_SAMPLES", "200"))
AMOUNTS = {
    "apps": os.environ.get("SCALE_APPS", "10000"),
    "users": os.environ.get("SCALE_USERS", "1000000"),
    "tenants": os.environ.get("SCALE_TENANTS", "100000"),
    "audit": os.environ.get("SCALE_AUDIT", "5000000"),
}
PASSWORD = "correct horse battery"
PAGE = 50
# Turns each server takes per operation (SAMPLES split among them).
ROUNDS = 10


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
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read()
            return response.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as e:
        text = e.read()
        return e.code, (json.loads(text) if text else None)


def env_for(database_url, data, port):
    return {
        **os.environ,
        "HEIMDALL_BIND": f"127.0.0.1:{port}",
        "HEIMDALL_DATABASE_URL": database_url,
        "HEIMDALL_DATA_DIR": data,
        "HEIMDALL_ROOT_KEY": ROOT_KEY,
        "HEIMDALL_LOG": "warn",
        # Sign-in latency here is about queries, not argon2.
        "HEIMDALL_PASSWORD_HASH__MEMORY_KIB": "256",
        "HEIMDALL_PASSWORD_HASH__ITERATIONS": "1",
    }


def stamp(at):
    """RFC 3339 with milliseconds, UTC."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


def timed(samples, call):
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        status = call()
        times.append((time.perf_counter() - started) * 1000)
        assert 200 <= status < 300, status
    return times


def start(database_url, seeded):
    """Seeds a database, starts a server on it and prepares the operations.
    Answers (operations, marks, stop); `marks` holds when each operation first
    started and last finished on this server."""
    data = tempfile.mkdtemp(prefix="heimdall-scale-")
    port = free_port()
    env = env_for(database_url, data, port)
    # The baseline holds only the busy app with enough users for a 1,000th page.
    # Its users belong to tenants as the seeded busy app's do (one tenant for every
    # ten users, three members each, the first users first), so that the GraphQL
    # connection answers the same shape on both: a page of users with a tenant each.
    baseline_users = PAGE * 1000 + PAGE
    amounts = AMOUNTS if seeded else {"apps": "1", "users": str(baseline_users),
                                      "tenants": str(baseline_users // 10), "audit": "0"}
    share = [] if seeded else ["--busy-share", "1"]
    started = time.time()
    subprocess.run([BIN, "dev", "seed", *sum(([f"--{k}", v] for k, v in amounts.items()), []), *share],
                   env={**env, "HEIMDALL_LOG": "info"}, check=True, stdout=subprocess.DEVNULL)
    print(f"  seeded in {time.time() - started:.0f} s", file=sys.stderr)
    server = subprocess.Popen([BIN], env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(data, "log"), "w"))
    base = f"http://127.0.0.1:{port}"

    def stop():
        server.terminate()
        server.wait()
        shutil.rmtree(data, ignore_errors=True)

    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
        http("POST", f"{base}/v1/apps/busy/roles", {"name": "scale", "permissions": ["invoice.read"]}, ROOT_KEY)
        status, user = http("POST", f"{base}/v1/apps/busy/users",
                            {"email": "scale@example.com", "password": PASSWORD, "role": "scale"}, ROOT_KEY)
        assert status == 201, (status, user)
        status, client = http("POST", f"{base}/v1/apps/busy/m2m-clients", {"name": "scale", "scopes": ["invoice.read"]}, ROOT_KEY)
        assert status == 201, (status, client)
        cid, secret = client["data"]["client_id"], client["data"]["client_secret"]
        status, signin = http("POST", f"{base}/busy/v1/auth/signin", {"email": "scale@example.com", "password": PASSWORD})
        assert status == 200, (status, signin)
        token = signin["access_token"]
        user_id = user["data"]["id"]
        # The cursor of the 1,000th page.
        cursor, page = None, 0
        while page < 999:
            query = f"?limit={PAGE}" + (f"&cursor={cursor}" if cursor else "")
            _, listed = http("GET", f"{base}/v1/apps/busy/users{query}", token=ROOT_KEY)
            cursor, page = listed["next_cursor"], page + 1
        deep = cursor
        gql = {"query": '{ users(app: "busy", first: 50) { edges { node { email role { name permissions } tenants { role } } } } }'}
        # When each operation ran: the time window is the one of the sign-ins above,
        # so both databases hold the same entries in it (the run's own), and the
        # seeded one millions more before and after it.
        marks = {}

        def window():
            since, until = marks["sign-in"]
            return f"since={stamp(since)}&until={stamp(until)}"
        ops = {
            "sign-in": lambda: http("POST", f"{base}/busy/v1/auth/signin", {"email": "scale@example.com", "password": PASSWORD})[0],
            "client_credentials": lambda: http("POST", f"{base}/busy/v1/oauth/token",
                                               {"grant_type": "client_credentials", "client_id": cid, "client_secret": secret}, form=True)[0],
            "/authorize": lambda: http("POST", f"{base}/busy/v1/authorize", {"permission": "invoice.read"}, token)[0],
            "users, first page": lambda: http("GET", f"{base}/v1/apps/busy/users?limit={PAGE}", token=ROOT_KEY)[0],
            "users, 1,000th page (cursor)": lambda: http("GET", f"{base}/v1/apps/busy/users?limit={PAGE}&cursor={deep}", token=ROOT_KEY)[0],
            "users by email": lambda: http("GET", f"{base}/v1/apps/busy/users?email=user7@seed.example", token=ROOT_KEY)[0],
            "audit log, newest page": lambda: http("GET", f"{base}/v1/apps/busy/audit-log?limit=50", token=ROOT_KEY)[0],
            "audit log, action filter": lambda: http("GET", f"{base}/v1/apps/busy/audit-log?action=user.signed_in&limit=50", token=ROOT_KEY)[0],
            "audit log, actor filter": lambda: http("GET", f"{base}/v1/apps/busy/audit-log?actor_id={user_id}", token=ROOT_KEY)[0],
            "audit log, time window": lambda: http("GET", f"{base}/v1/apps/busy/audit-log?{window()}&limit=50", token=ROOT_KEY)[0],
            "GraphQL users with roles": lambda: http("POST", f"{base}/graphql", gql, ROOT_KEY)[0],
        }
        return ops, marks, stop
    except BaseException:
        stop()
        raise


def measure(empty_url, seeded_url):
    """Both servers run side by side and take turns, ROUNDS turns per operation,
    so that what the machine does meanwhile (frequency, neighbours) falls on both
    alike. Answers the median per operation for each."""
    servers = []
    try:
        for url, seeded in ((empty_url, False), (seeded_url, True)):
            print(f"  {'seeded' if seeded else 'empty'} …", file=sys.stderr)
            servers.append(start(url, seeded))
        results = ({}, {})
        first_ops = servers[0][0]
        for name in first_ops:
            times = ([], [])
            for _ in range(ROUNDS):
                for i, (ops, marks, _) in enumerate(servers):
                    started_at = datetime.datetime.now(datetime.timezone.utc)
                    times[i].extend(timed(SAMPLES // ROUNDS, ops[name]))
                    ended_at = datetime.datetime.now(datetime.timezone.utc)
                    marks[name] = (marks.get(name, (started_at,))[0], ended_at)
            for i in (0, 1):
                results[i][name] = statistics.median(times[i])
            print(f"    {name}: {results[0][name]:.2f} → {results[1][name]:.2f} ms", file=sys.stderr)
        return results
    finally:
        for _, _, stop in servers:
            stop()


def pg_database():
    if shutil.which("psql") is None:
        return None
    name = f"heimdall_scale_{uuid.uuid4().hex[:12]}"
    made = subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], capture_output=True)
    return (f"{PG}/{name}", name) if made.returncode == 0 else None


def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    results = {}
    backends = os.environ.get("SCALE_BACKENDS", "SQLite,PostgreSQL").split(",")
    for backend in ("SQLite", "PostgreSQL"):
        if backend not in backends:
            continue
        urls, cleanups = [], []
        try:
            for _ in (False, True):
                if backend == "SQLite":
                    folder = tempfile.mkdtemp(prefix="heimdall-scale-db-")
                    urls.append(f"sqlite://{folder}/scale.db?mode=rwc")
                    cleanups.append(lambda f=folder: shutil.rmtree(f, ignore_errors=True))
                else:
                    made = pg_database()
                    if not made:
                        break
                    url, name = made
                    urls.append(url)
                    cleanups.append(lambda n=name: subprocess.run(
                        ["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {n} WITH (FORCE)"],
                        capture_output=True))
            if len(urls) < 2:
                print(f"{backend} not reachable: skipped", file=sys.stderr)
                continue
            print(f"{backend} …", file=sys.stderr)
            # Progress goes to stderr as it comes, so a run cut short shows what it measured.
            empty, full = measure(*urls)
            results[(backend, False)], results[(backend, True)] = empty, full
        finally:
            for cleanup in cleanups:
                cleanup()
    print(f"\n{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC · {os.cpu_count()} cores · seeded with "
          + ", ".join(f"{v} {k}" for k, v in AMOUNTS.items())
          + f" · median of {SAMPLES} sequential requests against the app `busy`, the two servers taking turns\n")
    print("| operation | SQLite empty | SQLite seeded | ratio | PostgreSQL empty | PostgreSQL seeded | ratio |")
    print("|---|---|---|---|---|---|---|")
    worst = 0.0
    for op in next(iter(results.values())):
        cells = []
        for backend in ("SQLite", "PostgreSQL"):
            empty, full = results.get((backend, False)), results.get((backend, True))
            if empty and full:
                ratio = full[op] / empty[op]
                worst = max(worst, ratio)
                cells += [f"{empty[op]:.2f} ms", f"{full[op]:.2f} ms", f"{ratio:.2f}×"]
            else:
                cells += ["—", "—", "—"]
        print(f"| {op} | " + " | ".join(cells) + " |")
    print(f"\nworst ratio {worst:.2f}× (target ≤ 1.5×): {'met' if worst <= 1.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
