"""Risky vendor URLs are refused at config time, unless the app sets allow_insecure_url (gateway/vendor_urls.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml

from gateway.apps import vendor_apps
from gateway.config import parse_config
from gateway.inbound.auth import hash_token
from gateway.secrets import ConfigError
from gateway.vendor_urls import url_problem
from tests.processes import SCIM_GATEWAY, free_port
from tests.resilience.harness import simulator


def _check(raw: dict[str, Any]) -> None:
    """Validate as `scim-gateway check-config` does: the config, then each app's vendor settings."""
    vendor_apps(parse_config(raw))


def _config(app: dict[str, Any], **top: Any) -> dict[str, Any]:
    token = {"name": "okta", "sha256": hash_token("t")}
    return {"allow_literal_secrets": True, "tenants": {"acme": {"tokens": [token], "apps": {"invicti": app}}}, **top}


def _invicti(base_url: str, **extra: Any) -> dict[str, Any]:
    return {"vendor": "invicti", "base_url": base_url, "credentials": {"token": "x"}, **extra}


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://platform.invicti.com/api/scim/v2", "plain http"),
        ("https://127.0.0.1/api/scim/v2", "loopback address 127.0.0.1"),
        ("https://127.1/api/scim/v2", "loopback address 127.0.0.1"),  # short form the resolver accepts
        ("https://2130706433/api/scim/v2", "loopback address 127.0.0.1"),  # 127.0.0.1 as one number
        ("https://0x7f.0.0.1/api/scim/v2", "loopback address 127.0.0.1"),
        ("https://[::1]/api/scim/v2", "loopback address ::1"),
        ("https://[::ffff:127.0.0.1]/api/scim/v2", "loopback address 127.0.0.1"),
        ("https://0.0.0.0/api/scim/v2", "loopback address 0.0.0.0"),
        ("https://localhost:8443/api/scim/v2", "host localhost"),
        ("https://vendor.localhost/api/scim/v2", "host vendor.localhost"),
        ("https://169.254.169.254/latest/meta-data", "link-local address 169.254.169.254"),
        ("https://[fe80::1]/api/scim/v2", "link-local address fe80::1"),
        ("https://[fd00:ec2::254]/api/scim/v2", "metadata service"),
        ("https://100.100.100.200/api/scim/v2", "metadata service"),
        ("https://metadata.google.internal/computeMetadata/v1", "host metadata.google.internal"),
        ("https://METADATA.google.internal./x/v2", "host metadata.google.internal"),
    ],
)
def test_risky_urls_are_refused_naming_the_app_and_the_rule(url: str, rule: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _check(_config(_invicti(url)))
    assert caught.value.path == "tenants.acme.apps.invicti.base_url"
    assert rule in caught.value.message and "allow_insecure_url: true" in caught.value.message
    # The app may opt in (local simulators): then the same URL is accepted.
    _check(_config(_invicti(url, allow_insecure_url=True)))


def test_credentials_in_a_url_are_refused_even_with_the_flag() -> None:
    for flag in (False, True):
        with pytest.raises(ConfigError) as caught:
            _check(_config(_invicti("https://user:pw@platform.invicti.com/api/scim/v2", allow_insecure_url=flag)))
        assert caught.value.path == "tenants.acme.apps.invicti.base_url"
        assert "credentials" in caught.value.message and "pw" not in caught.value.message


def test_every_url_of_an_app_is_checked_not_only_base_url() -> None:
    app = _invicti("https://platform.invicti.com/api/scim/v2", token_url="http://169.254.169.254/token")
    app["credentials"] = {"client_id": "c", "client_secret": "s"}
    with pytest.raises(ConfigError) as caught:
        _check(_config(app))
    assert caught.value.path == "tenants.acme.apps.invicti.token_url"


@pytest.mark.parametrize(
    "url",
    [
        "https://platform.invicti.com/api/scim/v2",
        "https://10.20.30.40/api/scim/v2",  # a private appliance (Darktrace on premises) is a real vendor host
        "https://[2001:db8::1]:8443/api/scim/v2",
        "https://vendor.internal.example/api/scim/v2",
    ],
)
def test_ordinary_vendor_urls_pass(url: str) -> None:
    assert url_problem(url, allow_insecure=False) is None
    _check(_config(_invicti(url)))


async def test_serve_refuses_a_loopback_vendor_with_one_line_and_never_calls_it(tmp_path: Path) -> None:
    async with simulator() as sim:
        path = tmp_path / "gateway.yaml"
        path.write_text(yaml.safe_dump(_config(_invicti(sim.scim_url))))
        process = await asyncio.create_subprocess_exec(
            str(SCIM_GATEWAY), "serve", "--config", str(path), "--host", "127.0.0.1", "--port", str(free_port()),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 1
        assert stderr.decode().splitlines() == [
            "config error: tenants.acme.apps.invicti.base_url: plain http is refused: use https "
            "(allow_insecure_url: true allows it, for local simulators only)"
        ]
        assert sim.requests() == [], "a refused URL is never called, not even by the start-up health check"
