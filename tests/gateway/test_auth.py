import pytest
from scim2_models import UnauthorizedException

from gateway.inbound.auth import MAX_ACCEPTED, TokenVerifier, hash_token


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


def test_a_verified_header_is_remembered_and_a_refused_one_is_not():
    verifier = TokenVerifier([("okta", hash_token("one"))])
    for _ in range(3):
        assert verifier.verify("Bearer one") == "okta"
        with pytest.raises(UnauthorizedException):
            verifier.verify("Bearer wrong")
    assert verifier._accepted == {"Bearer one": "okta"}


def test_the_memory_of_verified_headers_stays_bounded():
    tokens = [(f"t{index}", hash_token(f"secret-{index}")) for index in range(MAX_ACCEPTED + 10)]
    verifier = TokenVerifier(tokens)
    for index in range(MAX_ACCEPTED + 10):
        assert verifier.verify(f"Bearer secret-{index}") == f"t{index}"
        assert len(verifier._accepted) <= MAX_ACCEPTED
