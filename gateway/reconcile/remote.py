"""`scim-gateway reconcile --url URL --tenant T --app A`: start a run on a running gateway and follow it.

The admin API does the work (POST starts the run on the replica that takes the lease, GET reads the last
run); this polls until the run it started has ended and prints the same summary as the in-process command.
Exit status as there: 0 succeeded, 1 failed (or the gateway refused), 3 a run is in progress elsewhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TextIO

from gateway.admin.remote import AdminCallFailed, RemoteAdmin

POLL_EVERY = 1.0


def remote_reconcile(
    admin: RemoteAdmin,
    app: str,
    show: int,
    out: TextIO,
    err: TextIO,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Start a run of `app` and wait for it; returns the exit status."""
    try:
        started = admin.start_reconcile(app)
    except AdminCallFailed as exc:
        if "409" in str(exc):
            print(f"reconcile: {app} is being reconciled already (another replica holds the lease)", file=err)
            return 3
        print(f"reconcile: {exc}", file=err)
        return 1
    run_id = started["run"]["id"]
    while True:
        try:
            results = admin.reconcile_results(app, show)
        except AdminCallFailed as exc:
            print(f"reconcile: {exc}", file=err)
            return 1
        finished = results.get("finished_run")
        if finished is not None and finished["id"] == run_id:
            out.write(_summary(app, finished, results["findings"]))
            if finished["detail"]:
                print(f"reconcile: the run failed: {finished['detail']}", file=err)
            return 0 if finished["status"] == "succeeded" else 1
        running = results.get("run") or {}
        print(f"\r{app}: {running.get('accounts', 0):,} accounts read", end="", file=err, flush=True)
        sleep(POLL_EVERY)


def _summary(app: str, run: dict[str, Any], findings: list[dict[str, Any]]) -> str:
    lines = [f"{app}: {run['status']}, {run['accounts']:,} accounts at the vendor", ""]
    lines += [f"  {state:<12} {count:,}" for state, count in run["counts"].items()]
    if findings:
        lines += ["", f"findings (first {len(findings)}):"]
        lines += [f"  {f['state']:<12} {f['vendorId']}  {f.get('userName') or ''}" for f in findings]
    return "\n".join(lines) + "\n"
