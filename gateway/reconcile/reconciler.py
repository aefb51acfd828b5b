"""Who reconciles which app when: runs under a database lease, on demand or on each app's schedule.

One Reconciler per gateway process (built in the app's lifespan; the CLI builds one too). A run of an
app first takes the lease `reconcile:<tenant>/<app>` (gateway/directory/leases.py), so with several
replicas on one database exactly one reconciles an app at a time; it renews the lease as it goes and
stops (the run recorded as failed) if the lease is lost. Every replica keeps the last finished run of
each app in memory, refreshed from the database on each scheduler tick, so every replica's
`scim_gateway_accounts` and /status agree whichever replica ran.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import structlog
from scim2_models import NotFoundException, SCIMException

from gateway.backed.manual.operations import ManualOperations
from gateway.backed.operations import DirectoryOperations
from gateway.clock import SYSTEM_CLOCK, Clock
from gateway.directory.errors import DirectoryError
from gateway.directory.findings import Run, RunStatus, last_finished_runs
from gateway.directory.store import Directory
from gateway.outbound.errors import NotSupported
from gateway.reconcile.metrics import ReconcileMetrics
from gateway.reconcile.run import Progress, Walk, reconcile

if TYPE_CHECKING:
    from gateway.runtime import AppRuntime, Runtime

log = structlog.get_logger("scim_gateway.reconcile")
LEASE_TTL = timedelta(minutes=5)
#: Seconds between scheduler ticks (each checks which apps are due and refreshes the last runs).
TICK = 60.0
ON_DEMAND_TIMEOUT = 6 * 3600.0
AppKey = tuple[str, str]


class LeaseLost(Exception):
    """Another replica took the app's lease over (this one stalled past its expiry)."""


