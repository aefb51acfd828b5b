"""Operator tokens in the config: scopes (read-only by default), tenants, and errors naming their key."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.admin.scopes import Scope
from gateway.config import parse_config, read_yaml
from gateway.demo import DEMO_TOKENS, demo_config_path, placeholder_environment
from gateway.inbound.auth import hash_token
from gateway.secrets import ConfigError


def demo_raw(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    for name, value in placeholder_environment().items():
        monkeypatch.setenv(name, value)
    return read_yaml(demo_config_path())


def test_the_demo_operator_token_holds_every_scope(monkeypatch: pytest.MonkeyPatch) -> None:
    (token,) = parse_config(demo_raw(monkeypatch)).observability.operator_tokens
    assert token.sha256 == hash_token("demo-operator-token")
    assert set(token.scopes) == {scope.value for scope in Scope} and token.tenants is None


def test_operator_tokens_default_to_read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = demo_raw(monkeypatch)
    raw["observability"]["operator_tokens"] = [{"name": "ops", "sha256": "a" * 64}]
    (token,) = parse_config(raw).observability.operator_tokens
    assert token.scopes == ["read"] and token.tenants is None


@pytest.mark.parametrize(
    ("token", "path", "message"),
    [
        ({"scopes": ["read", "admin"]}, "observability.operator_tokens.0.scopes.1", "'read', 'offboard'"),
        ({"scopes": []}, "observability.operator_tokens.0.scopes", "at least 1"),
        ({"tenants": ["initech"]}, "observability.operator_tokens.0.tenants", "no tenant 'initech'"),
        ({"sha256": hash_token(DEMO_TOKENS["acme"])}, "observability.operator_tokens.0.sha256", "SCIM token"),
        ({"name": "demo-operator"}, "observability.operator_tokens.1.name", "given twice"),
    ],
    ids=["unknown-scope", "no-scopes", "unknown-tenant", "scim-token", "duplicate-name"],
)
def test_operator_token_errors_name_their_key(
    monkeypatch: pytest.MonkeyPatch, token: dict[str, Any], path: str, message: str
) -> None:
    raw = demo_raw(monkeypatch)
    first = {"name": "ops", "sha256": "b" * 64, **token}
    tokens = raw["observability"]["operator_tokens"]
    raw["observability"]["operator_tokens"] = [*tokens, first] if token.get("name") else [first]
    with pytest.raises(ConfigError) as error:
        parse_config(raw)
    assert error.value.path == path and message in error.value.message, str(error.value)
