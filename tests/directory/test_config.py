"""The `directory` config section and the per-app `directory` mode (gateway/config/)."""

from __future__ import annotations

import pytest
import yaml

from gateway.config import parse_config
from gateway.directory.keys import generate_key
from gateway.secrets import ConfigError

APP = {"vendor": "orca-scim", "region": "us", "credentials": {"token": "env:HOME"}}


def _config(directory: dict | None = None, app: dict | None = None) -> dict:
    raw: dict = {"tenants": {"acme": {"tokens": [{"name": "okta", "sha256": "0" * 64}], "apps": {"orca": app or APP}}}}
    if directory is not None:
        raw["directory"] = directory
    return raw


@pytest.fixture
def key_env(monkeypatch) -> dict[str, str]:
    values = {"TEST_KEY_NEW": generate_key(), "TEST_KEY_OLD": generate_key(), "TEST_INDEX_KEY": generate_key()}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


ENCRYPTION = {"keys": ["env:TEST_KEY_NEW", "env:TEST_KEY_OLD"], "index_key": "env:TEST_INDEX_KEY"}


def test_defaults_a_sqlite_file_and_resolves_the_keys(key_env):
    config = parse_config(_config({"encryption": ENCRYPTION}))
    directory = config.directory
    assert directory.url.get_secret_value() == "sqlite+aiosqlite:///directory.db"
    assert [key.get_secret_value() for key in directory.encryption.keys] == [
        key_env["TEST_KEY_NEW"],
        key_env["TEST_KEY_OLD"],
    ]
    assert (directory.migrate_on_start, directory.pool_size) == (True, 5)
    for value in key_env.values():
        assert value not in repr(config)
    assert parse_config(_config()).directory is None


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/var/lib/scim-gateway/directory.db", "sqlite+aiosqlite:////var/lib/scim-gateway/directory.db"),
        ("sqlite:///data/directory.db", "sqlite+aiosqlite:///data/directory.db"),
        ("postgresql://gateway@db:5432/scim", "postgresql+asyncpg://gateway@db:5432/scim"),  # password from PGPASSWORD
    ],
)
def test_url_forms(key_env, url, expected):
    assert parse_config(_config({"url": url, "encryption": ENCRYPTION})).directory.url.get_secret_value() == expected


def test_a_postgresql_url_with_a_password_is_a_secret_reference(key_env, monkeypatch):
    monkeypatch.setenv("TEST_DIRECTORY_URL", "postgres://gateway:hunter2@db/scim")
    config = parse_config(_config({"url": "env:TEST_DIRECTORY_URL", "encryption": ENCRYPTION}))
    assert config.directory.url.get_secret_value() == "postgresql+asyncpg://gateway:hunter2@db/scim"
    assert "hunter2" not in repr(config)
    with pytest.raises(ConfigError, match="password is a secret") as caught:
        parse_config(_config({"url": "postgresql://gateway:hunter2@db/scim", "encryption": ENCRYPTION}))
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("directory", "path", "message"),
    [
        ({"url": "mysql://db/x", "encryption": ENCRYPTION}, "directory.url", "sqlite:///"),
        ({"url": "sqlite:///:memory:", "encryption": ENCRYPTION}, "directory.url", "in-memory"),
        ({}, "directory.encryption.keys", "at least one"),
        ({"encryption": {"keys": ["env:TEST_KEY_NEW"]}}, "directory.encryption.index_key", "missing"),
        ({"encryption": {**ENCRYPTION, "keys": ["env:TEST_BAD_KEY"]}}, "directory.encryption.keys[0]", "32 random"),
        ({"encryption": {**ENCRYPTION, "keys": ["literal-key"]}}, "directory.encryption.keys[0]", "literal"),
        ({"encryption": ENCRYPTION, "pool_size": 0}, "directory.pool_size", "greater"),
        ({"encryption": ENCRYPTION, "colour": "red"}, "directory.colour", "unknown key"),
    ],
)
def test_errors_name_the_key_path_and_never_the_value(key_env, monkeypatch, directory, path, message):
    monkeypatch.setenv("TEST_BAD_KEY", "c2hvcnQ=")
    with pytest.raises(ConfigError) as caught:
        parse_config(_config(directory))
    assert caught.value.path == path and message in caught.value.message
    assert "c2hvcnQ" not in str(caught.value)


def test_app_mode_accepts_yaml_off_and_needs_the_section_for_link_and_full(key_env):
    app = yaml.safe_load("vendor: orca-scim\nregion: us\ncredentials: {token: env:HOME}\ndirectory: off\n")
    assert app["directory"] is False  # YAML 1.1
    assert parse_config(_config(app=app)).tenants["acme"].apps["orca"].directory == "off"
    assert parse_config(_config(app=APP)).tenants["acme"].apps["orca"].directory is None  # the connector's default
    with pytest.raises(ConfigError) as caught:
        parse_config(_config(app={**APP, "directory": "full"}))
    assert caught.value.path == "tenants.acme.apps.orca.directory"
    full = parse_config(_config({"encryption": ENCRYPTION}, app={**APP, "directory": "full"}))
    assert full.tenants["acme"].apps["orca"].directory == "full"
    with pytest.raises(ConfigError, match="directory"):
        parse_config(_config(app={**APP, "directory": "everything"}))
