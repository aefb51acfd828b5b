"""GET /admin/v1/tenants/{tenant}/apps/{app}/dry-run (scope read; mounted in gateway/admin/routes.py).

Query: `limit` (default 100, at most 1000) and `offset`. The admin framework authenticates,
authorises, renders errors and audits the call.
"""

from __future__ import annotations

from scim2_models import InvalidValueException
from starlette.responses import Response

from gateway.admin.context import AdminCall
from gateway.admin.errors import json_response
from gateway.dryrun.service import dry_runs_of, recorded_calls


async def dry_run_list_endpoint(admin: AdminCall) -> Response:
    app = admin.tenant.app(admin.request.path_params["app"])
    admin.call.app, admin.call.vendor = app.name, app.vendor
    query = admin.request.query_params
    try:
        limit, offset = int(query.get("limit", "100")), int(query.get("offset", "0"))
    except ValueError:
        raise InvalidValueException(detail="limit and offset must be integers") from None
    dry_runs = dry_runs_of(app, admin.runtime.directory)
    return json_response(await recorded_calls(dry_runs, app.dry_run, limit, offset))
