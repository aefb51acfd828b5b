"""Vendor authentication: one object per vendor account that signs each request.

The inbound caller's token is never forwarded; every upstream request is
signed afresh by the app's own credential. Auth that needs I/O (OAuth token
refresh) is given the app's UpstreamClient so its token requests are counted,
throttled and visible in tests like any other call.
"""

from __future__ import annotations

from collections.abc import MutableMapping

from pydantic import SecretStr


class VendorAuth:
    """Signs upstream requests. Subclasses override `sign` (and `invalidate` if stateful)."""

    async def sign(self, method: str, url: str, headers: MutableMapping[str, str]) -> None:
        """Add the credential to `headers` for a request of `method` to `url`."""
        raise NotImplementedError

    def invalidate(self) -> bool:
        """Forget cached credentials after a 401; True if a resend may now succeed."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted>)"


class StaticTokenAuth(VendorAuth):
    """`Authorization: <scheme> <token>`: Bearer for SCIM surfaces, `Token` for Orca REST."""

    def __init__(self, token: SecretStr, scheme: str = "Bearer") -> None:
        self._value = f"{scheme} {token.get_secret_value()}"
        self.scheme = scheme

    async def sign(self, method: str, url: str, headers: MutableMapping[str, str]) -> None:
        headers["Authorization"] = self._value

    def __repr__(self) -> str:
        return f"StaticTokenAuth(scheme={self.scheme!r}, token=<redacted>)"
