"""The admin API's deprovisioning guard routes (mounted in gateway/admin/routes.py):

    GET  /admin/v1/tenants/{tenant}/apps/{app}/guard            scope read     the held batch and the counts
    POST /admin/v1/tenants/{tenant}/apps/{app}/guard/approve    scope approve  body (optional): {"batch": "<id>"}
    POST /admin/v1/tenants/{tenant}/apps/{app}/guard/reject     scope approve  body (optional): {"batch": "<id>"}
    POST /admin/v1/tenants/{tenant}/apps/{app}/guard/reset      scope approve

The admin framework authenticates, authorises, renders errors and audits the call; a decision is
audited once more by service.py with its batch and entry count.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from scim2_models import InvalidValueException
from starlette.responses import Response

from gateway.admin.context import AdminCall
from gateway.admin.errors import json_response
from gateway.deprovisioning import service
from gateway.deprovisioning.gate import DeprovisionGate


async def guard_status_endpoint(admin: AdminCall) -> Response:
    return json_response(await service.guard_status(_gate(admin)))


async def guard_approve_endpoint(admin: AdminCall) -> Response:
    gate, batch = _gate(admin), await _batch(admin)
    return json_response(await service.decide(gate, admin.runtime.audit, admin.operator.name, "approve", batch))


async def guard_reject_endpoint(admin: AdminCall) -> Response:
    gate, batch = _gate(admin), await _batch(admin)
    return json_response(await service.decide(gate, admin.runtime.audit, admin.operator.name, "reject", batch))


async def guard_reset_endpoint(admin: AdminCall) -> Response:
    return json_response(await service.reset(_gate(admin), admin.runtime.audit, admin.operator.name))


def _gate(admin: AdminCall) -> DeprovisionGate:
    """The path's app's guard; NotFoundException (404) for an unknown app or one without a guard."""
    app = admin.tenant.app(admin.request.path_params["app"])
    admin.call.app, admin.call.vendor = app.name, app.vendor
    return service.gate_of(app)


async def _batch(admin: AdminCall) -> uuid.UUID | None:
    """The optional `batch` of the body: the operator approves what they saw, not a batch that grew since."""
    raw = await admin.request.body()
    if not raw.strip():
        return None
    try:
        body: Any = orjson.loads(raw)
        batch = body.get("batch") if isinstance(body, dict) else None
        return None if batch is None else uuid.UUID(str(batch))
    except (orjson.JSONDecodeError, ValueError):
        raise InvalidValueException(detail='expected {"batch": "<id of the held batch>"} or no body') from None
