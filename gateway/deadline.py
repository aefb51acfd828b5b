"""The per-request deadline: one monotonic instant that bounds all waits and retries of a request.

The orchestrator starts it when a request is admitted; everything below
(inbound waits, outbound rate waits, backoff, token refreshes) asks how much
is left. Tasks spawned for one request (concurrent page fetches) inherit it
through the context. Background work (health checks) has none and uses the
app's own deadline per call.
"""

from __future__ import annotations

import contextvars

from gateway.clock import Clock

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("request_deadline", default=None)


def start_deadline(clock: Clock, seconds: float) -> contextvars.Token[float | None]:
    """Start the current request's deadline `seconds` from now; returns the token to reset it."""
    return _deadline.set(clock.now() + seconds)


def reset_deadline(token: contextvars.Token[float | None]) -> None:
    _deadline.reset(token)


def current_deadline() -> float | None:
    """The current request's deadline (monotonic seconds), or None outside a request."""
    return _deadline.get()
