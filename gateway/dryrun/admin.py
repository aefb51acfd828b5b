"""GET /admin/v1/tenants/{tenant}/apps/{app}/dry-run (scope read): a plain starlette endpoint.

Query: `limit` (default 100, at most 1000) and `offset`. Errors are raised as SCIMExceptions for the
admin framework (gateway/admin/) to render.
"""

from __future__ import annotations

import orjson
from scim2_models import InvalidValueException, NotFoundException
from starlette.requests import Request
from starlette.responses import Response

from gateway.dryrun.service import dry_runs_of, recorded_calls
from gateway.runtime import Runtime


async def dry_run_list_endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    tenant = runtime.tenants.get(request.path_params["tenant"])
    if tenant is None:
        raise NotFoundException(detail="no such tenant")
    app = tenant.app(request.path_params["app"])
    try:
        limit = int(request.query_params.get("limit", "100"))
        offset = int(request.query_params.get("offset", "0"))
    except ValueError:
        raise InvalidValueException(detail="limit and offset must be integers") from None
    body = await recorded_calls(dry_runs_of(app), limit, offset)
    return Response(orjson.dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"})
