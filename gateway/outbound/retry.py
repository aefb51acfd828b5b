"""When and how long to wait before resending a vendor request.

Retryable: HTTP 429, 502, 503, 504 and transport failures (connection
refused or reset, timeouts). The wait is exponential backoff with full
jitter (uniform in [0, min(max_delay, base_delay * 2**attempt)], AWS
architecture blog, "Exponential Backoff And Jitter"), but never shorter than
the vendor's Retry-After (RFC 9110 section 10.2.3: delay-seconds or an
HTTP-date). A vendor that throttles without Retry-After (Delinea) gets the
configured `default_retry_after`, which is also what the caller is told.

Which failures leave a write *ambiguous* (the vendor may have stored it) is
decided here, once: every 5xx but 501 (a 500 can come after the vendor
stored the user; a 503 may come from a proxy or a vendor that failed half
way), and transport failures after the request was sent. A 429, a 501 and a
refused connection are certain: the vendor did not act.
"""

from __future__ import annotations

import email.utils
import math

from gateway.clock import Clock
from gateway.config import RetryConfig

RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
#: A Retry-After beyond this is treated as this (a vendor asking for a day must not park a request).
MAX_RETRY_AFTER = 3600.0


def parse_retry_after(value: str | None, wall_now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delay-seconds or HTTP-date); None when absent or unreadable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; a zone-less one is read as such
            return None
        seconds = when.timestamp() - wall_now
    if not math.isfinite(seconds):
        return None
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


def may_have_acted(status: int) -> bool:
    """Whether the vendor may have carried out a request it answered with `status` although it failed.

    Every 5xx but 501 (Not Implemented: refused by what it is, before acting). Used for POSTs, where
    acting twice creates twice: a create answered so is settled by a lookup, never blindly resent.
    """
    return status >= 500 and status != 501


def backoff(policy: RetryConfig, attempt: int, clock: Clock) -> float:
    """Full-jitter delay before resend number `attempt` (1 for the first resend)."""
    ceiling = min(policy.max_delay, policy.base_delay * (2 ** (attempt - 1)))
    return clock.uniform(0.0, ceiling)


def retry_delay(
    policy: RetryConfig, attempt: int, clock: Clock, status: int | None, retry_after: float | None
) -> float:
    """The wait before resend `attempt`: backoff, but at least the vendor's Retry-After.

    A 429 without Retry-After waits at least a backoff ceiling's worth rather
    than hammering a vendor that said nothing (Delinea).
    """
    delay = backoff(policy, attempt, clock)
    if retry_after is not None:
        # A little jitter on top, so replicas told the same instant do not resend together.
        return retry_after + clock.uniform(0.0, min(policy.base_delay, 1.0))
    if status == 429:
        return max(delay, min(policy.max_delay, policy.base_delay * 2.0 ** (attempt - 1)) / 2)
    return delay
