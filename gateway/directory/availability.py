"""Whether the directory can serve: its schema prepared at start-up (retried in the background), its database reachable.

The gateway starts even when the directory's database is unreachable, so that
apps keeping nothing in it serve at once. `prepare_forever` checks (or
migrates) the schema, and on failure logs one line and retries with bounded
backoff until it succeeds. Until then `Availability.gate` makes every
repository operation raise DirectoryUnavailable (the request path answers 503
with Retry-After), and /readyz answers 503. Once prepared, /readyz asks the
database with one bounded round trip, at most once per `cache_seconds`
whatever the number of probes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog

from gateway.clock import SYSTEM_CLOCK, Clock
from gateway.directory.errors import DirectoryError, DirectoryUnavailable

log = structlog.get_logger("scim_gateway.directory")

#: Seconds between preparation attempts: doubling, then every 30 s until the database answers.
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
#: How long /readyz waits for the database, and how long its answer is reused.
CHECK_TIMEOUT = 1.0
CACHE_SECONDS = 2.0


class Availability:
    """One directory's readiness; `gate` is the hook its repositories call before every operation.

    `prepared` is None until a preparation starts (a directory opened by `open_directory`, or used by a
    tool, is never gated), False while it is under way or failing, True once the schema is current.
    """

    def __init__(
        self,
        check: Callable[[], Awaitable[None]],
        clock: Clock = SYSTEM_CLOCK,
        *,
        check_timeout: float = CHECK_TIMEOUT,
        cache_seconds: float = CACHE_SECONDS,
    ) -> None:
        self._check = check
        self._clock = clock
        self._check_timeout = check_timeout
        self._cache_seconds = cache_seconds
        self.prepared: bool | None = None
        #: Why the directory last failed (data-free: no URL, no credential), for logs and /status.
        self.problem: str | None = None
        #: The last check's answer and when it was made (the clock's `now`); None: never checked.
        self.checked_at: float | None = None
        self.reachable = False
        self._probe: asyncio.Task[bool] | None = None
        #: Set once a preparation attempt has ended, whatever its outcome.
        self.attempted = asyncio.Event()

    def gate(self) -> None:
        """Raise DirectoryUnavailable while the schema is not prepared."""
        if self.prepared is False:
            raise DirectoryUnavailable("the directory database is unavailable (its schema is not ready yet)")

    async def ready(self) -> bool:
        """Prepared, and the database answered a check within `check_timeout` (reused for `cache_seconds`)."""
        if self.prepared is False:
            return False
        now = self._clock.now()
        if self.checked_at is not None and now - self.checked_at < self._cache_seconds:
            return self.reachable
        if self._probe is None:
            self._probe = asyncio.create_task(self._run_check())
        probe = self._probe
        # Shielded: a probe whose client gives up must not cancel the check other probes are waiting for.
        return await asyncio.shield(probe)

    async def _run_check(self) -> bool:
        try:
            await asyncio.wait_for(self._check(), self._check_timeout)
            reachable, problem = True, None
        except TimeoutError:
            reachable, problem = False, f"the directory database did not answer within {self._check_timeout:g} s"
        except DirectoryError as exc:
            reachable, problem = False, str(exc)
        finally:
            self._probe = None
        if reachable != self.reachable or self.checked_at is None:
            log.info("directory_reachable" if reachable else "directory_unreachable", detail=problem)
        self.reachable, self.checked_at, self.problem = reachable, self._clock.now(), problem
        return reachable


async def prepare_forever(
    availability: Availability, prepare: Callable[[], Awaitable[str | None]], clock: Clock = SYSTEM_CLOCK
) -> None:
    """Run `prepare` (the schema check or migration) until it succeeds, sleeping BACKOFF between attempts.

    The first failure is logged as a warning, later ones only when the reason changes; success is logged once.
    A DirectoryError is described by its message (which never carries the URL or a key), anything else
    (a SQLite path that cannot be created, a failing migration) by its type only.
    """
    availability.prepared = False
    attempt = 0
    while True:
        try:
            revision = await prepare()
        except Exception as exc:
            availability.attempted.set()
            problem = str(exc) if isinstance(exc, DirectoryError) else f"cannot prepare it ({type(exc).__name__})"
            wait = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            if problem != availability.problem:
                log.warning(
                    "directory_not_ready",
                    detail=problem,
                    retry_in=wait,
                    note="apps without a directory serve; apps with one answer 503 until it is ready",
                )
            availability.problem = problem
            attempt += 1
            await clock.sleep(wait)
            continue
        availability.prepared, availability.problem = True, None
        availability.attempted.set()
        log.info("directory_ready", revision=revision, attempts=attempt + 1)
        return


@contextlib.asynccontextmanager
async def preparing(
    availability: Availability,
    prepare: Callable[[], Awaitable[str | None]],
    *,
    first_wait: float,
    clock: Clock = SYSTEM_CLOCK,
) -> AsyncIterator[asyncio.Task[None]]:
    """Prepare in a background task for the duration of the block, cancelled on exit.

    Waits up to `first_wait` seconds for the first attempt before entering, so a directory that is
    reachable is ready before the first request, and an unreachable one does not hold start-up back
    longer than its first attempt takes to fail.
    """
    availability.prepared = False
    task = asyncio.create_task(prepare_forever(availability, prepare, clock), name="directory-preparation")
    try:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(availability.attempted.wait(), first_wait)
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
