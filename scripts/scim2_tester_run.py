"""Runs scim2-tester (the python-scim project's RFC 7643/7644 checker), unmodified,
against a live Heimdall's SCIM service: `python scim2_tester_run.py BASE_URL TOKEN`.
Exits non-zero when any check fails (docs/src/importing-users-and-scim.md)."""

import sys

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server


def main() -> int:
    base_url, token = sys.argv[1], sys.argv[2]
    http = Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"})
    client = SyncSCIMClient(http)
    results = check_server(client)
    failed = [r for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
    for r in results:
        mark = "FAIL" if r in failed else "ok  "
        print(f"{mark} {r.status.name:8} {r.title}" + (f" — {r.reason}" if r in failed else ""))
    print(f"{len(results) - len(failed)} passed or skipped, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
