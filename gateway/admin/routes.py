"""The admin API's routes, and the one wrapper every admin call goes through.

authenticate the operator token (attempts this process has not accepted yet pass the failed-auth
throttle first: 429) -> authorise the route's scope on the tenant (403) -> resolve the tenant (404)
-> the handler -> one audit record (operator token name, tenant, action, outcome, vendor call
statuses), written once the outcome is known: for a streamed answer, once its last byte has gone
(a stream cut short is recorded as 499, or as "shutdown" when the server's drain cut it).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from scim2_models import NotFoundException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway.admin.context import AdminCall, AdminRoute, VendorCalls
from gateway.admin.errors import error_body, render_admin_error
from gateway.admin.offboard import offboard_endpoint
from gateway.admin.people import people_endpoint
from gateway.admin.reconcile import results_endpoint, start_endpoint
from gateway.admin.review import review_endpoint, review_with_roster_endpoint
from gateway.admin.scopes import Operator, Operators
from gateway.admin.scopes import Scope as OperatorScope
from gateway.backed.manual.api import WORK_ENDPOINTS, WorkHandler
from gateway.config import GatewayConfig
from gateway.deprovisioning.admin import (
    guard_approve_endpoint,
    guard_reject_endpoint,
    guard_reset_endpoint,
    guard_status_endpoint,
)
from gateway.dryrun.admin import dry_run_list_endpoint
from gateway.inbound.recording import Call
from gateway.observability.metrics import UNKNOWN
from gateway.runtime import Runtime
from gateway.scim.http import header

ADMIN_ROOT = "/admin/v1/tenants/{tenant}"
#: The failed-auth throttle's key for operator tokens: one bucket for every tenant (operator tokens are
#: not per tenant), and not a tenant name (those cannot hold ':'), so SCIM failures never share it.
AUTH_KEY = ":admin"


def _work(handler: WorkHandler) -> Callable[[AdminCall], Awaitable[Response]]:
    """A work queue endpoint behind this wrapper: the operator's token name is who claims and closes items."""

    async def serve(call: AdminCall) -> Response:
        return await handler(call.request, call.runtime, call.tenant.name, call.operator.name)

    return serve


ROUTES: list[AdminRoute] = [
    AdminRoute("/people", "GET", OperatorScope.READ, "admin.people.find", people_endpoint),
    AdminRoute("/people/offboard", "POST", OperatorScope.OFFBOARD, "admin.people.offboard", offboard_endpoint),
    AdminRoute("/access-review", "GET", OperatorScope.READ, "admin.access_review", review_endpoint),
    AdminRoute("/access-review", "POST", OperatorScope.READ, "admin.access_review", review_with_roster_endpoint),
    # Starting a run changes nothing at the vendor but spends its budget: an operator's action (`work`).
    AdminRoute("/apps/{app}/reconcile", "POST", OperatorScope.WORK, "admin.reconcile.start", start_endpoint),
    AdminRoute("/apps/{app}/reconcile", "GET", OperatorScope.READ, "admin.reconcile.results", results_endpoint),
    # Manual apps' work queue (gateway/backed/manual/api.py): list, claim, complete, reject.
    *(
        AdminRoute(path, method, OperatorScope.WORK, action, _work(handler))
        for path, method, action, handler in WORK_ENDPOINTS
    ),
    # The deprovisioning guard and dry runs (issue 19, parts 2 and 3).
    AdminRoute("/apps/{app}/guard", "GET", OperatorScope.READ, "admin.guard.status", guard_status_endpoint),
    AdminRoute(
        "/apps/{app}/guard/approve", "POST", OperatorScope.APPROVE, "admin.guard.approve", guard_approve_endpoint
    ),
    AdminRoute("/apps/{app}/guard/reject", "POST", OperatorScope.APPROVE, "admin.guard.reject", guard_reject_endpoint),
    AdminRoute("/apps/{app}/guard/reset", "POST", OperatorScope.APPROVE, "admin.guard.reset", guard_reset_endpoint),
    AdminRoute("/apps/{app}/dry-run", "GET", OperatorScope.READ, "admin.dry_run.list", dry_run_list_endpoint),
    # Reconciliation plugs in here (issue 18 item 1, its own service module):
    #   AdminRoute("/apps/{app}/reconcile", "POST", OperatorScope.WORK, "admin.reconcile.start", ...),
    #   AdminRoute("/apps/{app}/reconcile", "GET", OperatorScope.READ, "admin.reconcile.results", ...),
]


