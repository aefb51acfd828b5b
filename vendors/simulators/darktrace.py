"""Darktrace simulator: a threat-data REST API with HMAC-signed requests and no user management.

Per the Darktrace guide (and the community references to its API guide that
vendors/hmac_auth.py follows): each request carries DTAPI-Token (public
token), DTAPI-Date (UTC `YYYYMMDDTHHMMSS`) and DTAPI-Signature =
hex(HMAC-SHA1(private token, "<path?query>\\n<public token>\\n<date>")).
A wrong token or signature is refused, and so is a date more than
`max_skew` seconds from the appliance clock (injectable), which is what a
replayed or badly clocked request gets. Only /time, /status and
/modelbreaches exist: there is no user endpoint at all (404), the trap the
guide warns about.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vendors.hmac_auth import DATE_FORMAT, signature
from vendors.simulators.base import Receive, Scope, Send, Simulator, send_json
from vendors.simulators.seed import demo_secret

ROOT = "/"


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DarktraceSimSettings:
    seed: str
    public_token: str
    private_token: str
    #: Largest accepted distance between DTAPI-Date and the appliance clock, in seconds.
    max_skew: float = 1800.0
    clock: Callable[[], datetime] = field(default=_utc_now)


class DarktraceApi:
    """The appliance's API: verifies every request's signature before answering."""

    def __init__(self, settings: DarktraceSimSettings) -> None:
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refused = self._refusal(scope)
        if refused is not None:
            await send_json(send, 401, {"error": refused})
            return
        path, now = scope["path"].rstrip("/") or "/", self.settings.clock()
        if scope["method"] != "GET":
            await send_json(send, 405, {"error": "method not allowed"})
        elif path == "/time":
            await send_json(send, 200, {"time": now.strftime("%Y-%m-%d %H:%M:%S"), "timems": _millis(now)})
        elif path == "/status":
            status = {"hostname": f"{self.settings.seed}-appliance", "version": "6.2", "time": now.isoformat()}
            await send_json(send, 200, status)
        elif path == "/modelbreaches":
            await send_json(send, 200, [])
        else:
            await send_json(send, 404, {"error": f"no such endpoint: {path} (Darktrace has no user-management API)"})

    def _refusal(self, scope: Scope) -> str | None:
        """Why the request is refused (the appliance's own wording), or None when it is signed right."""
        headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
        public, date, given = headers.get("dtapi-token"), headers.get("dtapi-date"), headers.get("dtapi-signature")
        if not public or not date or not given:
            return "API SIGNATURE ERROR: DTAPI-Token, DTAPI-Date and DTAPI-Signature headers are required"
        if not hmac.compare_digest(public.encode(), self.settings.public_token.encode()):
            return "API TOKEN ERROR: unknown public token"
        try:
            sent = datetime.strptime(date, DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            return f"API DATE ERROR: DTAPI-Date must be UTC {DATE_FORMAT}"
        if abs((self.settings.clock() - sent).total_seconds()) > self.settings.max_skew:
            return "API DATE ERROR: DTAPI-Date is too far from the appliance clock"
        raw_path = scope.get("raw_path") or scope["path"].encode()
        query = scope["query_string"].decode()
        target = raw_path.decode() + (f"?{query}" if query else "")
        expected = signature(self.settings.private_token, target, public, date)
        if not hmac.compare_digest(given.lower().encode(), expected.encode()):
            return "API SIGNATURE ERROR: the signature does not match the request"
        return None


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class DarktraceSimulator:
    def demo_settings(self, seed: str) -> DarktraceSimSettings:
        return DarktraceSimSettings(
            seed=seed,
            public_token=demo_secret("darktrace", seed, "public"),
            private_token=demo_secret("darktrace", seed, "private"),
        )

    def create_app(self, settings: DarktraceSimSettings) -> Simulator:
        def state() -> dict[str, Any]:
            return {"users": "none: Darktrace has no user-management API"}

        return Simulator("darktrace", [(ROOT, DarktraceApi(settings))], state=state)

    def scim_base_path(self, settings: DarktraceSimSettings) -> str:
        return ""  # there is no SCIM surface; the gateway app's base_url is the appliance root

    def demo_credentials(self, settings: DarktraceSimSettings) -> dict[str, str]:
        return {"public_token": settings.public_token, "private_token": settings.private_token}
