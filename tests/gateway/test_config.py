from pathlib import Path
from typing import Any

import pytest

from gateway.apps import vendor_apps
from gateway.config import load_config, parse_config, secret_values
from gateway.directory.keys import generate_key
from gateway.inbound.auth import hash_token
from gateway.secrets import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _config(app: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "tenants": {"acme": {"tokens": [{"name": "okta", "sha256": hash_token("t")}], "apps": {"orca": app}}},
        **extra,
    }


def test_valid_config_resolves_env_secrets_and_interpolates_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCA_TOKEN", "s3cret")
    monkeypatch.setenv("ORCA_HOST", "orca.test")
    config = parse_config(
        _config(
            {
                "vendor": "orca-scim",
                "base_url": "https://${ORCA_HOST}/scim/v2",
                "credentials": {"token": "env:ORCA_TOKEN"},
            }
        )
    )
    settings = vendor_apps(config)[("acme", "orca")].settings
    assert settings.base_url == "https://orca.test/scim/v2"  # type: ignore[attr-defined]
    assert settings.credentials.token.get_secret_value() == "s3cret"  # type: ignore[attr-defined]
    assert "s3cret" not in repr(config)
    assert secret_values(config) == ["s3cret"]


def test_file_secrets_drop_the_trailing_newline(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("from-file\n")
    config = parse_config(_config({"vendor": "orca-scim", "region": "eu", "credentials": {"token": f"file:{secret}"}}))
    settings = vendor_apps(config)[("acme", "orca")].settings
    assert settings.credentials.token.get_secret_value() == "from-file"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("app", "path", "message"),
    [
        ({"vendor": "nope"}, "tenants.acme.apps.orca.vendor", "unknown vendor"),
        (
            {"vendor": "orca-scim", "credentials": {"token": "literal"}},
            "tenants.acme.apps.orca.credentials.token",
            "literal",
        ),
        (
            {"vendor": "orca-scim", "credentials": {"token": "env:UNSET_FOR_TEST"}},
            "tenants.acme.apps.orca.credentials.token",
            "UNSET_FOR_TEST is not set",
        ),
        (
            {"vendor": "orca-scim", "region": "mars", "credentials": {"token": "env:HOME"}},
            "tenants.acme.apps.orca.base_url",
            "region",
        ),
        (
            {"vendor": "orca-scim", "base_url": "ftp://x", "credentials": {"token": "env:HOME"}},
            "tenants.acme.apps.orca.base_url",
            "http",
        ),
        (
            {"vendor": "orca-scim", "region": "us", "credentials": {"token": "env:HOME"}, "colour": "red"},
            "tenants.acme.apps.orca.colour",
            "unknown key",
        ),
        ({"vendor": "spekit", "credentials": {"token": "env:HOME"}}, "tenants.acme.apps.orca.base_url", "per tenant"),
    ],
)
def test_errors_name_the_exact_key_path(app: dict[str, Any], path: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        vendor_apps(parse_config(_config(app)))
    assert caught.value.path == path
    assert message in caught.value.message


def test_bad_token_hash_and_bad_names_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"tenants.acme.tokens.0.sha256"):
        parse_config({"tenants": {"acme": {"tokens": [{"name": "x", "sha256": "nothex"}], "apps": {}}}})
    with pytest.raises(ConfigError, match=r"tenants.Bad Name"):
        parse_config({"tenants": {"Bad Name": {}}})


def test_literal_secrets_only_when_explicitly_allowed() -> None:
    config = parse_config(
        _config({"vendor": "orca-scim", "region": "us", "credentials": {"token": "lit"}}, allow_literal_secrets=True)
    )
    assert secret_values(config) == ["lit"]


def test_shipped_example_config_is_valid(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "delinea"
    secret.write_text("x")
    index_key = tmp_path / "directory-index-key"
    index_key.write_text(generate_key())
    text = (
        (ROOT / "config/example.yaml")
        .read_text()
        .replace("/var/run/secrets/scim-gateway/delinea-scim-token", str(secret))
        .replace("/var/run/secrets/scim-gateway/directory-index-key", str(index_key))
    )
    example = tmp_path / "example.yaml"
    example.write_text(text)
    for name in ("ACME_ORCA_SCIM_TOKEN", "ACME_INVICTI_TOKEN", "ACME_SPEKIT_TOKEN", "ACME_ORCA_API_TOKEN"):
        monkeypatch.setenv(name, "x")
    for name in ("ACME_DARKTRACE_PUBLIC_TOKEN", "ACME_DARKTRACE_PRIVATE_TOKEN"):
        monkeypatch.setenv(name, "x")
    for name in ("ACME_DELINEA_CLIENT_ID", "ACME_DELINEA_CLIENT_SECRET"):
        monkeypatch.setenv(name, "x")
    monkeypatch.setenv("SCIM_GATEWAY_DIRECTORY_KEY", generate_key())
    config = load_config(example)
    assert {"delinea-scim", "invicti", "orca-scim", "spekit", "orca", "darktrace"} <= set(config.tenants["acme"].apps)
    settings = vendor_apps(config)[("acme", "orca")].settings
    assert settings.options.delete_mode == "delete"  # type: ignore[attr-defined]


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    from gateway.config import load_config
    from gateway.secrets import ConfigError

    path = tmp_path / "twice.yaml"
    path.write_text("tenants: {}\nobservability: {}\nobservability: {}\n")
    with pytest.raises(ConfigError, match="'observability' is given twice"):
        load_config(path)


def test_the_config_parses_without_importing_any_vendor() -> None:
    """No import cycle between gateway/ and vendors/: config keeps vendor settings raw (gateway/apps.py checks them)."""
    import subprocess
    import sys

    probe = "import sys, gateway.config; print(sorted(m for m in sys.modules if m.startswith('vendors')))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_unknown_vendors_and_bad_vendor_settings_wait_for_the_vendor_step() -> None:
    """parse_config accepts what only a connector can judge; vendor_apps refuses it with the same path."""
    config = parse_config(_config({"vendor": "orca-scim", "region": "mars", "credentials": {"token": "env:HOME"}}))
    assert config.tenants["acme"].apps["orca"].vendor_settings["region"] == "mars"
    with pytest.raises(ConfigError, match="region") as caught:
        vendor_apps(config)
    assert caught.value.path == "tenants.acme.apps.orca.base_url"
