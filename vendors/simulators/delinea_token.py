"""Delinea Platform simulator: the OAuth2 token endpoint (`POST /identity/connect/token`).

Client-credentials grant only (RFC 6749 section 4.4), credentials in the
form body as Delinea's guide shows. Tokens are short-lived and carry the
scopes granted; a client asking for a scope it was not granted, or an unknown
client, is refused with the RFC 6749 section 5.2 error. The clock is
injectable so tests expire tokens without sleeping, and token requests are
counted by requested scope so tests can prove single-flight and least
privilege.
"""

from __future__ import annotations

import collections
import hmac
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from vendors.simulators.base import Receive, Scope, Send, read_body, send_json

TOKEN_PATH = "/identity/connect/token"
READ, WRITE, ADMIN = "delinea:api:read", "delinea:api:write", "delinea:api:admin"
ALL_SCOPES = (READ, WRITE, ADMIN)


@dataclass(frozen=True)
class ApiClient:
    """An API client from Admin > Integrations > API Clients."""

    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = ALL_SCOPES


@dataclass(frozen=True)
class IssuedToken:
    client_id: str
    scopes: frozenset[str]
    expires_at: float


class TokenIssuer:
    """Issues and checks access tokens; an ASGI app for the token endpoint at `path`.

    Also serves other vendors' client-credentials endpoints (Invicti), with their own path.
    """

    def __init__(
        self,
        clients: Iterable[ApiClient],
        lifetime: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        path: str = TOKEN_PATH,
    ) -> None:
        self.path = path
        self.clients = {client.client_id: client for client in clients}
        self.lifetime = lifetime
        self.clock = clock
        self.tokens: dict[str, IssuedToken] = {}
        #: Issue the scopes the client holds out of those asked, instead of refusing the rest
        #: (RFC 6749 section 3.3 allows it; some identity servers do it). Refused only when none is held.
        self.downscope = False
        #: Token requests by the scope string asked for (as sent), granted or not.
        self.requests_by_scope: collections.Counter[str] = collections.Counter()
        self.issued = 0

    def check(self, token: str) -> IssuedToken | None:
        """The live token, or None when it is unknown, revoked or expired."""
        issued = self.tokens.get(token)
        if issued is None or issued.expires_at <= self.clock():
            return None
        return issued

    def revoke_all(self) -> None:
        """Forget every issued token (what a key rotation or restart does): the next call gets 401."""
        self.tokens.clear()

    def state(self) -> dict[str, object]:
        return {
            "requests_by_scope": dict(self.requests_by_scope),
            "issued": self.issued,
            "live": sum(1 for token in self.tokens.values() if token.expires_at > self.clock()),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"] != self.path:
            await send_json(send, 404, {"error": "not_found"})
            return
        if scope["method"] != "POST":
            await send_json(send, 405, {"error": "invalid_request", "error_description": "use POST"})
            return
        form = dict(parse_qsl((await read_body(receive)).decode("utf-8", "replace")))
        status, body = self._grant(form)
        await send_json(send, status, body, [(b"cache-control", b"no-store")])

    def _grant(self, form: dict[str, str]) -> tuple[int, dict[str, object]]:
        requested = form.get("scope", "")
        self.requests_by_scope[requested] += 1
        if form.get("grant_type") != "client_credentials":
            return 400, _error("unsupported_grant_type", "only client_credentials is enabled for API clients")
        client = self.clients.get(form.get("client_id", ""))
        secret = form.get("client_secret", "")
        if client is None or not hmac.compare_digest(secret.encode(), client.client_secret.encode()):
            return 401, _error("invalid_client", "unknown client or wrong secret")
        scopes = frozenset(requested.split()) or frozenset(client.scopes)
        if self.downscope and scopes & set(client.scopes):
            scopes &= set(client.scopes)
        if not scopes <= set(client.scopes):
            return 400, _error("invalid_scope", "the client is not granted: " + " ".join(sorted(scopes)))
        now = self.clock()
        self.tokens = {value: issued for value, issued in self.tokens.items() if issued.expires_at > now}
        token = secrets.token_urlsafe(24)
        self.tokens[token] = IssuedToken(client.client_id, scopes, now + self.lifetime)
        self.issued += 1
        return 200, {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(self.lifetime),
            "scope": " ".join(sorted(scopes)),
        }


def _error(code: str, description: str) -> dict[str, object]:
    return {"error": code, "error_description": description}
