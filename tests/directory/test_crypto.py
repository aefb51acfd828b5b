"""gateway/directory/crypto.py and keys.py without a database: token format, binding, key handling."""

from __future__ import annotations

import base64

import pytest
from pydantic import SecretStr

from gateway.directory.crypto import BlindIndex, KeyRing, caseless, key_id
from gateway.directory.errors import UndecryptableError
from gateway.directory.keys import decode_key, generate_key

OLD, NEW, INDEX = (generate_key() for _ in range(3))


def test_tokens_name_their_key_and_open_only_in_their_context():
    ring = KeyRing([SecretStr(NEW), SecretStr(OLD)])
    token = ring.encrypt(b"Alice", b"acme\0orca\0User\0id-1\0user_name")
    assert token[:1] == b"\x01" and ring.sealed_by(token) == key_id(decode_key(SecretStr(NEW)))
    assert ring.encrypt(b"Alice", b"ctx") != ring.encrypt(b"Alice", b"ctx")  # a fresh nonce each time
    assert ring.decrypt(token, b"acme\0orca\0User\0id-1\0user_name") == b"Alice"
    with pytest.raises(UndecryptableError):
        ring.decrypt(token, b"acme\0orca\0User\0id-2\0user_name")
    with pytest.raises(UndecryptableError):
        ring.decrypt(token[:-1] + bytes([token[-1] ^ 1]), b"acme\0orca\0User\0id-1\0user_name")
    with pytest.raises(UndecryptableError, match="unknown format"):
        ring.decrypt(b"\x02" + token[1:], b"ctx")


def test_key_errors_name_the_position_never_the_value():
    with pytest.raises(ValueError, match="encryption key 1: must be 32 random bytes") as caught:
        KeyRing([SecretStr(NEW), SecretStr("dG9vIHNob3J0")])
    assert "dG9vIHNob3J0" not in str(caught.value)
    with pytest.raises(ValueError, match="encryption key 1 is given twice"):
        KeyRing([SecretStr(NEW), SecretStr(NEW)])
    assert NEW not in repr(KeyRing([SecretStr(NEW)])) and INDEX not in repr(BlindIndex(SecretStr(INDEX)))


def test_keys_decode_from_either_base64_alphabet():
    raw = decode_key(SecretStr(NEW))
    assert decode_key(SecretStr(base64.b64encode(raw).decode())) == raw
    assert decode_key(SecretStr(base64.urlsafe_b64encode(raw).decode().rstrip("="))) == raw


def test_blind_index_is_caseless_for_user_names_exact_for_external_ids_and_scoped():
    index = BlindIndex(SecretStr(INDEX))
    scope = ("acme", "orca", "User")
    assert index.user_name(scope, "ÉMILE@example.com") == index.user_name(scope, "e\u0301mile@EXAMPLE.com")
    assert index.user_name(scope, "Straße") == index.user_name(scope, "STRASSE")  # full case folding
    assert index.external_id(scope, "Ext-1") != index.external_id(scope, "ext-1")
    assert index.user_name(scope, "x") != index.user_name(("acme", "delinea", "User"), "x")
    assert index.user_name(scope, "x") != index.external_id(scope, "x")
    assert index.user_name(scope, "x") != BlindIndex(SecretStr(OLD)).user_name(scope, "x")
    assert caseless("Ä") == caseless("a\u0308") == "ä"
