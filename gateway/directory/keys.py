"""Directory key material: 32 random bytes, base64-encoded, given by secret reference (stdlib only).

`scim-gateway db generate-key` prints a new key. Config validation decodes
every key at start-up so a malformed key fails before serving; errors never
show the key.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from pydantic import SecretStr

KEY_BYTES = 32


def decode_key(key: SecretStr) -> bytes:
    """The raw bytes of a configured key; raises ValueError (without the key) unless it is 32 bytes of base64."""
    text = key.get_secret_value().strip()
    padded = text + "=" * (-len(text) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ValueError(f"must be {KEY_BYTES} random bytes, base64-encoded (scim-gateway db generate-key)")
    return raw


def generate_key() -> str:
    """A new random key in the configured form (URL-safe base64 of 32 bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()
