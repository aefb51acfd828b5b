"""The admin API's work queue endpoints, below /admin/v1/tenants/{tenant} (scope `work`):

    GET  /work                      ?app=&state=open,claimed&after=&limit=   a page of items, oldest first
    POST /work/{id}/claim                                                    take an open item
    POST /work/{id}/complete        {"vendorId": "..."} (required for a create)
    POST /work/{id}/reject          {"reason": "..."}

Each handler takes the request, the runtime, the tenant's name and the
operator's name (authenticated and authorised by the admin API's wrapper,
gateway/admin/routes.py, which also audits the call) and answers JSON; errors
are raised as SCIM exceptions for that wrapper to render. `work_routes` mounts
them on their own behind a given operator check (tests).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from scim2_models import InvalidValueException, NotFoundException, SCIMException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.backed.manual.service import WorkService
from gateway.runtime import Runtime

MAX_BODY = 16 * 1024
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
WorkHandler = Callable[[Request, Runtime, str, str], Awaitable[Response]]


async def list_work(request: Request, runtime: Runtime, tenant: str, operator: str) -> Response:
    """A page of items; empty (not 404) where no app is manual: there is simply no work."""
    if runtime.work is None and tenant in runtime.tenants:
        return json_response({"items": [], "next": None})
    query = request.query_params
    states = [part for value in query.getlist("state") for part in value.split(",") if part] or None
    try:
        limit = int(query.get("limit", "100"))
    except ValueError:
        raise InvalidValueException(detail="limit must be a number") from None
    page = await _service(runtime, tenant).listing(
        tenant, app=query.get("app"), states=states, after=query.get("after"), limit=limit
    )
    return json_response(page)


async def claim_work(request: Request, runtime: Runtime, tenant: str, operator: str) -> Response:
    return json_response(await _service(runtime, tenant).claim(tenant, request.path_params["id"], operator))


async def complete_work(request: Request, runtime: Runtime, tenant: str, operator: str) -> Response:
    body = await _body(request)
    vendor_id = body.get("vendorId")
    if vendor_id is not None and not isinstance(vendor_id, str):
        raise InvalidValueException(detail="vendorId must be a string")
    item = await _service(runtime, tenant).complete(tenant, request.path_params["id"], operator, vendor_id)
    return json_response(item)


async def reject_work(request: Request, runtime: Runtime, tenant: str, operator: str) -> Response:
    reason = (await _body(request)).get("reason")
    if not isinstance(reason, str):
        raise InvalidValueException(detail="a rejection needs a reason (a string)")
    return json_response(await _service(runtime, tenant).reject(tenant, request.path_params["id"], operator, reason))


#: (path below /admin/v1/tenants/{tenant}, method, audited action, handler): all need scope `work`.
WORK_ENDPOINTS: list[tuple[str, str, str, WorkHandler]] = [
    ("/work", "GET", "admin.work.list", list_work),
    ("/work/{id}/claim", "POST", "admin.work.claim", claim_work),
    ("/work/{id}/complete", "POST", "admin.work.complete", complete_work),
    ("/work/{id}/reject", "POST", "admin.work.reject", reject_work),
]


def work_routes(operator_of: Callable[[Request], str]) -> list[Route]:
    """The endpoints as starlette routes on their own: `operator_of` names the caller or raises a
    SCIMException (401/403); errors are rendered as JSON in the SCIM Error shape."""

    def endpoint(handler: WorkHandler) -> Callable[[Request], Awaitable[Response]]:
        async def serve(request: Request) -> Response:
            try:
                operator = operator_of(request)
                runtime: Runtime = request.app.state.runtime
                return await handler(request, runtime, request.path_params["tenant"], operator)
            except SCIMException as exc:
                return error_response(exc)

        return serve

    root = "/admin/v1/tenants/{tenant}"
    return [Route(root + path, endpoint(handler), methods=[method]) for path, method, _, handler in WORK_ENDPOINTS]


def json_response(body: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers={"Cache-Control": "no-store"}
    )


def error_response(exc: SCIMException) -> Response:
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(exc.status), "detail": exc.detail}
    if exc.scim_type:
        body["scimType"] = exc.scim_type
    return json_response(body, exc.status)


def _service(runtime: Runtime, tenant: str) -> WorkService:
    if tenant not in runtime.tenants:
        raise NotFoundException(detail="no such tenant")
    if runtime.work is None:
        raise NotFoundException(detail="this gateway has no manual apps (mode: manual), so no work queue")
    return runtime.work


async def _body(request: Request) -> dict[str, Any]:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise InvalidValueException(detail="the request body is too large")
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidValueException(detail="the request body is not JSON") from None
    if not isinstance(body, dict):
        raise InvalidValueException(detail="the request body must be a JSON object")
    return body
