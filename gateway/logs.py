"""Structured JSON logs on stdout (12-factor), via structlog.

One line per event, ISO timestamps, no secrets: callers log names and ids,
never credentials (resolved secrets are SecretStr and print masked anyway).
As a second line of defence, a value logged under a key that names a
credential (password, secret, token, authorization, ...) is replaced by
`<redacted>`; `token_name` (which token, never the token) is kept.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog

_SENSITIVE_KEY = re.compile(r"pass(word)?|secret|token|authori[sz]ation|credential|api_?key|cookie", re.IGNORECASE)
_SAFE_KEYS = frozenset({"token_name"})
REDACTED = "<redacted>"


def redact_sensitive(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask values under credential-like keys."""
    for key in event:
        if key not in _SAFE_KEYS and _SENSITIVE_KEY.search(key):
            event[key] = REDACTED
    return event


def configure_logging(level: str = "INFO") -> None:
    """Route structlog and stdlib logging (uvicorn's, asyncio's, aiohttp's) to JSON lines on stdout.

    Servers started with `log_config=None` keep uvicorn from installing its own plain-text handlers,
    so every line the process writes to stdout is one JSON object.
    """
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        redact_sensitive,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer = structlog.processors.JSONRenderer(serializer=lambda obj, **kw: orjson.dumps(obj, default=str).decode())
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )
