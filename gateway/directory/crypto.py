"""Encryption at rest and blind indexes for the directory's personal data.

Encryption: AES-256-GCM. A token is `0x01 | key id (4) | nonce (12) | ciphertext+tag`;
the key id names which configured key sealed it, so decryption picks the key
directly and old keys keep decrypting after rotation. Every token is bound to
its row and column (the caller's `context`, as associated data), so a
ciphertext copied into another row or column does not decrypt.

Blind index: HMAC-SHA256 under a separate, non-rotating index key, over the
value's scope (tenant, app, kind, attribute) and its normalised value. Equal
values in one app give equal digests (exact lookups, unique constraints);
the digest reveals nothing without the key, and the same userName in two apps
gives unrelated digests. The index key is held apart from the encryption keys
because rotating it would re-index every row, while encryption keys rotate
row by row on write.

Keys live only inside the cipher objects: no attribute, repr or error holds them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from gateway.directory.errors import UndecryptableError
from gateway.directory.keys import decode_key

_FORMAT = b"\x01"
_KEY_ID_BYTES = 4
_NONCE_BYTES = 12
_HEADER = len(_FORMAT) + _KEY_ID_BYTES + _NONCE_BYTES


def key_id(raw: bytes) -> bytes:
    """The public 4-byte id of a key (an HMAC of a constant, so it reveals nothing about the key)."""
    return hmac.new(raw, b"scim-gateway directory key id", hashlib.sha256).digest()[:_KEY_ID_BYTES]


class KeyRing:
    """The configured encryption keys: the first seals, every one opens."""

    def __init__(self, keys: Sequence[SecretStr]) -> None:
        """Raises ValueError (naming the key's position, never its value) for a malformed or repeated key."""
        if not keys:
            raise ValueError("at least one encryption key is required")
        self._ciphers: dict[bytes, AESGCM] = {}
        for position, key in enumerate(keys):
            try:
                raw = decode_key(key)
            except ValueError as exc:
                raise ValueError(f"encryption key {position}: {exc}") from None
            identifier = key_id(raw)
            if identifier in self._ciphers:
                raise ValueError(f"encryption key {position} is given twice")
            self._ciphers[identifier] = AESGCM(raw)
        self.primary_id = next(iter(self._ciphers))

    def __repr__(self) -> str:
        return f"KeyRing({len(self._ciphers)} keys)"

    def encrypt(self, plaintext: bytes, context: bytes) -> bytes:
        """Seal `plaintext` with the primary key, bound to `context` (the row and column it belongs to)."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self.primary_id].encrypt(nonce, plaintext, context)
        return b"".join((_FORMAT, self.primary_id, nonce, sealed))

    def decrypt(self, token: bytes, context: bytes) -> bytes:
        """Open a token sealed by any configured key for this `context`.

        Raises UndecryptableError if the token's key is not configured (a key
        was removed too early) or the token was altered or belongs elsewhere.
        """
        if len(token) < _HEADER or token[:1] != _FORMAT:
            raise UndecryptableError("a directory value has an unknown format")
        identifier = token[1 : 1 + _KEY_ID_BYTES]
        cipher = self._ciphers.get(identifier)
        if cipher is None:
            raise UndecryptableError(f"a directory value is sealed by key {identifier.hex()}, which is not configured")
        try:
            return cipher.decrypt(token[1 + _KEY_ID_BYTES : _HEADER], token[_HEADER:], context)
        except InvalidTag:
            raise UndecryptableError("a directory value does not authenticate (altered, or from another row)") from None

    def sealed_by(self, token: bytes) -> bytes:
        """The id of the key that sealed `token` (for tests and re-encryption reports)."""
        return token[1 : 1 + _KEY_ID_BYTES]


class BlindIndex:
    """Keyed digests for exact lookups of encrypted values."""

    def __init__(self, key: SecretStr) -> None:
        """Raises ValueError (without the key) for a malformed key."""
        try:
            raw = decode_key(key)
        except ValueError as exc:
            raise ValueError(f"index key: {exc}") from None
        self._mac = hmac.new(raw, digestmod=hashlib.sha256)

    def __repr__(self) -> str:
        return "BlindIndex()"

    def user_name(self, scope: Sequence[str], value: str) -> bytes:
        """userName is caseExact false (RFC 7643 section 4.1.1): equal under Unicode caseless matching."""
        return self._digest("userName", scope, caseless(value))

    def external_id(self, scope: Sequence[str], value: str) -> bytes:
        """externalId is caseExact true (RFC 7643 section 3.1): equal only when identical."""
        return self._digest("externalId", scope, value)

    def _digest(self, attribute: str, scope: Sequence[str], value: str) -> bytes:
        mac = self._mac.copy()
        # Scope parts are config names ([a-z0-9_-]) and a kind; the value comes last, so NUL separators are unambiguous.
        mac.update("\0".join((attribute, *scope, value)).encode())
        return mac.digest()


def caseless(value: str) -> str:
    """Canonical caseless form (Unicode 3.13 D145): NFD, case fold, NFC; 'Ä' and 'a\u0308' and 'ä' agree."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", value).casefold())
