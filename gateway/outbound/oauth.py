"""OAuth2 client-credentials auth (RFC 6749 section 4.4) with least privilege and single-flight refresh.

One object per app. Tokens are cached per scope set until shortly before they
expire; however many requests wait for a token, exactly one token request
is in flight per scope set; a 401 from the vendor drops the token that
request was signed with (only if it is still the cached one: a burst of 401s
for one revoked token causes one refresh, not one per request), so the
request is resent once with a fresh one. Token requests go through the
app's own UpstreamClient (no auth of its own), so they are counted,
throttled and visible in tests like any other vendor call. The client secret
never appears in a repr, a log line or an error detail.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import structlog
from pydantic import SecretStr

from gateway.outbound.auth import ClientFactory, Signed, VendorAuth
from gateway.outbound.errors import ConnectorError, VendorAuthFailed, VendorBadResponse, VendorUnavailable

if TYPE_CHECKING:
    from gateway.outbound.client import UpstreamClient

log = structlog.get_logger("scim_gateway.oauth")
#: What RFC 6749 section 3.3 allows in a scope string (NQCHAR and the separating space).
_SCOPE_TEXT = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")
#: Refresh this many seconds before the vendor says a token expires.
REFRESH_MARGIN = 30.0
#: Assumed lifetime when the token endpoint does not say (RFC 6749 section 5.1 makes expires_in optional).
DEFAULT_LIFETIME = 300.0


@dataclass
class _Token:
    value: str
    expires_at: float


@dataclass(frozen=True)
class BearerSigned:
    """What a request was signed with: the scope set's cache key and the token (never printed)."""

    scope: str
    token: str = field(repr=False)


class NoAuth(VendorAuth):
    """For the token endpoint itself: the client authenticates in the form body."""

    async def sign(self, method: str, url: str, headers: MutableMapping[str, str], scope: str | None = None) -> Signed:
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
        self._flights: dict[str, asyncio.Future[str]] = {}
        self.token_client: UpstreamClient | None = None
        #: Token requests by outcome, read by the metrics collector.
        self.refresh_outcomes: dict[str, int] = {"success": 0, "failure": 0}
        #: Requested scopes already warned about (bounded by the configured scopes).
        self._scope_warned: set[str] = set()

    def bind(self, make_client: ClientFactory) -> None:
        self.token_client = make_client(self.token_url, NoAuth())

    async def sign(
        self, method: str, url: str, headers: MutableMapping[str, str], scope: str | None = None
    ) -> BearerSigned:
        wanted = self.scopes.get(scope or "", self.default_scope)
        token = await self.token(wanted)
        headers["Authorization"] = f"Bearer {token}"
        return BearerSigned(wanted, token)

    def invalidate(self, signed: Signed) -> bool:
        """Drop the token a request answered 401 was signed with, unless another request already replaced it.

        `signed` is what `sign` returned for it; anything else (None) drops every cached token.
        """
        if not isinstance(signed, BearerSigned):
            self._tokens.clear()
            return True
        cached = self._tokens.get(signed.scope)
        if cached is not None and cached.value == signed.token:
            del self._tokens[signed.scope]
        return True

    async def token(self, scope: str) -> str:
        """A valid access token for `scope`.

        Single flight: however many requests find the token missing or expired,
        one token request is made and every waiter shares its outcome, a failure
        included (so a down token endpoint is asked once per burst, not once per
        waiter).
        """
        cached = self._tokens.get(scope)
        if cached is not None and cached.expires_at > self.clock():
            return cached.value
        flight = self._flights.get(scope)
        if flight is None:
            flight = asyncio.ensure_future(self._refresh(scope))
            self._flights[scope] = flight
            flight.add_done_callback(lambda done: self._landed(scope, done))
        # shield: a waiter that is cancelled must not cancel the refresh the others wait for
        return await asyncio.shield(flight)

    async def _refresh(self, scope: str) -> str:
        fresh = await self._request_token(scope)
        self._tokens[scope] = fresh
        return fresh.value

    def _landed(self, scope: str, done: asyncio.Future[str]) -> None:
        if self._flights.get(scope) is done:
            del self._flights[scope]
        if not done.cancelled():
            done.exception()  # retrieved here too, so a failure nobody awaited is not reported as lost

    async def _request_token(self, scope: str) -> _Token:
        if self.token_client is None:
            raise RuntimeError("ClientCredentialsAuth used before bind()")
        fields = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._secret.get_secret_value(),
        }
        if scope:  # RFC 6749 section 3.3: optional; an empty scope parameter is refused by some servers
            fields["scope"] = scope
        form = urlencode(fields)
        app = self.token_client.app
        self.refresh_outcomes["failure"] += 1  # until proven otherwise
        try:
            response = await self.token_client.request(
                "POST",
                "",
                data=form.encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
                ok=(200,),
                # A refresh serves every request waiting for the token, so no one request's budget bounds it.
                budget=self.token_client.new_budget(),
            )
        except VendorUnavailable as exc:
            detail = f"app {app!r}: the vendor's token endpoint is unavailable"
            raise VendorUnavailable(detail, retry_after=exc.retry_after) from None
        except ConnectorError:
            # The vendor's own wording is dropped: nothing it echoes from the form can reach the caller.
            detail = (
                f"app {app!r}: the token endpoint refused the client-credentials grant for scope {scope!r};"
                " check the API client's id, secret and granted scopes"
            )
            raise VendorAuthFailed(detail) from None
        body = response.json()
        token = self._parse(body, app)
        self._note_granted(scope, body.get("scope"), app)
        self.refresh_outcomes["failure"] -= 1
        self.refresh_outcomes["success"] += 1
        return token

    def _note_granted(self, requested: str, granted: Any, app: str) -> None:
        """Warn, once per requested scope, when the token grants other scopes than asked (RFC 6749 section 3.3).

        The token is still used: the vendor decides per call what it allows, and
        a 403 names the app. An absent `scope` means "as requested" (section 5.1).
        """
        if not requested or not isinstance(granted, str) or set(granted.split()) == set(requested.split()):
            return
        if requested in self._scope_warned:
            return
        self._scope_warned.add(requested)
        shown = _SCOPE_TEXT.sub("", granted)[:200]  # the server's text: printable scope characters only
        log.warning("oauth_scope_differs", app=app, requested_scope=requested, granted_scope=shown)

    def seconds_to_expiry(self) -> float | None:
        """Seconds until the soonest cached token must be refreshed; None when none is cached."""
        if not self._tokens:
            return None
        return max(0.0, min(token.expires_at for token in self._tokens.values()) - self.clock())

    def _parse(self, body: Any, app: str) -> _Token:
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise VendorBadResponse(f"app {app!r}: the token endpoint answered without an access_token")
        try:
            lifetime = float(body.get("expires_in", DEFAULT_LIFETIME))
        except (TypeError, ValueError):
            lifetime = DEFAULT_LIFETIME
        if not math.isfinite(lifetime) or lifetime <= 0:
            lifetime = DEFAULT_LIFETIME
        return _Token(body["access_token"], self.clock() + max(lifetime - REFRESH_MARGIN, lifetime / 2))

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(client_id={self.client_id!r}, client_secret=<redacted>)"
