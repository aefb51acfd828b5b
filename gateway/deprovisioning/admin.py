"""The admin API's deprovisioning guard endpoints: plain starlette endpoints over service.py.

Mounted by the admin framework (gateway/admin/) under /admin/v1/tenants/{tenant}:
    GET  /apps/{app}/guard            scope read     the held batch and the counts
    POST /apps/{app}/guard/approve    scope approve  body (optional): {"batch": "<id>"}
    POST /apps/{app}/guard/reject     scope approve  body (optional): {"batch": "<id>"}
    POST /apps/{app}/guard/reset      scope approve
Errors are raised as SCIMExceptions for the framework to render. The operator's name for the
decision's audit record is `request.state.operator_name` when the framework sets it.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from scim2_models import InvalidValueException, NotFoundException
from starlette.requests import Request
from starlette.responses import Response

from gateway.deprovisioning import service
from gateway.deprovisioning.gate import DeprovisionGate
from gateway.runtime import Runtime


async def guard_status_endpoint(request: Request) -> Response:
    return _json(await service.guard_status(_gate(request)))


async def guard_approve_endpoint(request: Request) -> Response:
    gate, batch = _gate(request), await _batch(request)
    return _json(await service.decide(gate, _runtime(request).audit, _actor(request), "approve", batch))


async def guard_reject_endpoint(request: Request) -> Response:
    gate, batch = _gate(request), await _batch(request)
    return _json(await service.decide(gate, _runtime(request).audit, _actor(request), "reject", batch))


async def guard_reset_endpoint(request: Request) -> Response:
    return _json(await service.reset(_gate(request), _runtime(request).audit, _actor(request)))


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def _gate(request: Request) -> DeprovisionGate:
    """The path's app's guard; NotFoundException (404) for an unknown tenant or app, or one without a guard."""
    runtime = _runtime(request)
    tenant = runtime.tenants.get(request.path_params["tenant"])
    if tenant is None:
        raise NotFoundException(detail="no such tenant")
    return service.gate_of(tenant.app(request.path_params["app"]))


def _actor(request: Request) -> str:
    return str(getattr(request.state, "operator_name", None) or "admin-api")


async def _batch(request: Request) -> uuid.UUID | None:
    """The optional `batch` of the body: the operator approves what they saw, not a batch that grew since."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        body: Any = orjson.loads(raw)
        batch = body.get("batch") if isinstance(body, dict) else None
        return None if batch is None else uuid.UUID(str(batch))
    except (orjson.JSONDecodeError, ValueError):
        raise InvalidValueException(detail='expected {"batch": "<id of the held batch>"} or no body') from None


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers={"Cache-Control": "no-store"}
    )
