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


@dataclass
class AdminCall:
    """One authenticated, authorised admin call: the operator, the tenant, and the audit record being filled."""

    request: Request
    runtime: Runtime
    tenant: TenantRuntime
    operator: Operator
    call: Call

    def budget(self, app: AppRuntime) -> CallBudget:
        """A budget for one vendor exchange of `app` (its own deadline), its statuses counted in this call's audit."""
        return CallBudget.starting_now(app.guard.clock, app.guard.retry.deadline, self.call.upstream)


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
