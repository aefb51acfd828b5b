"""Secret references in configuration: `env:NAME` and `file:/path`, never literals by default.

A resolved secret is a pydantic SecretStr, whose repr and str are masked, so
it cannot reach a log line, an error body or a metric label by accident.
`${NAME}` in other (non-secret) strings is replaced from the environment, so
one file serves every environment (the demo uses it for simulator URLs).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pydantic import SecretStr

_INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """A configuration problem, with the dotted key path it concerns (e.g. `tenants.acme.apps`)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


def resolve_secret(reference: Any, path: str, *, allow_literal: bool) -> SecretStr:
    """Resolve one secret reference; raises ConfigError naming `path` (never the value)."""
    if not isinstance(reference, str) or not reference:
        raise ConfigError(path, "expected a secret reference such as env:NAME or file:/path")
    scheme, _, target = reference.partition(":")
    if scheme == "env":
        value = os.environ.get(target)
        if value is None:
            raise ConfigError(path, f"environment variable {target} is not set")
        return SecretStr(value)
    if scheme == "file":
        try:
            return SecretStr(Path(target).read_text().rstrip("\r\n"))
        except OSError as exc:
            raise ConfigError(path, f"cannot read secret file {target}: {exc.strerror}") from None
    if allow_literal:
        return SecretStr(reference)
    raise ConfigError(
        path, "literal secrets are refused; use env:NAME or file:/path (or set allow_literal_secrets: true)"
    )


def interpolate(value: Any, path: str = "") -> Any:
    """Replace `${NAME}` / `${NAME:-default}` in every string of a YAML tree."""
    if isinstance(value, str):
        return _INTERPOLATION.sub(lambda match: _lookup(match, path), value)
    if isinstance(value, dict):
        return {key: interpolate(item, _join(path, str(key))) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, f"{path}[{index}]") for index, item in enumerate(value)]
    return value


def _lookup(match: re.Match[str], path: str) -> str:
    name, default = match.group(1), match.group(2)
    value = os.environ.get(name, default)
    if value is None:
        raise ConfigError(path, f"environment variable {name} is not set")
    return value


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