@dataclass
class Reconciler:
    """Runs reconciliations of the runtime's apps; `last` holds each app's last finished run."""

    runtime: Runtime
    directory: Directory
    clock: Clock = SYSTEM_CLOCK
    holder: str = field(default_factory=lambda: f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}")
    lease_ttl: timedelta = LEASE_TTL
    page_size: int = 100
    last: dict[AppKey, Run] = field(default_factory=dict)
    tasks: dict[AppKey, asyncio.Task[Run]] = field(default_factory=dict)
    #: Apps this process is reconciling (the lease, which this holder may take again, is the cross-replica guard).
    running: set[AppKey] = field(default_factory=set)
    metrics: ReconcileMetrics | None = None

    def __post_init__(self) -> None:
        self.leases = self.directory.leases(self.holder)
        if self.metrics is None:
            self.metrics = ReconcileMetrics(self.runtime.metrics.registry, lambda: self.last)
        # Every reconcilable app's counters exist from 0, so that the first findings show in increase().
        self.metrics.prepare((app.tenant, app.name) for app in self.runtime.apps() if app.resources is not None)

    def app(self, tenant: str, name: str) -> AppRuntime:
        """The app; raises NotFoundException (404) for an unknown tenant or app."""
        found = self.runtime.tenants.get(tenant)
        if found is None:
            raise NotFoundException(detail=f"no tenant {tenant!r}")
        return found.app(name)

    async def begin(self, tenant: str, name: str) -> Run | None:
        """Take the app's lease and record a run starting; None when a run of the app is going on already."""
        key = (tenant, name)
        if key in self.running:
            return None
        self.running.add(key)
        try:
            if not await self.leases.acquire(_lease(tenant, name), self.lease_ttl):
                self.running.discard(key)
                return None
            return await self.directory.reconciliations(tenant, name).start_run()
        except BaseException:
            self.running.discard(key)
            with contextlib.suppress(DirectoryError):
                await self.leases.release(_lease(tenant, name))
            raise

    async def execute(
        self, tenant: str, name: str, run: Run, on_page: Callable[[Progress], None] = lambda progress: None
    ) -> Run:
        """Carry out a run `begin` started, then release the lease; returns the finished run (never raises
        for a vendor or lease failure: the run is recorded as failed, with the reason)."""
        app = self.app(tenant, name)
        runs = self.directory.reconciliations(tenant, name)
        lease, renewed = _lease(tenant, name), self.clock.now()

        async def keep() -> None:
            nonlocal renewed
            if self.clock.now() - renewed >= self.lease_ttl.total_seconds() / 3:
                if not await self.leases.renew(lease, self.lease_ttl):
                    raise LeaseLost()
                renewed = self.clock.now()

        timeout = app_timeout(self.runtime, tenant, name)
        assert app.resources is not None  # start_reconcile and the scheduler only pick apps with a directory
        # The vendor's own accounts, not the merged view: drift compares what the vendor holds.
        operations = app.operations
        if isinstance(operations, ManualOperations):  # refused before a run starts (service.reconcilable)
            raise NotSupported("a manual app has no vendor API to reconcile with")
        vendor = operations.plain if isinstance(operations, DirectoryOperations) else operations
        walk = Walk(
            vendor, app.resources, runs, run.id, run.started, app.guard.clock.now() + timeout, keep, on_page,
            self.page_size,
        )  # fmt: skip
        status, detail = RunStatus.SUCCEEDED, None
        try:
            await reconcile(walk)
        except LeaseLost:
            status, detail = RunStatus.FAILED, "another replica took the lease over; this run stopped"
        except SCIMException as exc:  # the vendor's side, in the gateway's words (already scrubbed)
            status, detail = RunStatus.FAILED, str(exc.detail or type(exc).__name__)[:300]
        except DirectoryError as exc:  # closing may fail too; the lease then lapses on its own
            status, detail = RunStatus.FAILED, f"the directory failed ({type(exc).__name__})"
        except asyncio.CancelledError:
            await asyncio.shield(self._close(run, RunStatus.FAILED, walk, "stopped at shutdown"))
            raise
        finished = await self._close(run, status, walk, detail)
        log.info("reconcile_finished", tenant=tenant, app=name, status=status.value, accounts=finished.accounts)
        return finished

    async def _close(self, run: Run, status: RunStatus, walk: Walk, detail: str | None) -> Run:
        """Record the run's end and release the lease (whatever happens to the recording)."""
        try:
            finished = await walk.runs.finish_run(run.id, status, walk.progress.accounts, detail)
            self.last[(run.tenant, run.app)] = finished
            assert self.metrics is not None
            self.metrics.count_new(run.tenant, run.app, walk.progress.new)
            return finished
        finally:
            self.running.discard((run.tenant, run.app))
            with contextlib.suppress(DirectoryError):
                await self.leases.release(_lease(run.tenant, run.app))

    def start(self, tenant: str, name: str, run: Run) -> None:
        """Carry `run` out in the background (it holds the lease already)."""
        task = asyncio.create_task(self.execute(tenant, name, run), name=f"reconcile {tenant}/{name}")
        self.tasks[(tenant, name)] = task
        task.add_done_callback(lambda done: self._forget(tenant, name, done))

    def _forget(self, tenant: str, name: str, task: asyncio.Task[Run]) -> None:
        if self.tasks.get((tenant, name)) is task:
            del self.tasks[(tenant, name)]

    async def run_now(self, tenant: str, name: str, on_page: Callable[[Progress], None] = lambda p: None) -> Run | None:
        """Begin and carry out a run in the caller's task; None when another holder is reconciling the app."""
        run = await self.begin(tenant, name)
        return None if run is None else await self.execute(tenant, name, run, on_page)

    async def refresh(self) -> None:
        """Read every app's last finished run from the database, whichever replica ran it (one query)."""
        known = {(app.tenant, app.name) for app in self.runtime.apps()}
        for run in await last_finished_runs(self.directory.engine):
            if (run.tenant, run.app) in known:
                self.last[(run.tenant, run.app)] = run

    async def tick(self) -> None:
        """Refresh the last runs, then start a run of every scheduled app that is due (lease permitting)."""
        await self.refresh()
        now = datetime.fromtimestamp(self.clock.wall(), UTC)
        for app in self.runtime.apps():
            config = self.runtime.config.tenants[app.tenant].apps[app.name].reconcile
            key = (app.tenant, app.name)
            if config is None or app.resources is None or key in self.tasks:
                continue
            latest = await self.directory.reconciliations(*key).last_run()
            if latest is not None and latest.started + timedelta(seconds=config.every) > now:
                continue
            run = await self.begin(*key)
            if run is not None:
                self.start(*key, run)

    @contextlib.asynccontextmanager
    async def scheduled(self, tick: float = TICK) -> AsyncIterator[None]:
        """Tick every `tick` seconds while the block runs; at exit, stop the ticks and every run."""

        async def forever() -> None:
            while True:
                try:
                    await self.tick()
                except DirectoryError as exc:  # the database is away: try again next tick
                    log.warning("reconcile_tick_failed", reason=type(exc).__name__)
                await self.clock.sleep(tick)

        ticker = asyncio.create_task(forever(), name="reconcile scheduler")
        try:
            yield
        finally:
            ticker.cancel()
            for task in list(self.tasks.values()):
                task.cancel()
            await asyncio.gather(ticker, *self.tasks.values(), return_exceptions=True)


def app_timeout(runtime: Runtime, tenant: str, name: str) -> float:
    """The deadline of one run's vendor calls: the app's `reconcile.timeout`, else six hours."""
    config = runtime.config.tenants[tenant].apps[name].reconcile
    return config.timeout if config is not None else ON_DEMAND_TIMEOUT


def _lease(tenant: str, name: str) -> str:
    return f"reconcile:{tenant}/{name}"
