"""The vocabulary connectors speak when a vendor call does not go as asked.

Connectors raise these; the gateway renders each as a SCIM Error (RFC 7644
section 3.12) in one place. Details name the app, never a credential.

    ConnectorError                 status, scim_type, detail
     +-- UnknownResource           404  the vendor has no such id
     +-- AlreadyExists             409  uniqueness: the vendor holds a clashing resource
     +-- VendorRejected            400  the vendor refused the content (its scimType kept)
     +-- NotSupported              501  the vendor cannot do this at all
     +-- UpstreamFailure           502  the vendor or the network failed, not the caller
          +-- VendorAuthFailed     502  the gateway's own credential for the app was refused
          +-- VendorBadResponse    502  the vendor answered something we cannot read
          +-- VendorUnavailable    503  5xx, timeout or connection error (retryable)
               +-- VendorThrottled 429  the vendor is throttling: relayed as throttling (Retry-After)
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of connector errors; `status` and `scim_type` are what the caller sees."""

    status: int = 500
    scim_type: str | None = None

    def __init__(self, detail: str, *, scim_type: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if scim_type is not None:
            self.scim_type = scim_type


class UnknownResource(ConnectorError):
    status = 404


class AlreadyExists(ConnectorError):
    status = 409
    scim_type = "uniqueness"


class VendorRejected(ConnectorError):
    status = 400


class NotSupported(ConnectorError):
    status = 501


class UpstreamFailure(ConnectorError):
    status = 502
    retryable = False


class VendorAuthFailed(UpstreamFailure):
    pass


class VendorBadResponse(UpstreamFailure):
    pass


class VendorUnavailable(UpstreamFailure):
    status = 503
    retryable = True

    def __init__(self, detail: str, *, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class VendorThrottled(VendorUnavailable):
    """A 429 for the caller too (RFC 6585 section 4), with Retry-After: IdPs (Okta, Entra) reschedule on it."""

    status = 429
