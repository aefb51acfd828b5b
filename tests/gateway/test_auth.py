import pytest
from scim2_models import UnauthorizedException

from gateway.inbound.auth import MAX_ACCEPTED, TokenVerifier, hash_token


def test_verify_returns_the_token_name() -> None:
    verifier = TokenVerifier([("okta", hash_token("one")), ("entra", hash_token("two"))])
    assert verifier.verify("Bearer two") == "entra"
    assert verifier.verify("bearer  one ") == "okta"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer wrong", "Basic b25lOg==", "Token one"])
def test_anything_else_is_401(header: str | None) -> None:
    with pytest.raises(UnauthorizedException):
        TokenVerifier([("okta", hash_token("one"))]).verify(header)


def test_hash_token_is_hex_sha256() -> None:
    assert hash_token("acme-demo-token") == "79665b9580ab672b11d07c958da63e90a03b2b9fbf6365b47972b7d1762406a7"


def test_a_verified_header_is_remembered_and_a_refused_one_is_not() -> None:
    verifier = TokenVerifier([("okta", hash_token("one"))])
    for _ in range(3):
        assert verifier.verify("Bearer one") == "okta"
        with pytest.raises(UnauthorizedException):
            verifier.verify("Bearer wrong")
    assert verifier.accepted("Bearer one") == "okta"
    assert verifier.accepted("Bearer wrong") is None
    assert verifier.accepted("bearer one") is None  # remembered as sent: another spelling is verified afresh
    assert verifier.accepted(None) is None


def test_the_memory_of_verified_headers_stays_bounded() -> None:
    tokens = [(f"t{index}", hash_token(f"secret-{index}")) for index in range(MAX_ACCEPTED + 10)]
    verifier = TokenVerifier(tokens)
    headers = [f"Bearer secret-{index}" for index in range(MAX_ACCEPTED + 10)]
    for index, header in enumerate(headers):
        assert verifier.verify(header) == f"t{index}"
        assert verifier.accepted(header) == f"t{index}"
        assert sum(verifier.accepted(seen) is not None for seen in headers[: index + 1]) <= MAX_ACCEPTED
    # Forgotten values are verified again, not refused.
    assert all(verifier.verify(header) == f"t{index}" for index, header in enumerate(headers))
