"""The operator CLI against a running gateway: the admin API over HTTP(S), with the standard library.

Errors the gateway answers (JSON, SCIM Error shape) become AdminCallFailed carrying its detail.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import IO, Any

TIMEOUT = 120.0
_CHUNK = 64 * 1024


class AdminCallFailed(Exception):
    """The gateway refused or failed the call; the message is the one line to print."""


class RemoteAdmin:
    """One tenant of a gateway at `url`, called with an operator token."""

    def __init__(self, url: str, token: str, tenant: str) -> None:
        self.root = f"{url.rstrip('/')}/admin/v1/tenants/{urllib.parse.quote(tenant, safe='')}"
        self.token = token

    def find(self, by: str, value: str) -> dict[str, Any]:
        query = urllib.parse.urlencode({by: value})
        return self._json("GET", f"/people?{query}")

    def offboard(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json("POST", "/people/offboard", json.dumps(body).encode(), "application/json")

    def review(
        self, fmt: str, out: IO[bytes], roster: bytes | None, roster_type: str | None, on_bytes: Callable[[int], None]
    ) -> None:
        """Stream the review into `out` as it arrives; `on_bytes` sees how many bytes have come so far."""
        method = "GET" if roster is None else "POST"
        with self._open(method, f"/access-review?format={fmt}", roster, roster_type) as response:
            received = 0
            while chunk := response.read1(_CHUNK):
                out.write(chunk)
                received += len(chunk)
                on_bytes(received)

    def start_reconcile(self, app: str) -> dict[str, Any]:
        return self._json("POST", f"/apps/{urllib.parse.quote(app, safe='')}/reconcile")

    def reconcile_results(self, app: str, limit: int) -> dict[str, Any]:
        return self._json("GET", f"/apps/{urllib.parse.quote(app, safe='')}/reconcile?limit={max(1, limit)}")

    def _json(self, method: str, path: str, body: bytes | None = None, media: str | None = None) -> dict[str, Any]:
        with self._open(method, path, body, media) as response:
            answer: dict[str, Any] = json.loads(response.read())
            return answer

    def _open(self, method: str, path: str, body: bytes | None, media: str | None) -> Any:
        request = urllib.request.Request(self.root + path, data=body, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if media is not None:
            request.add_header("Content-Type", media)
        try:
            return urllib.request.urlopen(request, timeout=TIMEOUT)
        except urllib.error.HTTPError as exc:
            raise AdminCallFailed(f"the gateway answered {exc.code}: {_detail(exc)}") from None
        except urllib.error.URLError as exc:
            raise AdminCallFailed(f"cannot reach the gateway: {exc.reason}") from None


def _detail(error: urllib.error.HTTPError) -> str:
    try:
        return str(json.loads(error.read()).get("detail") or error.reason)
    except (ValueError, AttributeError):
        return str(error.reason)
