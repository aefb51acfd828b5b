"""CallBudget: what one piece of work allows its vendor calls, and what they did.

The orchestrator makes one per inbound request, once the app is known, and
passes it down explicitly: AppOperations, create_once, the connector's
methods, UpstreamClient.request. The client bounds every wait, retry and
exchange by `deadline` and appends each exchange's status to `statuses`,
which the orchestrator's audit record reads; a dry-run app's client appends
the writes it did not send to `recorded`, which the dry-run operations store. Work no inbound request asked
for (health checks, OAuth token refreshes) makes a budget of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gateway.clock import Clock


class RecordedWrite(NamedTuple):
    """A vendor write a dry-run app's client did not send (gateway/outbound/dry_run.py), credentials removed."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass(slots=True)
class CallBudget:
    """`deadline`: a monotonic instant on the app's clock; `statuses`: one per exchange (0: no HTTP answer)."""

    deadline: float
    statuses: list[int] = field(default_factory=list)
    #: The writes a dry-run app's client recorded instead of sending, in order (empty for every other app).
    recorded: list[RecordedWrite] = field(default_factory=list)
    #: The inbound request's id, which a dry-run app's recorded writes carry (None for the gateway's own work).
    request_id: str | None = None

    @classmethod
    def starting_now(
        cls, clock: Clock, seconds: float, statuses: list[int] | None = None, request_id: str | None = None
    ) -> CallBudget:
        """A budget that ends `seconds` from now; `statuses`, when given, is the list its calls append to."""
        return cls(clock.now() + seconds, statuses if statuses is not None else [], request_id=request_id)