def admin_routes(config: GatewayConfig, routes: list[AdminRoute] | None = None) -> list[Route]:
    """Starlette routes for `routes` (default ROUTES), checking the config's operator tokens."""
    operators = Operators(config)
    return [
        Route(ADMIN_ROOT + route.path, AdminEndpoint(route, operators), methods=[route.method])
        for route in (ROUTES if routes is None else routes)
    ]


class AdminEndpoint:
    """One admin route as an ASGI app (the form gateway/app.py's ScimEndpoint uses)."""

    def __init__(self, route: AdminRoute, operators: Operators) -> None:
        self.route = route
        self.operators = operators

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        runtime: Runtime = request.app.state.runtime
        call = Call.begin(request, route=ADMIN_ROOT + self.route.path, operation=self.route.action)
        vendor_calls = VendorCalls()
        # Counted in flight like SCIM requests, so that shutdown waits for this call's answer and audit record.
        runtime.metrics.in_flight.value += 1
        try:
            response = await self._answer(runtime, call, request, vendor_calls)
            if isinstance(response, StreamingResponse):
                await self._stream(runtime, call, response, vendor_calls, (scope, receive, send))
                return
            vendor_calls.settle(call)
            call.finish(response, None, runtime.audit)
            await response(scope, receive, send)
        finally:
            runtime.metrics.in_flight.value -= 1

    async def _answer(self, runtime: Runtime, call: Call, request: Request, vendor_calls: VendorCalls) -> Response:
        """The handler's response, or the error's; a call cut by the server's shutdown drain answers 503."""
        try:
            return await self._serve(runtime, call, request, vendor_calls)
        except asyncio.CancelledError:
            # Only the server cancels a request (its drain ran out): answer and audit it, as handle_scim does.
            asyncio.current_task().uncancel()  # type: ignore[union-attr]  # a request always runs in a task
            call.cut_by_shutdown = True
            return error_body(503, "the gateway shut down before the call finished; retry", None, {"Retry-After": "1"})
        except Exception as exc:
            call.scim_type = getattr(exc, "scim_type", None) or None
            return render_admin_error(exc)

    async def _stream(
        self,
        runtime: Runtime,
        call: Call,
        response: StreamingResponse,
        vendor_calls: VendorCalls,
        asgi: tuple[Scope, Receive, Send],
    ) -> None:
        """Send a streamed answer, then audit it: as sent whole, or as cut short (499; shutdown if cancelled)."""
        response.raw_headers.append((b"x-request-id", call.request_id.encode("latin-1")))
        body, whole = response.body_iterator, False

        async def watched() -> AsyncIterator[Any]:
            nonlocal whole
            async for chunk in body:
                yield chunk
            whole = True

        response.body_iterator = watched()
        try:
            await response(*asgi)
        except asyncio.CancelledError:
            call.cut_by_shutdown = True
            raise
        finally:
            vendor_calls.settle(call)
            call.finish(response if whole else None, None, runtime.audit)

    async def _serve(self, runtime: Runtime, call: Call, request: Request, vendor_calls: VendorCalls) -> Response:
        tenant_name = request.path_params["tenant"]
        call.tenant = tenant_name[:64]
        call.tenant_known = tenant_name in runtime.tenants
        operator = await self._authenticate(runtime, call, header(request, b"authorization"))
        call.token_name = operator.name
        operator.require(tenant_name, self.route.scope)
        tenant = runtime.tenants.get(tenant_name)
        if tenant is None:
            raise NotFoundException(detail=f"no tenant {tenant_name[:64]!r}")
        return await self.route.handler(AdminCall(request, runtime, tenant, operator, call, vendor_calls))

    async def _authenticate(self, runtime: Runtime, call: Call, authorization: str | None) -> Operator:
        """The caller's Operator; raises UnauthorizedException (401) or Throttled (429), as SCIM auth does."""
        operator = self.operators.accepted(authorization)
        if operator is None:
            await runtime.failed_auth.admit_check(AUTH_KEY, call.client_ip, UNKNOWN)
            operator = self.operators.verify(authorization)
        return operator
