"""A gateway whose Orca and Delinea REST apps keep a directory, against their simulators on loopback."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from gateway.app import create_app
from gateway.config import parse_config
from gateway.inbound.auth import hash_token
from gateway.inbound.serving import RunningServer, serving
from tests.resilience.harness import TEST_OBSERVABILITY, TOKENS
from vendors.registry import simulator
from vendors.simulators.base import Simulator

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


@dataclass
class BackedGateway:
    gateway: RunningServer
    simulators: dict[str, Simulator]
    config: dict[str, Any]

    def client(self, app: str) -> httpx.AsyncClient:
        return scim_client(self.gateway, app)


def scim_client(server: RunningServer, app: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{server.url}/tenants/acme/apps/{app}/scim/v2",
        headers={"Authorization": f"Bearer {TOKENS['acme']}"},
        timeout=15,
    )


def directory_section(database_url: str, keys: dict[str, str], **options: Any) -> dict[str, Any]:
    return {"url": database_url, "encryption": {"keys": [keys["old"]], "index_key": keys["index"]}, **options}


def apps_config(urls: dict[str, str], mode: str = "full") -> dict[str, Any]:
    """`orca` and `delinea` apps of tenant acme on the simulators at `urls`."""
    orca = simulator("orca").demo_settings("acme")
    delinea = simulator("delinea").demo_settings("acme")
    delinea_credentials = simulator("delinea").demo_credentials(delinea)
    return {
        "orca": {
            "vendor": "orca",
            "allow_insecure_url": True,
            "directory": mode,
            "base_url": urls["orca"] + "/api",
            "credentials": {"token": orca.rest_token},
        },
        "delinea": {
            "vendor": "delinea",
            "allow_insecure_url": True,
            "directory": mode,
            "base_url": urls["delinea"],
            "credentials": {
                "client_id": delinea_credentials["client_id"],
                "client_secret": delinea_credentials["client_secret"],
            },
            "roles": ["User", "Auditor", "Privilege Manager", "Administrator"],
        },
    }


def raw_config(urls: dict[str, str], directory: dict[str, Any], mode: str = "full") -> dict[str, Any]:
    raw: dict[str, Any] = {
        "allow_literal_secrets": True,
        "observability": TEST_OBSERVABILITY,
        "directory": directory,
        "tenants": {"acme": {"tokens": [{"name": "test", "sha256": hash_token(TOKENS["acme"])}], "apps": {}}},
    }
    raw["tenants"]["acme"]["apps"] = apps_config(urls, mode)
    return raw


@contextlib.asynccontextmanager
async def vendor_simulators() -> AsyncIterator[tuple[dict[str, Simulator], dict[str, str]]]:
    """Fresh Orca and Delinea simulators (seed acme) on loopback: (apps, URLs)."""
    apps = {name: simulator(name).create_app(simulator(name).demo_settings("acme")) for name in ("orca", "delinea")}
    async with serving(apps["orca"]) as orca, serving(apps["delinea"]) as delinea:
        yield apps, {"orca": orca.url, "delinea": delinea.url}


@contextlib.asynccontextmanager
async def backed_gateway(
    database_url: str, keys: dict[str, str], mode: str = "full", **directory_options: Any
) -> AsyncIterator[BackedGateway]:
    async with vendor_simulators() as (apps, urls):
        raw = raw_config(urls, directory_section(database_url, keys, **directory_options), mode)
        async with serving(create_app(parse_config(raw))) as server:
            yield BackedGateway(server, apps, raw)


def okta_user(user_name: str, external_id: str) -> dict[str, Any]:
    """Okta's default User attribute set (its SCIM 2.0 test app's profile mapping)."""
    return {
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "externalId": external_id,
        "name": {"givenName": "Ada", "familyName": "Lovelace", "middleName": "Byron"},
        "displayName": "Ada Lovelace",
        "nickName": "ada",
        "title": "Analyst",
        "emails": [{"primary": True, "value": user_name, "type": "work"}],
        "phoneNumbers": [{"value": "+44 20 7946 0000", "type": "work"}],
        "locale": "en-GB",
        "active": True,
    }


def entra_user(user_name: str, external_id: str) -> dict[str, Any]:
    """Entra ID's default mapping for a new user (its provisioning service's POST /Users)."""
    return {
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "externalId": external_id,
        "userName": user_name,
        "active": True,
        "displayName": "Grace Hopper",
        "title": "Rear Admiral",
        "emails": [{"primary": True, "type": "work", "value": user_name}],
        "preferredLanguage": "en-US",
        "name": {"formatted": "Grace Hopper", "familyName": "Hopper", "givenName": "Grace"},
        "addresses": [{"type": "work", "streetAddress": "1 Navy Way", "locality": "Arlington", "country": "US"}],
        ENTERPRISE: {"employeeNumber": "701", "department": "Navy", "manager": {"value": "boss-id"}},
    }
