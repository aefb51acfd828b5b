"""`reconcile:` in an app's config: durations, and the directory it needs."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.config import parse_config
from gateway.secrets import ConfigError

DIRECTORY = {"url": "sqlite+aiosqlite:///x.db", "encryption": {"keys": ["k"], "index_key": "k"}}


def config(reconcile: Any, section: Any = DIRECTORY, **app: Any) -> dict[str, Any]:
    """A config whose one app reconciles as given; `section` is the top-level directory section (None: none)."""
    invicti = {"vendor": "invicti", "base_url": "https://invicti.example/api/scim/v2", "credentials": {"token": "t"}}
    raw = {"allow_literal_secrets": True, "tenants": {"acme": {"tokens": [{"name": "t", "sha256": "0" * 64}],
           "apps": {"invicti": {**invicti, **app, "reconcile": reconcile}}}}}  # fmt: skip
    if section is not None:
        raw["directory"] = section
    return raw


@pytest.mark.parametrize(("given", "seconds"), [("6h", 21600), ("30m", 1800), ("1d", 86400), (90, 90), ("120s", 120)])
def test_every_reads_durations(given: Any, seconds: float) -> None:
    from gateway.directory.keys import generate_key

    raw = config({"every": given})
    raw["directory"]["encryption"] = {"keys": [generate_key()], "index_key": generate_key()}
    reconcile = parse_config(raw).tenants["acme"].apps["invicti"].reconcile
    assert reconcile is not None and reconcile.every == seconds and reconcile.timeout == 6 * 3600


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (config({"every": "soon"}), "tenants.acme.apps.invicti.reconcile.every: Value error, a duration"),
        (config({"every": "10s"}), "tenants.acme.apps.invicti.reconcile.every: Input should be greater than or equal"),
        (config({"every": "6h", "often": True}), "tenants.acme.apps.invicti.reconcile.often: unknown key"),
        (config({"every": "6h"}, section=None), "tenants.acme.apps.invicti.reconcile needs the directory section"),
        (config({"every": "6h"}, directory="off"), "it needs directory link or full"),
    ],
)
def test_bad_reconcile_settings_are_refused_with_their_key_path(raw: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert message in str(caught.value)
