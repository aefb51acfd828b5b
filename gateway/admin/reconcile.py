"""`POST`/`GET .../apps/{app}/reconcile`: start a reconciliation of one app, or read its last run and findings.

The work is gateway/reconcile/service.py's; these endpoints parse the request and render its answer.
"""

from __future__ import annotations

from scim2_models import InvalidValueException
from starlette.responses import Response

from gateway.admin.context import AdminCall
from gateway.admin.errors import json_response
from gateway.reconcile.service import last_run, start_reconcile


async def start_endpoint(admin: AdminCall) -> Response:
    """202 with the run started, or 409 when a run of the app is already going on somewhere."""
    app = admin.request.path_params["app"]
    admin.call.app = app
    answer = await start_reconcile(admin.runtime, admin.tenant.name, app)
    return json_response(answer, status=202 if answer["started"] else 409)


async def results_endpoint(admin: AdminCall) -> Response:
    """The last run's counts and its findings, paged by `offset` and `limit`."""
    app = admin.request.path_params["app"]
    admin.call.app = app
    query = admin.request.query_params
    offset, limit = _number(query.get("offset"), "offset", 0), _number(query.get("limit"), "limit", 100)
    return json_response(await last_run(admin.runtime, admin.tenant.name, app, offset, limit))


def _number(text: str | None, name: str, default: int) -> int:
    if text is None:
        return default
    if not text.isdigit() or len(text) > 9:
        raise InvalidValueException(detail=f"{name} must be a non-negative integer")
    return int(text)
