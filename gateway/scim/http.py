"""SCIM over HTTP: reading JSON bodies and writing `application/scim+json` responses.

RFC 7644 section 3.1: clients send `application/scim+json` (we also accept
`application/json`, as the RFC recommends, and a body with no content type);
any other media type is 415. Bodies are read up to a limit while streaming,
so a huge or chunked body is refused (413) without being buffered whole. A
client that leaves before its whole body arrived is ClientGone (499, the status
the audit gives a cancelled call), not a server error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from scim2_models import InvalidSyntaxException, PayloadTooLargeException, SCIMException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

SCIM_MEDIA_TYPE = "application/scim+json"
LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
_ACCEPTED = ("application/scim+json", "application/json")


class UnsupportedMediaType(SCIMException):
    status = 415
    _default_detail = "the request body must be application/scim+json or application/json"


class ClientGone(SCIMException):
    """The client closed the connection mid-body; 499 is nginx's status for that, and the audit's `cancelled`."""

    status = 499
    _default_detail = "the client closed the connection before the request body was complete"


def header(request: Request, name: bytes) -> str | None:
    """The first request header called `name` (lower case, as ASGI delivers names), or None.

    For the few headers every request reads (Authorization, Host, X-Request-ID):
    a walk of the raw list, where most of them appear once, near the front.
    """
    headers: list[tuple[bytes, bytes]] = request.scope["headers"]
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


async def read_json(request: Request, max_bytes: int) -> Any:
    """The request body as JSON; raises SCIMException (400, 413, 415) or ClientGone (499)."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type and media_type not in _ACCEPTED:
        raise UnsupportedMediaType(detail=f"unsupported content type {media_type!r}; send {SCIM_MEDIA_TYPE}")
    declared = request.headers.get("content-length")
    if declared is not None and "transfer-encoding" in request.headers:
        # RFC 9112 section 6.3: a smuggling shape. httptools refuses it first; this holds under any server.
        raise InvalidSyntaxException(detail="Content-Length and Transfer-Encoding must not both be sent")
    if declared is not None and not declared.isdigit():
        raise InvalidSyntaxException(detail="Content-Length must be a decimal number")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeException(detail=f"request body larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_bytes:
                raise PayloadTooLargeException(detail=f"request body larger than {max_bytes} bytes")
            chunks.append(chunk)
    except ClientDisconnect:
        raise ClientGone() from None
    if not size:
        raise InvalidSyntaxException(detail="the request body is empty")
    try:
        return orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        raise InvalidSyntaxException(detail=f"the request body is not valid JSON: {exc.msg}") from None


def scim_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """`body` as `application/scim+json` (RFC 7644 section 3.1), rendered once by orjson."""
    return Response(orjson.dumps(body), status, headers, media_type=SCIM_MEDIA_TYPE)


def list_response(resources: list[Any], total: int, start_index: int) -> Response:
    return scim_response(
        {
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "startIndex": start_index,
            "itemsPerPage": len(resources),
            "Resources": resources,
        }
    )


def error_response(
    status: int, detail: str, scim_type: str | None = None, headers: dict[str, str] | None = None
) -> Response:
    """A SCIM Error (RFC 7644 section 3.12); `status` is a string in the body, as the RFC shows."""
    body: dict[str, Any] = {"schemas": [ERROR_SCHEMA], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return scim_response(body, status=status, headers=headers)
