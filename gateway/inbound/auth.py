"""Inbound authentication: per-tenant bearer tokens, stored only as SHA-256 hashes.

The tenant comes from the URL, and the presented token is compared against
that tenant's hashes only, each in constant time (hmac.compare_digest), so a
token of one tenant never reaches another tenant's apps and timing does not
reveal which hash came close.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

from scim2_models import UnauthorizedException


def hash_token(token: str) -> str:
    """The hex SHA-256 of a token, as stored in the config (`scim-gateway hash-token`)."""
    return hashlib.sha256(token.encode()).hexdigest()


#: Distinct accepted Authorization values remembered per tenant (a few tokens, each maybe spelled two ways).
MAX_ACCEPTED = 64


class TokenVerifier:
    """Verifies `Authorization: Bearer <token>` against one tenant's (name, sha256) pairs."""

    def __init__(self, tokens: Sequence[tuple[str, str]]) -> None:
        self._tokens = [(name, bytes.fromhex(digest)) for name, digest in tokens]
        #: Authorization values already verified -> token name, so a caller's every request is not re-hashed.
        #: Only accepted values enter (bounded), so a flood of bad tokens cannot grow or churn it; a lookup
        #: compares strings only after their (per-process keyed) hashes match, leaking nothing usable.
        self._accepted: dict[str, str] = {}

    def accepted(self, authorization: str | None) -> str | None:
        """The token name if this exact Authorization value was verified before, else None (check it then)."""
        if authorization is None:
            return None
        return self._accepted.get(authorization)

    def verify(self, authorization: str | None) -> str:
        """Return the matching token's name; raises UnauthorizedException (401)."""
        known = self.accepted(authorization)
        if known is not None:
            return known
        name = self._verify(authorization)
        if authorization is not None:  # always, once _verify accepted it
            if len(self._accepted) >= MAX_ACCEPTED:
                self._accepted.clear()
            self._accepted[authorization] = name
        return name

    def _verify(self, authorization: str | None) -> str:
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise UnauthorizedException(detail="a bearer token is required")
        digest = hashlib.sha256(token.encode()).digest()
        matched: str | None = None
        for name, expected in self._tokens:
            if hmac.compare_digest(digest, expected) and matched is None:
                matched = name
        if matched is None:
            raise UnauthorizedException(detail="the bearer token is not valid for this tenant")
        return matched


#: The verifier of a tenant that does not exist: every value fails exactly as a wrong token of a known tenant.
NO_TOKENS = TokenVerifier([])
