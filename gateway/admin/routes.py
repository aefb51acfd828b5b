"""The admin API's routes, and the one wrapper every admin call goes through.

authenticate the operator token (attempts this process has not accepted yet pass the failed-auth
throttle first: 429) -> authorise the route's scope on the tenant (403) -> resolve the tenant (404)
-> the handler -> one audit record (operator token name, tenant, action, outcome), written once
the outcome is known: for a streamed answer, when its last byte has gone.
"""

from __future__ import annotations

from scim2_models import NotFoundException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from gateway.admin.context import AdminCall, AdminRoute
from gateway.admin.errors import render_admin_error
from gateway.admin.offboard import offboard_endpoint
from gateway.admin.people import people_endpoint
from gateway.admin.review import review_endpoint, review_with_roster_endpoint
from gateway.admin.scopes import Operator, Operators
from gateway.admin.scopes import Scope as OperatorScope
from gateway.config import GatewayConfig
from gateway.inbound.recording import Call
from gateway.observability.metrics import UNKNOWN
from gateway.runtime import Runtime
from gateway.scim.http import header

ADMIN_ROOT = "/admin/v1/tenants/{tenant}"
#: The failed-auth throttle's key for operator tokens: one bucket for every tenant (operator tokens are
#: not per tenant), and not a tenant name (those cannot hold ':'), so SCIM failures never share it.
AUTH_KEY = ":admin"

ROUTES: list[AdminRoute] = [
    AdminRoute("/people", "GET", OperatorScope.READ, "admin.people.find", people_endpoint),
    AdminRoute("/people/offboard", "POST", OperatorScope.OFFBOARD, "admin.people.offboard", offboard_endpoint),
    AdminRoute("/access-review", "GET", OperatorScope.READ, "admin.access_review", review_endpoint),
    AdminRoute("/access-review", "POST", OperatorScope.READ, "admin.access_review", review_with_roster_endpoint),
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
        try:
            response = await self._serve(runtime, call, request)
        except Exception as exc:
            call.scim_type = getattr(exc, "scim_type", None) or None
            response = render_admin_error(exc)
        if not isinstance(response, StreamingResponse):
            call.finish(response, None, runtime.audit)
            await response(scope, receive, send)
            return
        # A streamed answer is audited once it has been sent whole (or recorded as cancelled: 499).
        response.raw_headers.append((b"x-request-id", call.request_id.encode("latin-1")))
        sent = False
        try:
            await response(scope, receive, send)
            sent = True
        finally:
            call.finish(response if sent else None, None, runtime.audit)

    async def _serve(self, runtime: Runtime, call: Call, request: Request) -> Response:
        tenant_name = request.path_params["tenant"]
        call.tenant = tenant_name[:64]
        call.tenant_known = tenant_name in runtime.tenants
        operator = await self._authenticate(runtime, call, header(request, b"authorization"))
        call.token_name = operator.name
        operator.require(tenant_name, self.route.scope)
        tenant = runtime.tenants.get(tenant_name)
        if tenant is None:
            raise NotFoundException(detail=f"no tenant {tenant_name[:64]!r}")
        return await self.route.handler(AdminCall(request, runtime, tenant, operator, call))

    async def _authenticate(self, runtime: Runtime, call: Call, authorization: str | None) -> Operator:
        """The caller's Operator; raises UnauthorizedException (401) or Throttled (429), as SCIM auth does."""
        operator = self.operators.accepted(authorization)
        if operator is None:
            await runtime.failed_auth.admit_check(AUTH_KEY, call.client_ip, UNKNOWN)
            operator = self.operators.verify(authorization)
        return operator
