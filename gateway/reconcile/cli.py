"""`scim-gateway reconcile --config FILE --tenant T --app A` (parsed in gateway/cli.py): one run, in this process.

The same service the gateway runs (gateway/reconcile/reconciler.py), under the same database lease, so it
is safe beside running replicas: if one of them is reconciling the app, the command says so and exits 3.
A progress line on stderr while it runs; then a summary table (accounts by state, how many are new) and
the first findings on stdout. Exit status: 0 the run succeeded, 1 it failed (the reason is printed), 2 the
app cannot be reconciled, 3 another run of the app is in progress.
"""

from __future__ import annotations

import time
from typing import TextIO

from scim2_models import SCIMException

from gateway import gateway_version
from gateway.config import GatewayConfig
from gateway.directory.errors import DirectoryError
from gateway.directory.findings import Finding, FindingState, Run
from gateway.directory.store import open_directory
from gateway.reconcile.reconciler import Reconciler
from gateway.reconcile.run import Progress
from gateway.reconcile.service import reconcilable
from gateway.runtime import build_runtime


async def reconcile_command(config: GatewayConfig, tenant: str, app: str, show: int, out: TextIO, err: TextIO) -> int:
    """Run one reconciliation of `tenant`/`app`; returns the exit status (see the module docstring)."""
    if config.directory is None:
        print("reconcile: the config has no directory section (reconciliation compares with it)", file=err)
        return 2
    try:
        directory = await open_directory(config.directory)
    except DirectoryError as exc:
        print(f"reconcile: {exc}", file=err)
        return 1
    runtime = build_runtime(config, gateway_version(), directory)
    try:
        reconciler = Reconciler(runtime, directory)
        try:
            reconcilable(reconciler.app(tenant, app))
        except SCIMException as exc:
            print(f"reconcile: {exc.detail}", file=err)
            return 2
        line = ProgressLine(err, f"{tenant}/{app}")
        run = await reconciler.run_now(tenant, app, line.update)
        line.end()
        if run is None:
            print(f"reconcile: {tenant}/{app} is being reconciled already (another replica holds the lease)", file=err)
            return 3
        findings = await directory.reconciliations(tenant, app).findings(0, show)
        out.write(summary(run, line.progress, findings))
        if run.detail:
            print(f"reconcile: the run failed: {run.detail}", file=err)
        return 0 if run.status.value == "succeeded" else 1
    except DirectoryError as exc:
        print(f"reconcile: {exc}", file=err)
        return 1
    finally:
        await runtime.close()


class ProgressLine:
    """One line on stderr, rewritten at most every 0.2 s: accounts read, pages, findings so far."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self.stream, self.name = stream, name
        self.progress = Progress()
        self.shown = 0.0
        self.started = time.monotonic()

    def update(self, progress: Progress) -> None:
        self.progress = progress
        now = time.monotonic()
        if now - self.shown < 0.2:
            return
        self.shown = now
        total = "" if progress.total is None else f" / {progress.total:,}"
        bar = _bar(progress.accounts, progress.total)
        found = " ".join(f"{state.value} {count}" for state, count in progress.found.items() if count)
        self.stream.write(
            f"\rreconciling {self.name} {bar} {progress.accounts:,}{total} accounts, {progress.pages} pages,"
            f" {now - self.started:.0f}s {found}\033[K"
        )
        self.stream.flush()

    def end(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


def summary(run: Run, progress: Progress, findings: list[Finding]) -> str:
    """The summary table and the first findings, as plain text."""
    took = "" if run.finished is None else f" in {(run.finished - run.started).total_seconds():.1f}s"
    lines = [f"{run.tenant}/{run.app}: {run.status.value}{took}, {run.accounts:,} accounts at the vendor", ""]
    rows: list[tuple[str, ...]] = [("state", "accounts", "new in this run")]
    rows += [(state.value, f"{run.counts[state]:,}", f"{progress.new[state]:,}") for state in FindingState]
    lines += _table(rows)
    if findings:
        lines += ["", f"findings (first {len(findings)}):"]
        listed: list[tuple[str, ...]] = [("state", "vendor id", "userName", "attributes", "first seen")]
        listed += [
            (f.state.value, f.vendor_id, f.user_name or "", ", ".join(f.attributes), f.first_seen.strftime("%F %T"))
            for f in findings
        ]
        lines += _table(listed)
    return "\n".join(lines) + "\n"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    rendered = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    return [rendered[0], "  ".join("-" * width for width in widths), *rendered[1:]]


def _bar(done: int, total: int | None, width: int = 20) -> str:
    if not total:
        return "[" + " " * width + "]"
    filled = min(width, done * width // total)
    return "[" + "#" * filled + " " * (width - filled) + "]"
