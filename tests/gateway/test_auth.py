import pytest
from scim2_models import UnauthorizedException

from gateway.auth import TokenVerifier, hash_token


def test_verify_returns_the_token_name():
    verifier = TokenVerifier([("okta", hash_token("one")), ("entra", hash_token("two"))])
    assert verifier.verify("Bearer two") == "entra"
    assert verifier.verify("bearer  one ") == "okta"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer wrong", "Basic b25lOg==", "Token one"])
def test_anything_else_is_401(header):
    with pytest.raises(UnauthorizedException):
        TokenVerifier([("okta", hash_token("one"))]).verify(header)


def test_hash_token_is_hex_sha256():
    assert hash_token("acme-demo-token") == "79665b9580ab672b11d07c958da63e90a03b2b9fbf6365b47972b7d1762406a7"
