"""The vocabulary connectors speak when a vendor call does not go as asked.

Connectors raise these; the gateway renders each as a SCIM Error (RFC 7644
section 3.12) in one place (gateway/inbound/render.py, whose docstring draws
every exception the gateway raises). Each is a scim2-models SCIMException, so
one tree holds protocol, connector and upstream errors alike. Details name the
app, never a credential.
"""

from __future__ import annotations

from scim2_models import SCIMException


class ConnectorError(SCIMException):
    """Base of connector errors; `status`, `scim_type` and `detail` are what the caller sees."""

    status: int = 500

    def __init__(self, detail: str, *, scim_type: str | None = None) -> None:
        super().__init__(detail=detail)
        if scim_type is not None:
            self.scim_type = scim_type


class UnknownResource(ConnectorError):
    """The vendor has no resource with that id (404)."""

    status = 404


class AlreadyExists(ConnectorError):
    """The vendor holds a clashing resource (409 uniqueness)."""

    status = 409
    scim_type = "uniqueness"


class VendorRejected(ConnectorError):
    """The vendor refused the content (400; an RFC scimType it gave is kept)."""

    status = 400


class NotSupported(ConnectorError):
    """The vendor cannot do this at all (501), said before any vendor call where it can be known."""

    status = 501


class UpstreamFailure(ConnectorError):
    """The vendor or the network failed, not the caller (502)."""

    status = 502


class VendorAuthFailed(UpstreamFailure):
    """The vendor refused the gateway's own credential for the app (502)."""


class VendorBadResponse(UpstreamFailure):
    """The vendor answered something the gateway cannot use (502)."""


class VendorUnavailable(UpstreamFailure):
    """5xx, timeout or connection failure after the retries the deadline allowed (503 with Retry-After)."""

    status = 503

    def __init__(self, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class VendorThrottled(VendorUnavailable):
    """A 429 for the caller too (RFC 6585 section 4), with Retry-After: IdPs (Okta, Entra) reschedule on it."""

    status = 429
