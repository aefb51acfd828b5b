"""`with timeout(seconds)`: asyncio.timeout's contract, served by one coarse timer per event loop.

Every vendor call runs under a timeout, and almost none of them expires.
asyncio.timeout arms a loop timer per use (under uvloop a libuv timer handle
allocated, started, stopped and closed on the next loop turn): measured, 16k of
a proxied GET's ~800k instructions. Here a call only files itself in a bucket of
expiry instants RESOLUTION seconds wide; one loop timer, armed for the
earliest bucket, cancels whatever is still in it when it comes due. Under load
that timer fires at most once per RESOLUTION, whatever the request rate.

Contract (as asyncio.timeout): the body is cancelled once `seconds` have passed
and TimeoutError is raised from the `with`; a cancellation from anyone else
stays a CancelledError. A timeout fires no earlier than asked and at most
RESOLUTION later. Entering and leaving need no await, so this is a plain
(synchronous) context manager, used inside a task.
"""

from __future__ import annotations

import asyncio
import heapq
import weakref
from types import TracebackType

#: Width of an expiry bucket (seconds): how late a timeout may fire.
RESOLUTION = 0.01


class Watchdog:
    """The expiry buckets of one event loop and the one timer that sweeps them."""

    def __init__(self) -> None:
        self._buckets: dict[int, set[Timeout]] = {}
        self._ticks: list[int] = []  # heap of the buckets' ticks
        self._armed: asyncio.TimerHandle | None = None
        self._armed_tick: int | None = None

    def bucket(self, tick: int) -> set[Timeout]:
        """The timeouts due at `tick` (RESOLUTION-wide instants), created and the timer armed when new."""
        bucket = self._buckets.get(tick)
        if bucket is None:
            bucket = self._buckets[tick] = set()
            heapq.heappush(self._ticks, tick)
            if self._armed_tick is None or tick < self._armed_tick:
                self._arm(tick)
        return bucket

    def _arm(self, tick: int) -> None:
        if self._armed is not None:
            self._armed.cancel()
        self._armed_tick = tick
        self._armed = asyncio.get_running_loop().call_at(tick * RESOLUTION, self._sweep)

    def _sweep(self) -> None:
        self._armed = self._armed_tick = None
        now = asyncio.get_running_loop().time()
        ticks, buckets = self._ticks, self._buckets
        while ticks and ticks[0] * RESOLUTION <= now:
            for entry in buckets.pop(heapq.heappop(ticks)):
                entry.expire()
        while ticks and not buckets[ticks[0]]:  # emptied by calls that finished: nothing to wake up for
            del buckets[heapq.heappop(ticks)]
        if ticks:
            self._arm(ticks[0])


_WATCHDOGS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Watchdog] = weakref.WeakKeyDictionary()


class Timeout:
    """One `with timeout(...)`: files itself in its expiry bucket for its duration."""

    __slots__ = ("_bucket", "_cancelling", "_expired", "_loop", "_task", "_tick", "_watchdog")

    def __init__(self, watchdog: Watchdog, loop: asyncio.AbstractEventLoop, tick: int) -> None:
        self._watchdog, self._loop, self._tick = watchdog, loop, tick
        self._expired = False

    def __enter__(self) -> Timeout:
        task = asyncio.current_task(self._loop)
        if task is None:
            raise RuntimeError("timeout() must be used inside a task")
        self._task, self._cancelling = task, task.cancelling()
        self._bucket = self._watchdog.bucket(self._tick)
        self._bucket.add(self)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._bucket.discard(self)  # a bucket already swept is simply forgotten
        # As asyncio.timeout: the cancellation we caused becomes TimeoutError; anyone else's stays.
        if self._expired:
            ours = self._task.uncancel() <= self._cancelling
            if ours and exc_type is asyncio.CancelledError:
                raise TimeoutError from exc

    def expire(self) -> None:
        if not self._task.done():
            self._expired = True
            self._task.cancel()


_current: tuple[asyncio.AbstractEventLoop | None, Watchdog | None] = (None, None)


def timeout(seconds: float, loop: asyncio.AbstractEventLoop | None = None) -> Timeout:
    """A context manager that cancels its body after `seconds` (coarse: see RESOLUTION), raising TimeoutError.

    `loop` is the running loop, when the caller knows it: asyncio.get_running_loop() makes a getpid()
    system call each time (CPython 3.11 checks for a fork), which the hot path is spared.
    """
    global _current
    if loop is None:
        loop = asyncio.get_running_loop()
    last_loop, watchdog = _current
    if loop is not last_loop or watchdog is None:
        watchdog = _WATCHDOGS.get(loop)
        if watchdog is None:
            watchdog = _WATCHDOGS[loop] = Watchdog()
        _current = (loop, watchdog)
    # The first bucket instant at or after the deadline (int() + 1: at most one bucket later than ceil()).
    return Timeout(watchdog, loop, int((loop.time() + seconds) / RESOLUTION) + 1)
