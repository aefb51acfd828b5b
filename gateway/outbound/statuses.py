"""Vendor HTTP statuses as the connector error vocabulary (gateway/outbound/errors.py), in one table-like function."""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from gateway.outbound.errors import (
    AlreadyExists,
    NotSupported,
    UnknownResource,
    UpstreamFailure,
    VendorAuthFailed,
    VendorBadResponse,
    VendorRejected,
    VendorThrottled,
    VendorUnavailable,
)
from gateway.outbound.retry import RETRYABLE_STATUSES, parse_retry_after


def error_for(status: int, headers: Mapping[str, str], body: bytes, app: str, wall_now: float) -> Exception:
    """The ConnectorError for a vendor answer that is not a success; details name the app, never a credential."""
    detail, scim_type = _vendor_detail(body)
    label = f"app {app!r}"
    if status in (401, 403):
        return VendorAuthFailed(f"{label}: the vendor refused the gateway's credential (HTTP {status})")
    if status == 404:
        return UnknownResource(detail or "resource not found")
    if status == 409:
        return AlreadyExists(detail or f"{label}: the vendor reports a conflicting resource")
    if status == 429:
        wait = parse_retry_after(headers.get("Retry-After"), wall_now)
        return VendorThrottled(f"{label}: the vendor is throttling requests", retry_after=wait)
    if status in (405, 501):
        return NotSupported(f"{label}: the vendor does not support this operation")
    if 300 <= status < 400:
        return VendorBadResponse(f"{label}: the vendor answered with a redirect, which the gateway refuses")
    if status in RETRYABLE_STATUSES:
        wait = parse_retry_after(headers.get("Retry-After"), wall_now)
        return VendorUnavailable(f"{label}: the vendor is unavailable (HTTP {status})", retry_after=wait)
    if status >= 500:
        return UpstreamFailure(f"{label}: the vendor failed (HTTP {status})")
    if 400 <= status < 500:
        detail = detail or f"{label}: the vendor rejected the request (HTTP {status})"
        return VendorRejected(detail, scim_type=scim_type)
    return VendorBadResponse(f"{label}: unexpected vendor status {status}")


def _vendor_detail(payload: bytes) -> tuple[str | None, str | None]:
    """The vendor's own error detail and scimType, when it sent a readable SCIM/JSON error."""
    try:
        body = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    detail = body.get("detail") or body.get("message") or body.get("error_description")
    scim_type = body.get("scimType")
    return (str(detail)[:500] if detail else None), (str(scim_type) if scim_type else None)
