"""OAuth2 client-credentials auth (RFC 6749 section 4.4) with least privilege and single-flight refresh.

One object per app. Tokens are cached per scope set until shortly before they
expire; however many requests wait for a token, exactly one token request
is in flight per scope set; a 401 from the vendor drops the cached tokens so
the request is resent once with a fresh one. Token requests go through the
app's own UpstreamClient (no auth of its own), so they are counted,
throttled and visible in tests like any other vendor call. The client secret
never appears in a repr, a log line or an error detail.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from pydantic import SecretStr

from vendors.auth import ClientFactory, VendorAuth
from vendors.errors import ConnectorError, VendorAuthFailed, VendorBadResponse, VendorUnavailable

if TYPE_CHECKING:
    from gateway.upstream import UpstreamClient

#: Refresh this many seconds before the vendor says a token expires.
REFRESH_MARGIN = 30.0


@dataclass
class _Token:
    value: str
    expires_at: float


class NoAuth(VendorAuth):
    """For the token endpoint itself: the client authenticates in the form body."""

    async def sign(self, method: str, url: str, headers: MutableMapping[str, str], scope: str | None = None) -> None:
        return None


class ClientCredentialsAuth(VendorAuth):
    """Bearer tokens from a client-credentials grant, one cached token per requested scope set.

    `scopes` maps the purpose a connector names (e.g. "read") to the OAuth
    scope string to request; a request with no purpose uses `default_scope`.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        scopes: Mapping[str, str],
        default_scope: str,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scopes = dict(scopes)
        self.default_scope = default_scope
        self.clock = clock
        self._tokens: dict[str, _Token] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.token_client: UpstreamClient | None = None
        #: Token requests by outcome, read by the metrics collector.
        self.refresh_outcomes: dict[str, int] = {"success": 0, "failure": 0}

    def bind(self, make_client: ClientFactory) -> None:
        self.token_client = make_client(self.token_url, NoAuth())

    async def sign(self, method: str, url: str, headers: MutableMapping[str, str], scope: str | None = None) -> None:
        token = await self.token(self.scopes.get(scope or "", self.default_scope))
        headers["Authorization"] = f"Bearer {token}"

    def invalidate(self) -> bool:
        self._tokens.clear()
        return True

    async def token(self, scope: str) -> str:
        """A valid access token for `scope`; refreshes at most once concurrently per scope."""
        cached = self._tokens.get(scope)
        if cached is not None and cached.expires_at > self.clock():
            return cached.value
        lock = self._locks.setdefault(scope, asyncio.Lock())
        async with lock:
            cached = self._tokens.get(scope)  # another waiter may have refreshed it meanwhile
            if cached is not None and cached.expires_at > self.clock():
                return cached.value
            fresh = await self._request_token(scope)
            self._tokens[scope] = fresh
            return fresh.value

    async def _request_token(self, scope: str) -> _Token:
        if self.token_client is None:
            raise RuntimeError("ClientCredentialsAuth used before bind()")
        form = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self._secret.get_secret_value(),
                "scope": scope,
            }
        )
        app = self.token_client.app
        self.refresh_outcomes["failure"] += 1  # until proven otherwise
        try:
            response = await self.token_client.request(
                "POST",
                "",
                data=form.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                ok=(200,),
            )
        except VendorUnavailable:
            raise VendorUnavailable(f"app {app!r}: the vendor's token endpoint is unavailable") from None
        except ConnectorError:
            detail = f"app {app!r}: the token endpoint refused the gateway's client credentials"
            raise VendorAuthFailed(detail) from None
        token = self._parse(response.json(), app)
        self.refresh_outcomes["failure"] -= 1
        self.refresh_outcomes["success"] += 1
        return token

    def seconds_to_expiry(self) -> float | None:
        """Seconds until the soonest cached token must be refreshed; None when none is cached."""
        if not self._tokens:
            return None
        return max(0.0, min(token.expires_at for token in self._tokens.values()) - self.clock())

    def _parse(self, body: Any, app: str) -> _Token:
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise VendorBadResponse(f"app {app!r}: the token endpoint answered without an access_token")
        lifetime = float(body.get("expires_in", 300))
        return _Token(body["access_token"], self.clock() + max(lifetime - REFRESH_MARGIN, lifetime / 2))

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(client_id={self.client_id!r}, client_secret=<redacted>)"
