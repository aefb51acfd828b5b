"""The one wrapping layer around aiohttp through which every vendor call goes.

It signs each request with the app's VendorAuth, resends once after a 401 when
the auth can refresh, maps transport failures and HTTP statuses to the
connector error vocabulary (vendors/errors.py), never follows redirects (a
vendor must not steer us to another host), and records each call's status
for the audit record. Cross-cutting outbound concerns (throttle, retries,
metrics) belong here, not in connectors.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import orjson
from multidict import CIMultiDictProxy

from vendors.auth import VendorAuth
from vendors.errors import (
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

#: Statuses of the upstream calls made for the current inbound request (for audit).
upstream_statuses: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("upstream_statuses", default=None)

_JSON_HEADERS = {"Content-Type": "application/scim+json", "Accept": "application/scim+json, application/json"}
_RETRYABLE_5XX = {502, 503, 504}


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; raises VendorBadResponse if it is not JSON."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise VendorBadResponse("the vendor answered with a body that is not JSON") from None


class UpstreamClient:
    """Requests to one app's vendor, relative to `base_url`, signed by `auth`."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        auth: VendorAuth,
        app: str,
        observe: Callable[[str, int, float], None] | None = None,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.app = app
        self.observe = observe

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 204),
        scope: str | None = None,
    ) -> UpstreamResponse:
        """Send and return the response if its status is in `ok`; otherwise raise a ConnectorError.

        `scope` is passed to the app's auth: the least privilege this request needs.
        """
        url = path if path.startswith("http") and path.startswith(self.base_url) else self.base_url + path
        if params:
            # The query is part of what some vendors sign (Darktrace), so it is fixed before signing.
            url = f"{url}?{urlencode(params, quote_via=quote)}"
        body = orjson.dumps(json) if json is not None else data
        response = await self._send_signed(method, url, body, headers, scope)
        if response.status == 401 and self.auth.invalidate():
            response = await self._send_signed(method, url, body, headers, scope)
        if response.status not in ok:
            raise self.error_for(response)
        return response

    async def _send_signed(
        self,
        method: str,
        url: str,
        body: Any,
        extra: dict[str, str] | None,
        scope: str | None,
    ) -> UpstreamResponse:
        headers = dict(_JSON_HEADERS) if extra is None else {**_JSON_HEADERS, **extra}
        await self.auth.sign(method, url, headers, scope)
        started = time.perf_counter()
        try:
            async with self.session.request(method, url, data=body, headers=headers, allow_redirects=False) as raw:
                payload = await raw.read()
                response = UpstreamResponse(raw.status, raw.headers, payload)
        except TimeoutError:
            self._record(method, 0, started)
            raise VendorUnavailable(f"app {self.app!r}: the vendor did not answer in time") from None
        except aiohttp.ClientError as exc:
            self._record(method, 0, started)
            raise VendorUnavailable(f"app {self.app!r}: cannot reach the vendor ({type(exc).__name__})") from None
        self._record(method, response.status, started)
        return response

    def _record(self, method: str, status: int, started: float) -> None:
        statuses = upstream_statuses.get()
        if statuses is not None:
            statuses.append(status)
        if self.observe is not None:
            self.observe(method, status, time.perf_counter() - started)

    def error_for(self, response: UpstreamResponse) -> Exception:
        """Map a vendor status to the connector error vocabulary (vendors/errors.py)."""
        status = response.status
        detail, scim_type = _vendor_detail(response)
        app = f"app {self.app!r}"
        if status in (401, 403):
            return VendorAuthFailed(f"{app}: the vendor refused the gateway's credential (HTTP {status})")
        if status == 404:
            return UnknownResource(detail or "resource not found")
        if status == 409:
            return AlreadyExists(detail or f"{app}: the vendor reports a conflicting resource")
        if status == 429:
            return VendorThrottled(f"{app}: the vendor is throttling requests", retry_after=_retry_after(response))
        if status in (405, 501):
            return NotSupported(f"{app}: the vendor does not support this operation")
        if 300 <= status < 400:
            return VendorBadResponse(f"{app}: the vendor answered with a redirect, which the gateway refuses")
        if status in _RETRYABLE_5XX:
            wait = _retry_after(response)
            return VendorUnavailable(f"{app}: the vendor is unavailable (HTTP {status})", retry_after=wait)
        if status >= 500:
            return UpstreamFailure(f"{app}: the vendor failed (HTTP {status})")
        if 400 <= status < 500:
            detail = detail or f"{app}: the vendor rejected the request (HTTP {status})"
            return VendorRejected(detail, scim_type=scim_type)
        return VendorBadResponse(f"{app}: unexpected vendor status {status}")


def _vendor_detail(response: UpstreamResponse) -> tuple[str | None, str | None]:
    """The vendor's own error detail and scimType, when it sent a readable SCIM/JSON error."""
    try:
        body = orjson.loads(response.body) if response.body else None
    except orjson.JSONDecodeError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    detail = body.get("detail") or body.get("message") or body.get("error_description")
    scim_type = body.get("scimType")
    return (str(detail)[:500] if detail else None), (str(scim_type) if scim_type else None)


def _retry_after(response: UpstreamResponse) -> float | None:
    """Seconds from a Retry-After header (delta-seconds form); None when absent or unreadable."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
