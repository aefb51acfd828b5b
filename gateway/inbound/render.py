"""Render any exception raised while serving a request as a SCIM Error response.

Every error the gateway raises on purpose is a scim2-models SCIMException:
one tree, rendered here with its status and scimType (RFC 7644 section
3.12), plus Retry-After where the exception carries `retry_after`. Anything
else is a bug: a 500 whose detail reveals nothing internal, logged.

    SCIMException (scim2-models)               status, scimType, detail
     +-- InvalidSyntax/InvalidValue/InvalidFilter/InvalidPath/NoTarget/
     |   Mutability/Uniqueness/TooMany...      400/409 with the RFC's scimType (scim2-models)
     |    +-- TooManyFilterTerms               400 tooMany      gateway/scim/filter_limits.py
     +-- Unauthorized, NotFound, NotImplemented 401/404/501     (scim2-models)
     +-- MethodNotAllowed                      405              gateway/scim/routes.py
     +-- UnsupportedMediaType                  415              gateway/scim/http.py
     +-- ClientGone                            499 (audit only) gateway/scim/http.py
     +-- Throttled                             429 Retry-After  gateway/throttle/admission.py (inbound limits)
     +-- ConnectorError                        the connector vocabulary, gateway/outbound/errors.py
          +-- UnknownResource                  404
          +-- AlreadyExists                    409 uniqueness
          +-- VendorRejected                   400 (the vendor's RFC scimType kept)
          +-- NotSupported                     501
          +-- UpstreamFailure                  502
               +-- VendorAuthFailed            502  the app's own credential refused
               +-- VendorBadResponse           502
               |    +-- ResponseTooLarge       502  gateway/outbound/body.py
               +-- VendorUnavailable           503 Retry-After
                    +-- VendorThrottled        429 Retry-After (the vendor throttles)
                    +-- OutboundThrottled      the app's own vendor budget is spent: gateway/throttle/admission.py
                    +-- CircuitOpen            503  gateway/outbound/breaker.py
                    +-- AmbiguousWrite         a POST that may have reached the vendor: gateway/outbound/client.py,
                                               settled by a lookup in gateway/create.py before it is ever rendered

     +-- DirectoryBusy, DirectoryDown          503 Retry-After  gateway/backed/errors.py (the directory's
     |                                         database is rendered as DirectoryDown when unreachable)
     +-- PreconditionFailed                    412  If-Match names another version (directory-backed apps)

Outside a request: ConfigError (gateway/secrets.py, at start-up and in
check-config); the directory's own tree (gateway/directory/errors.py) is
caught by gateway/backed/operations.py, except DirectoryUnavailable (503 here).
"""

from __future__ import annotations

import math

import structlog
from scim2_models import SCIMException, UnauthorizedException
from starlette.responses import Response

from gateway.backed.errors import DirectoryDown
from gateway.directory.errors import DirectoryUnavailable
from gateway.scim.http import error_response

log = structlog.get_logger("scim_gateway")

#: What the caller is told to wait when a vendor gave no Retry-After (Delinea never does).
DEFAULT_RETRY_AFTER = 5
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="scim-gateway"'}


def render_error(exc: Exception) -> Response:
    """The SCIM Error response for `exc` (RFC 7644 section 3.12)."""
    if isinstance(exc, DirectoryUnavailable):
        exc = DirectoryDown()  # the database is down: retry later; the write was never half-applied
    if not isinstance(exc, SCIMException):
        log.exception("unhandled_error", error_type=type(exc).__name__)
        return error_response(500, "internal error in the gateway; see its logs")
    headers = _CHALLENGE if isinstance(exc, UnauthorizedException) else None
    if hasattr(exc, "retry_after"):  # 429 and 503 (RFC 6585 section 4, RFC 9110 section 10.2.3)
        wait = exc.retry_after if exc.retry_after is not None else DEFAULT_RETRY_AFTER
        headers = {"Retry-After": str(max(1, math.ceil(wait)))}
    return error_response(exc.status, exc.detail or "request refused", exc.scim_type or None, headers)
