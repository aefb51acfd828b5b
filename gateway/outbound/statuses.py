"""Vendor HTTP statuses as the connector error vocabulary (gateway/outbound/errors.py), in one table-like function.

Details are the gateway's own words: what failed, at which app, what to do.
The vendor's own text is untrusted (it may echo our credential or name its
internal hosts): only rejections (4xx the caller can act on) keep an excerpt
of it, scrubbed by gateway/outbound/vendor_text.py, and only a scimType RFC 7644
section 3.12 defines is passed on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import orjson

from gateway.outbound.errors import (
    AlreadyExists,
    ConnectorError,
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
from gateway.outbound.vendor_text import scrub

#: RFC 7644 section 3.12, table 9: the scimType values a 400 may carry.
SCIM_TYPES = frozenset(
    {
        "invalidFilter",
        "tooMany",
        "uniqueness",
        "mutability",
        "invalidSyntax",
        "invalidPath",
        "noTarget",
        "invalidValue",
        "invalidVers",
        "sensitive",
    }
)


def error_for(
    status: int, headers: Mapping[str, str], body: bytes, app: str, wall_now: float, secrets: Iterable[str] = ()
) -> ConnectorError:
    """The ConnectorError for a vendor answer that is not a success.

    Details name the app and never carry `secrets` (the app's credential values) or anything token-shaped.
    """
    label = f"app {app!r}"
    if status in (401, 403):
        return VendorAuthFailed(
            f"{label}: the vendor refused the gateway's credential (HTTP {status}); check the app's credentials"
        )
    if status == 404:
        return UnknownResource(f"{label}: the vendor has no such resource (HTTP 404)")
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
        return UpstreamFailure(f"{label}: the vendor failed (HTTP {status}); retry later")
    if not 400 <= status < 500:
        return VendorBadResponse(f"{label}: unexpected vendor status {status}")
    said, scim_type = _vendor_error(body, secrets)
    if status == 409:
        return AlreadyExists(f"{label}: the vendor already holds a conflicting resource (HTTP 409){said}")
    return VendorRejected(
        f"{label}: the vendor rejected the request (HTTP {status}){said}; correct the request before retrying",
        scim_type=scim_type,
    )


def _vendor_error(payload: bytes, secrets: Iterable[str]) -> tuple[str, str | None]:
    """(`; the vendor said: "<scrubbed excerpt>"` or "", an RFC scimType or None) from a SCIM/JSON error body."""
    try:
        body = orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return "", None
    if not isinstance(body, dict):
        return "", None
    text = body.get("detail") or body.get("message") or body.get("error_description")
    scim_type = body.get("scimType")
    said = f'; the vendor said: "{scrub(str(text), secrets)}"' if text else ""
    return said, (scim_type if scim_type in SCIM_TYPES else None)
