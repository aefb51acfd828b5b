"""What an admin handler is given (AdminCall) and how a route declares itself (AdminRoute)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from gateway.admin.scopes import Operator, Scope
from gateway.inbound.recording import Call
from gateway.outbound.budget import CallBudget
from gateway.runtime import AppRuntime, Runtime, TenantRuntime


class VendorCalls(dict[str, list[int]]):
    """The statuses of an admin call's vendor exchanges, per app (0: no HTTP answer).

    Each budget it hands out has the app's own deadline; an offboarding's per-app audit records read
    their app's statuses here, and the call's own record all of them (`settle`).
    """

    def budget(self, app: AppRuntime) -> CallBudget:
        """A budget for one vendor exchange (or walk step) of `app`, within the app's own deadline."""
        return CallBudget.starting_now(app.guard.clock, app.guard.retry.deadline, self.setdefault(app.name, []))

    def settle(self, call: Call) -> None:
        """Add every status to the call's audit record (once, as it finishes)."""
        call.upstream.extend(status for statuses in self.values() for status in statuses)
        self.clear()


@dataclass
class AdminCall:
    """One authenticated, authorised admin call: the operator, the tenant, and the audit record being filled."""

    request: Request
    runtime: Runtime
    tenant: TenantRuntime
    operator: Operator
    call: Call
    vendor_calls: VendorCalls

    def budget(self, app: AppRuntime) -> CallBudget:
        """A budget for one vendor exchange of `app` (its own deadline), its statuses counted in this call's audit."""
        return self.vendor_calls.budget(app)


Handler = Callable[[AdminCall], Awaitable[Response]]


@dataclass(frozen=True)
class AdminRoute:
    """One admin endpoint: `path` below /admin/v1/tenants/{tenant}, the scope it needs, its audited action."""

    path: str
    method: str
    scope: Scope
    #: The audit record's `operation` (e.g. `admin.people.find`).
    action: str
    handler: Handler
