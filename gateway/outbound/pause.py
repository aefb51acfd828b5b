"""The vendor's own back-off, remembered per app: after a 429, no call goes out until the vendor's window ends.

A vendor that answers 429 with Retry-After has said when the app's calls may
come back; one that throttles without it (Delinea) is given the
`default_retry_after` the gateway told its caller when it gave up. Either
way the instant is kept here, on the app's guard, so every request of that
app in this process (and its token requests) knows it. The same rule as for
a retry applies to every call that meets the window: if the window ends
before the call's deadline the call waits for it (with a little jitter),
else it fails at once with 429 and the time left, without reaching the
vendor, and the IdP reschedules (Okta and Entra do on 429 + Retry-After).
Failing calls whose deadline would allow the wait would turn a vendor's
short pause into failures every IdP must reschedule, and fail a list whose
sibling page fetches met the window.

Per process, not in Redis: each replica learns the window from its own
first 429, so a replica costs the vendor only the calls it had in flight
then, while sharing it would add a Redis round trip to every vendor call of
the apps that have no outbound rate limit there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gateway.outbound.errors import VendorThrottled


@dataclass
class VendorPause:
    """Until when (monotonic seconds) one app's vendor asked not to be called; 0.0: no pause."""

    until: float = 0.0

    def extend(self, now: float, seconds: float) -> None:
        """The vendor asked for `seconds` from `now`: keep the later of that and any pause already known."""
        if now + seconds > self.until:
            self.until = now + seconds

    def remaining(self, now: float) -> float:
        """Seconds left in the pause (0.0 when none)."""
        left = self.until - now
        return left if left > 0.0 else 0.0


def held_back(app: str, seconds: float) -> VendorThrottled:
    """The 429 for a call not sent because `app`'s vendor asked for a pause with `seconds` left."""
    wait = max(1, math.ceil(seconds))
    detail = (
        f"app {app!r}: the vendor is throttling the gateway's calls; calls are held back for {wait} s"
        " without reaching the vendor: retry after the time given in Retry-After"
    )
    return VendorThrottled(detail, retry_after=seconds)
