"""Render any exception raised while serving a request as a SCIM Error response.

One place decides what the caller sees: protocol errors (scim2-models'
SCIMException) and connector errors (gateway/outbound/errors.py) keep their status and
scimType; anything unexpected is a 500 whose detail reveals nothing internal.
"""

from __future__ import annotations

import math

import structlog
from scim2_models import SCIMException, UnauthorizedException
from starlette.responses import Response

from gateway.outbound.errors import ConnectorError, VendorUnavailable
from gateway.scim.http import error_response

log = structlog.get_logger("scim_gateway")

#: What the caller is told to wait when a vendor gave no Retry-After (Delinea never does).
DEFAULT_RETRY_AFTER = 5
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="scim-gateway"'}


def render_error(exc: Exception) -> Response:
    """The SCIM Error response for `exc` (RFC 7644 section 3.12)."""
    if isinstance(exc, SCIMException):
        headers = _CHALLENGE if isinstance(exc, UnauthorizedException) else None
        retry_after = getattr(exc, "retry_after", None)  # 429 from the inbound throttle (RFC 6585 section 4)
        if retry_after is not None:
            headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}
        return error_response(exc.status, exc.detail or "request refused", exc.scim_type or None, headers)
    if isinstance(exc, ConnectorError):
        headers = None
        if isinstance(exc, VendorUnavailable):
            wait = exc.retry_after if exc.retry_after is not None else DEFAULT_RETRY_AFTER
            headers = {"Retry-After": str(max(1, math.ceil(wait)))}
        return error_response(exc.status, exc.detail, exc.scim_type, headers)
    log.exception("unhandled_error", error_type=type(exc).__name__)
    return error_response(500, "internal error in the gateway; see its logs")
