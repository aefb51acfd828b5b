"""`mode: manual`, `webhook` and `work_item_max_age` in the config (gateway/config/, gateway/apps.py)."""

from __future__ import annotations

import pytest

from gateway.apps import vendor_apps
from gateway.config import parse_config
from gateway.directory.keys import generate_key
from gateway.secrets import ConfigError

DARKTRACE = {
    "vendor": "darktrace",
    "base_url": "https://acme.darktrace.example",
    "credentials": {"public_token": "env:HOME", "private_token": "env:HOME"},
}


def config(app: dict, directory: bool = True) -> dict:
    raw: dict = {"tenants": {"acme": {"tokens": [{"name": "idp", "sha256": "0" * 64}], "apps": {"darktrace": app}}}}
    if directory:
        raw["directory"] = {"encryption": {"keys": ["env:TEST_KEY"], "index_key": "env:TEST_INDEX"}}
    return raw


@pytest.fixture(autouse=True)
def key_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_KEY", generate_key())
    monkeypatch.setenv("TEST_INDEX", generate_key())
    monkeypatch.setenv("TEST_HOOK_SECRET", "s3cret-hook")


def refused(raw: dict) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        vendor_apps(parse_config(raw))
    return caught.value


def test_a_manual_app_keeps_everything_in_the_directory() -> None:
    parsed = parse_config(config({**DARKTRACE, "mode": "manual"}))
    app = parsed.tenants["acme"].apps["darktrace"]
    assert app.mode == "manual" and app.webhook is None and app.work_item_max_age == 86_400
    assert vendor_apps(parsed)[("acme", "darktrace")].directory == "full"
    assert parse_config(config(DARKTRACE)).tenants["acme"].apps["darktrace"].mode == "api"
    hours = parse_config(config({**DARKTRACE, "mode": "manual", "work_item_max_age": "12h"}))
    assert hours.tenants["acme"].apps["darktrace"].work_item_max_age == 12 * 3600
    reconciled = refused(config({**DARKTRACE, "mode": "manual", "reconcile": {"every": "6h"}}))
    assert "no vendor API to reconcile" in reconciled.message


def test_manual_needs_the_directory_section_and_cannot_keep_less() -> None:
    error = refused(config({**DARKTRACE, "mode": "manual"}, directory=False))
    assert error.path == "tenants.acme.apps.darktrace.mode" and "directory section" in error.message
    error = refused(config({**DARKTRACE, "mode": "manual", "directory": "off"}))
    assert error.path == "tenants.acme.apps.darktrace" and "keeps its users in the directory" in error.message
    assert "mode" in refused(config({**DARKTRACE, "mode": "by-hand"})).path


def test_the_webhook_secret_is_a_reference_and_needs_manual_mode() -> None:
    hook = {"url": "https://tickets.acme.example/hooks/scim", "secret": "env:TEST_HOOK_SECRET"}
    parsed = parse_config(config({**DARKTRACE, "mode": "manual", "webhook": hook}))
    webhook = parsed.tenants["acme"].apps["darktrace"].webhook
    assert webhook is not None and webhook.secret.get_secret_value() == "s3cret-hook"
    assert "s3cret-hook" not in repr(parsed)
    literal = refused(config({**DARKTRACE, "mode": "manual", "webhook": {**hook, "secret": "s3cret-hook"}}))
    assert literal.path == "tenants.acme.apps.darktrace.webhook.secret" and "s3cret" not in str(literal)
    assert "mode: manual" in refused(config({**DARKTRACE, "webhook": hook})).message
    loopback = refused(config({**DARKTRACE, "mode": "manual", "webhook": {**hook, "url": "http://127.0.0.1:9/h"}}))
    assert loopback.path == "tenants.acme.apps.darktrace.webhook.url"
