"""Admin API errors: JSON in the shape of a SCIM Error (RFC 7644 section 3.12), as `application/json`.

Everything raised while serving an admin call is a scim2-models SCIMException (the gateway's one
error tree, drawn in gateway/inbound/render.py) and is rendered here with its status and detail,
plus Retry-After where it carries one. Anything else is a bug: a 500 whose detail reveals nothing.
"""

from __future__ import annotations

import math
from typing import Any

import orjson
import structlog
from scim2_models import ForbiddenException, SCIMException, UnauthorizedException
from starlette.responses import Response

log = structlog.get_logger("scim_gateway")

ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="scim-gateway admin"'}


class MissingScope(ForbiddenException):
    """The operator token lacks the scope this call needs, or may not act on this tenant (403)."""


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """`body` as JSON (orjson), never cached: admin answers name people."""
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def render_admin_error(exc: Exception) -> Response:
    """The JSON error response for `exc`: {"schemas", "status", "detail"[, "scimType"]}."""
    if not isinstance(exc, SCIMException):
        log.exception("unhandled_error", error_type=type(exc).__name__, where="admin")
        return error_body(500, "internal error in the gateway; see its logs")
    headers = dict(_CHALLENGE) if isinstance(exc, UnauthorizedException) else {}
    if getattr(exc, "retry_after", None) is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))  # type: ignore[attr-defined]
    return error_body(exc.status, exc.detail or "request refused", exc.scim_type or None, headers)


def error_body(
    status: int, detail: str, scim_type: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return json_response(body, status, headers)
