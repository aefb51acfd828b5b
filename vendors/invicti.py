"""Invicti Platform Identity SCIM v2 (`invicti`): SCIM at /api/scim/v2 on the Platform host.

Invicti spells filter operators capitalised (`userName Eq "x"`), so filters
are re-rendered from the parsed tree in that spelling.

Auth is pluggable: a static API bearer (`credentials: {token}`) or, as the
Invicti Platform API prefers, OAuth2 client credentials (`credentials:
{client_id, client_secret}` with `token_url`, optional `scope`), served by the
same single-flight ClientCredentialsAuth as Delinea. Invicti's public guide
does not name the token URL, so it must be configured.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr, field_validator, model_validator
from scim2_models.path import (
    Comparison,
    FilterNode,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)

from gateway.outbound.auth import VendorAuth
from gateway.outbound.oauth import ClientCredentialsAuth
from vendors.base import SearchQuery
from vendors.facts import INVICTI
from vendors.scim_passthrough import BearerCredentials, ScimPassthroughConnector, ScimSettings


class ClientCredentials(BaseModel):
    """An Invicti Platform API client (OAuth2 client credentials, RFC 6749 section 4.4)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    client_id: SecretStr
    client_secret: SecretStr


class InvictiSettings(ScimSettings):
    """ScimSettings plus the OAuth option: `token_url` (and `scope`) go with client credentials."""

    # Widens ScimSettings' bearer-only credentials: pydantic validates against this field.
    credentials: BearerCredentials | ClientCredentials  # type: ignore[assignment]
    token_url: str | None = None
    scope: str | None = None

    @field_validator("token_url")
    @classmethod
    def _token_url_is_http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value

    @model_validator(mode="after")
    def _oauth_is_complete(self) -> InvictiSettings:
        oauth = isinstance(self.credentials, ClientCredentials)
        if oauth and not self.token_url:
            raise ValueError("token_url is required with client_id/client_secret credentials")
        if not oauth and (self.token_url or self.scope):
            raise ValueError("token_url and scope only apply to client_id/client_secret credentials")
        return self


class CapitalisedFilter(FilterVisitor[str]):
    """Render a filter tree with Invicti's operator spelling (`Eq`, `And`, `Pr`, `Not`)."""

    def visit_comparison(self, node: Comparison) -> str:
        return f"{node.attr_path} {node.op.value.capitalize()} {_literal(node)}"

    def visit_present(self, node: Present) -> str:
        return f"{node.attr_path} Pr"

    def visit_not(self, node: Not) -> str:
        return f"Not ({self.visit(node.expr)})"

    def visit_logical_expr(self, node: LogicalExpr) -> str:
        separator = f" {node.op.value.capitalize()} "
        return separator.join(self._term(node, term) for term in node.terms)

    def visit_value_path(self, node: ValuePath) -> str:
        return f"{node.attr_path}[{self.visit(node.val_filter)}]"

    def _term(self, parent: LogicalExpr, term: FilterNode) -> str:
        text = self.visit(term)
        nested_or = isinstance(term, LogicalExpr) and term.op == LogicalOperator.or_
        return f"({text})" if nested_or and parent.op == LogicalOperator.and_ else text


def _literal(node: Comparison) -> str:
    # The RFC rendering of the value (quoting and escaping) is the part after the operator.
    return str(node).split(f" {node.op.value} ", 1)[1]


class InvictiConnector(ScimPassthroughConnector):
    vendor = "invicti"
    facts = INVICTI
    Settings = InvictiSettings
    #: vendor-docs/invicti-scim.txt's example group: membership of "Administrators" administers the account.
    privileged_roles = frozenset({"Administrators"})

    @classmethod
    def vendor_auth(cls, settings: Any) -> VendorAuth:
        credentials = settings.credentials
        if not isinstance(credentials, ClientCredentials):
            return super().vendor_auth(settings)
        return ClientCredentialsAuth(
            token_url=settings.token_url,
            client_id=credentials.client_id.get_secret_value(),
            client_secret=credentials.client_secret,
            scopes={},
            default_scope=settings.scope or "",
        )

    def render_filter(self, query: SearchQuery) -> str | None:
        return None if query.filter is None else CapitalisedFilter().visit(query.filter.ast)
