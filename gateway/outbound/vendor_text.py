"""Vendor-supplied text made safe to show: bounded, with credentials and internal addresses removed.

A vendor's error body may echo what it was sent (our credential, a token it
issued) or name its internals (hosts, addresses). Whatever of it the gateway
shows (a SCIM error detail, the `app_health` log line, /status) goes through
`scrub` first: the app's own secret values, then anything token-shaped
(Authorization values, JWTs, `key=`/`secret=`/`password=` values, long hex
or base64 runs), URLs (which can carry userinfo, internal hosts and keyed
query strings), IP addresses and internal host names are replaced, and the
result is cut to a bounded excerpt.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from ipaddress import IPv6Address
from urllib.parse import quote

#: The longest excerpt of vendor text kept (characters).
EXCERPT_LIMIT = 200
#: Vendor text beyond this is not looked at (bounds the regex work on a hostile body).
_MAX_INPUT = 4096
#: Shorter secret values are not searched for: they would match ordinary words.
_MIN_SECRET = 4
REDACTED = "[redacted]"

_SENSITIVE_KEY = re.compile(
    r"key|secret|passw(?:or)?d|pwd|token|credential|signature|authorization|cookie|session", re.IGNORECASE
)
_SCHEME = re.compile(r"(?:bearer|basic|token|digest|negotiate)$|\[", re.IGNORECASE)


def _keyed_value(match: re.Match[str]) -> str:
    """`password=...`, `"api_key": "..."`: the value goes when the key names a credential."""
    key, glue, value = match.groups()
    if not _SENSITIVE_KEY.search(key) or _SCHEME.match(value):
        return match.group()
    return f"{key}{glue}{REDACTED}"


_INTERNAL_TLDS = "internal|local|localdomain|lan|corp|intranet|svc|home"
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_IPV6_CANDIDATE = re.compile(r"\[?(?<![\w:])[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?![\w:])\]?", re.IGNORECASE)
# Each rule starts only where a run starts and never backtracks into it (possessive `{m,n}+`): linear work.
_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"\b[a-z][a-z0-9+.-]{0,31}://[^\s\"'<>]*[^\s\"'<>.,;:!?)\]]", re.IGNORECASE), "[url]"),
    (re.compile(r"\beyJ[\w-]*\.[\w-]+\.[\w-]*"), REDACTED),
    (
        re.compile(r"\b(bearer|basic|token|digest|negotiate|dtapi-[\w-]+)(\s+)[\w.~+/=-]{8,}", re.IGNORECASE),
        rf"\1\2{REDACTED}",
    ),
    (re.compile(r"(?<![\w-])([\w-]{1,40}+)([\"']?\s*[:=]\s*[\"']?)([^\s\"',;&}]+)"), _keyed_value),
    (re.compile(r"\b[0-9a-f]{16,}\b", re.IGNORECASE), REDACTED),
    # Long runs with a digit, but not a UUID: resource ids help the reader and are not credentials.
    (re.compile(rf"(?<![\w+/=-])(?!{_UUID}(?![\w+/-]))(?=[\w+/-]*\d)[\w+/-]{{24,}}={{0,2}}", re.I), REDACTED),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "[address]"),
    (re.compile(rf"(?<![\w.-])(?:[\w-]{{1,63}}+\.){{1,9}}(?:{_INTERNAL_TLDS})\b", re.IGNORECASE), "[host]"),
)
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")


def scrub(text: str, secrets: Iterable[str] = (), limit: int = EXCERPT_LIMIT) -> str:
    """`text` without `secrets` (as given or URL-encoded) or anything token-shaped: one line, at most `limit` chars."""
    secrets = sorted((s for s in secrets if len(s) >= _MIN_SECRET), key=len, reverse=True)
    if len(text) > _MAX_INPUT:  # cut before the longest secret's length: none is left cut in two
        text = text[: max(0, _MAX_INPUT - (len(secrets[0]) if secrets else 0))]
    for secret in secrets:
        text = text.replace(secret, REDACTED).replace(quote(secret, safe=""), REDACTED)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    text = _IPV6_CANDIDATE.sub(_ipv6, text)
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _ipv6(match: re.Match[str]) -> str:
    try:
        IPv6Address(match.group().strip("[]"))
    except ValueError:
        return match.group()  # a time of day or a ratio, not an address
    return "[address]"
