"""Darktrace's HMAC request signing: a public token plus a private token sign each request.

Headers (per the Darktrace API guide as cited by its community): DTAPI-Token
(public), DTAPI-Date (UTC, `YYYYMMDDTHHMMSS`) and DTAPI-Signature =
hex(HMAC-SHA1(private, "<path?query>\\n<public>\\n<date>")). The appliance
refuses dates too far from its own clock, so the date is taken per request.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, MutableMapping
from datetime import UTC, datetime
from urllib.parse import urlsplit

from pydantic import SecretStr

from gateway.outbound.auth import Signed, VendorAuth

DATE_FORMAT = "%Y%m%dT%H%M%S"


def _now() -> datetime:
    return datetime.now(UTC)


def signature(private_token: str, path_and_query: str, public_token: str, date: str) -> str:
    """hex(HMAC-SHA1(private, "<path?query>\\n<public>\\n<date>")): `path_and_query` exactly as sent."""
    message = f"{path_and_query}\n{public_token}\n{date}".encode()
    return hmac.new(private_token.encode(), message, hashlib.sha1).hexdigest()


class HmacAuth(VendorAuth):
    def __init__(
        self,
        public_token: SecretStr,
        private_token: SecretStr,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._public = public_token
        self._private = private_token
        self.clock = clock

    async def sign(self, method: str, url: str, headers: MutableMapping[str, str], scope: str | None = None) -> Signed:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        date = self.clock().strftime(DATE_FORMAT)
        public = self._public.get_secret_value()
        headers["DTAPI-Token"] = public
        headers["DTAPI-Date"] = date
        headers["DTAPI-Signature"] = signature(self._private.get_secret_value(), target, public, date)
        return None

    def __repr__(self) -> str:
        return "HmacAuth(<redacted>)"
