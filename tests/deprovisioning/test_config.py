"""`guard` and `dry_run` in an app's config: durations, bounds, and the directory both need."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.config import parse_config
from gateway.directory.keys import generate_key
from gateway.secrets import ConfigError
from tests.backed.harness import directory_section, raw_config

URLS = {"orca": "http://127.0.0.1:9", "delinea": "http://127.0.0.1:9"}
KEYS = {"old": generate_key(), "index": generate_key()}


def config(with_directory: bool = True, **app: Any) -> dict[str, Any]:
    raw = raw_config(URLS, directory_section("sqlite+aiosqlite:///x.db", KEYS), "off")
    if not with_directory:
        del raw["directory"]
        for settings in raw["tenants"]["acme"]["apps"].values():
            settings.pop("directory")
    raw["tenants"]["acme"]["apps"]["delinea"].update(app)
    return raw


@pytest.mark.parametrize(("window", "seconds"), [("10m", 600), ("1h", 3600), ("45s", 45), (90, 90), ("2d", 172_800)])
def test_the_window_is_a_duration(window: Any, seconds: float) -> None:
    parsed = parse_config(config(guard={"max_deprovisions": 5, "window": window}))
    guard = parsed.tenants["acme"].apps["delinea"].guard
    assert guard is not None and guard.window == seconds and guard.retry_after == 300


@pytest.mark.parametrize(
    ("guard", "where"),
    [
        ({"max_deprovisions": 5, "window": "ten minutes"}, "guard.window"),
        ({"max_deprovisions": 0}, "guard.max_deprovisions"),
        ({"window": "10m"}, "guard.max_deprovisions"),
        ({"max_deprovisions": 5, "windw": "10m"}, "guard.windw"),
    ],
)
def test_a_bad_guard_names_its_key(guard: dict[str, Any], where: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(config(guard=guard))
    assert str(raised.value).startswith(f"tenants.acme.apps.delinea.{where}")


@pytest.mark.parametrize(
    ("option", "key"), [({"guard": {"max_deprovisions": 3}}, "guard"), ({"dry_run": True}, "dry_run")]
)
def test_guard_and_dry_run_need_the_directory(option: dict[str, Any], key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(config(with_directory=False, **option))
    assert str(raised.value).startswith(f"tenants.acme.apps.delinea.{key}") and "directory" in str(raised.value)


@pytest.mark.parametrize(
    ("option", "words"),
    [({"mode": "manual", "directory": "full"}, "manual app"), ({"reconcile": {"every": "6h"}}, "reconcile")],
)
def test_a_dry_run_app_is_neither_manual_nor_reconciled(option: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(config(dry_run=True, **option))
    assert str(raised.value).startswith("tenants.acme.apps.delinea") and words in str(raised.value)
