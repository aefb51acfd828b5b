"""Operator tokens: who is calling the admin API and what they may do.

Operator tokens are configured once (`observability.operator_tokens`), hashed like tenant tokens,
each with `scopes` (default `read`) and optionally the `tenants` it may act on (default: every
tenant). They are checked against operator hashes only: an IdP's SCIM token is never one of them
(the config refuses the same hash in both lists), so it never opens the admin API.

    read      GET people, access review (GET and POST with a roster), reconciliation results
    offboard  POST people/offboard (dry runs included: a dry run is how an offboarding starts)
    work      start work: a reconciliation
    approve   approve queued work (reserved for issue 19)
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gateway.admin.errors import MissingScope
from gateway.config import GatewayConfig
from gateway.inbound.auth import TokenVerifier


class Scope(StrEnum):
    READ = "read"
    OFFBOARD = "offboard"
    WORK = "work"
    APPROVE = "approve"


@dataclass(frozen=True)
class Operator:
    """An authenticated operator token: its configured name (what audit records say), scopes, tenants."""

    name: str
    scopes: frozenset[Scope]
    #: None: every tenant.
    tenants: frozenset[str] | None

    def require(self, tenant: str, scope: Scope) -> None:
        """Raise MissingScope (403) unless this token may do `scope` on `tenant`."""
        if self.tenants is not None and tenant not in self.tenants:
            raise MissingScope(detail=f"operator token {self.name!r} may not act on tenant {tenant!r}")
        if scope not in self.scopes:
            raise MissingScope(detail=f"operator token {self.name!r} lacks the {scope.value!r} scope")


class Operators:
    """The configured operator tokens: verifies a bearer value and returns its Operator."""

    def __init__(self, config: GatewayConfig) -> None:
        tokens = config.observability.operator_tokens
        self.verifier = TokenVerifier([(token.name, token.sha256) for token in tokens])
        self._grants = {
            token.name: Operator(
                token.name,
                frozenset(Scope(scope) for scope in token.scopes),
                None if token.tenants is None else frozenset(token.tenants),
            )
            for token in tokens
        }

    def accepted(self, authorization: str | None) -> Operator | None:
        """The Operator for an Authorization value this process verified before, else None (check it then)."""
        name = self.verifier.accepted(authorization)
        return None if name is None else self._grants[name]

    def verify(self, authorization: str | None) -> Operator:
        """The Operator of a valid bearer token; raises UnauthorizedException (401)."""
        return self._grants[self.verifier.verify(authorization)]
