"""Vendor authentication: one object per vendor account that signs each request.

The inbound caller's token is never forwarded; every upstream request is
signed afresh by the app's own credential. Auth that needs I/O (OAuth token
refresh) is given the app's UpstreamClient so its token requests are counted,
throttled and visible in tests like any other call.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING

from pydantic import SecretStr

if TYPE_CHECKING:
    from gateway.outbound.client import UpstreamClient

#: Builds an UpstreamClient on the app's own session: (base URL, auth) -> client.
ClientFactory = Callable[[str, "VendorAuth"], "UpstreamClient"]
#: What `sign` signed a request with, opaque to its caller: handed back to `invalidate` after a 401.
#: None when there is nothing to tell apart (static credentials).
Signed = object | None


class VendorAuth:
    """Signs upstream requests. Subclasses override `sign` (and `invalidate` if they cache credentials).

    No state links one `sign` to a later `invalidate`: the caller keeps what `sign` returned and hands it back.
    """

    async def sign(self, method: str, url: str, headers: MutableMapping[str, str], scope: str | None = None) -> Signed:
        """Add the credential to `headers` for a request of `method` to `url`; return what it signed with.

        `scope` names the least privilege the request needs, for auth that can
        ask for exactly that (OAuth2); static credentials ignore it.
        """
        raise NotImplementedError

    def fixed_headers(self) -> dict[str, str] | None:
        """The headers `sign` adds when they are the same for every request (then callers add them once); else None."""
        return None

    def invalidate(self, signed: Signed) -> bool:
        """Forget the credential `signed` (what `sign` returned for the request answered 401).

        True if a resend may now succeed. None: forget every cached credential.
        """
        return False

    def bind(self, make_client: ClientFactory) -> None:
        """Called once at start-up; auth that needs I/O keeps a client for it (on the app's session)."""
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(<redacted>)"


class StaticTokenAuth(VendorAuth):
    """`Authorization: <scheme> <token>`: Bearer for SCIM surfaces, `Token` for Orca REST."""

    def __init__(self, token: SecretStr, scheme: str = "Bearer") -> None:
        self._value = f"{scheme} {token.get_secret_value()}"
        self.scheme = scheme

    async def sign(self, method: str, url: str, headers: MutableMapping[str, str], scope: str | None = None) -> Signed:
        headers["Authorization"] = self._value
        return None

    def fixed_headers(self) -> dict[str, str] | None:
        # Only while `sign` is this one: a subclass that signs per request must not be bypassed.
        return {"Authorization": self._value} if type(self).sign is StaticTokenAuth.sign else None

    def __repr__(self) -> str:
        return f"StaticTokenAuth(scheme={self.scheme!r}, token=<redacted>)"
