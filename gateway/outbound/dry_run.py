"""A dry-run app's vendor writes: recorded instead of sent, and answered as a vendor most likely would.

UpstreamClient calls `record_write` for every request but a GET when the app
runs `dry_run: true` (gateway/dryrun/operations.py builds such a client for
writes only). The write is appended to the request's CallBudget exactly as
it would have gone out (method, path relative to the vendor's base URL,
query, JSON body), minus credentials: values under a credential-named key
(password, secret, token, key, ...) and the app's own secret values anywhere.
The synthetic answer lets the connector's translation run to the end:
POST 201 with the body sent plus a new id, PUT/PATCH 200 with the body sent
and the path's id, DELETE 204.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import unquote

import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.outbound.budget import CallBudget, RecordedWrite
from gateway.outbound.vendor_text import REDACTED

#: Keys whose values are credentials (a SCIM User's `password` among them).
_CREDENTIAL_KEY = re.compile(r"key|secret|passw(?:or)?d|pwd|token|credential|signature|authorization", re.IGNORECASE)
#: Prefix of the ids a dry-run create answers with (never a vendor's).
DRY_RUN_ID_PREFIX = "dry-run-"


def record_write(
    budget: CallBudget, method: str, path: str, query: dict[str, str] | None, body: Any, secrets: tuple[str, ...]
) -> tuple[int, CIMultiDictProxy[str], bytes]:
    """Append the write to `budget.recorded` (credentials removed); return the status, headers and body to answer."""
    if isinstance(body, bytes | bytearray):
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError:
            body = "[not JSON: not recorded]"
    elif isinstance(body, str):
        body = "[not JSON: not recorded]"
    budget.recorded.append(
        RecordedWrite(
            method,
            _without_secrets(path, secrets),
            {key: _without_secrets(value, secrets) for key, value in (query or {}).items()},
            without_credentials(body, secrets),
        )
    )
    headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))
    if method == "DELETE":
        return 204, headers, b""
    answer = dict(body) if isinstance(body, dict) else {}
    if method == "POST":
        answer["id"] = DRY_RUN_ID_PREFIX + uuid.uuid4().hex
        return 201, headers, orjson.dumps(answer)
    answer.setdefault("id", unquote(path.rstrip("/").rsplit("/", 1)[-1]))
    return 200, headers, orjson.dumps(answer)


def without_credentials(value: Any, secrets: tuple[str, ...]) -> Any:
    """`value` with every credential-named key's value and every one of `secrets` replaced."""
    if isinstance(value, dict):
        return {
            key: REDACTED
            if _CREDENTIAL_KEY.search(str(key)) and not isinstance(item, bool)
            else without_credentials(item, secrets)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [without_credentials(item, secrets) for item in value]
    if isinstance(value, str):
        return _without_secrets(value, secrets)
    return value


def _without_secrets(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        if len(secret) >= 4 and secret in text:
            text = text.replace(secret, REDACTED)
    return text
