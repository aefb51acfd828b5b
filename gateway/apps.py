"""Each app's connector and vendor settings, validated against the vendor registry.

gateway/config/ parses what the gateway itself owns and keeps each app's
vendor-specific keys as given; this step resolves the app's `vendor:` kind to
its connector (vendors/registry.py) and validates those keys against the
connector's Settings model. `scim-gateway check-config` and the app's lifespan
(gateway/runtime.py) both run it, so a bad vendor setting is refused before
anything serves, with the same key paths as the rest of the config
(`tenants.acme.apps.orca.base_url: ...`).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.config import AppConfig, DirectoryMode, GatewayConfig, WebhookConfig, validated
from gateway.secrets import ConfigError
from gateway.vendor_urls import url_problem
from vendors.base import Connector, ConnectorSettings
from vendors.registry import connector_class


@dataclass(frozen=True)
class VendorApp:
    """One app's connector class, its validated settings, the vendor URL its requests are relative to,
    and what the gateway's directory keeps for it (`off`, `link` or `full`)."""

    connector: type[Connector]
    settings: ConnectorSettings
    base_url: str
    directory: DirectoryMode = "off"


def vendor_apps(config: GatewayConfig) -> dict[tuple[str, str], VendorApp]:
    """(tenant, app) -> its VendorApp, for every app of the config; raises ConfigError naming the key path."""
    return {
        (tenant_name, app_name): vendor_app(
            app, f"tenants.{tenant_name}.apps.{app_name}", has_directory=config.directory is not None
        )
        for tenant_name, tenant in config.tenants.items()
        for app_name, app in tenant.apps.items()
    }


def manual_apps(config: GatewayConfig) -> frozenset[tuple[str, str]]:
    """(tenant, app) of every app in `mode: manual`."""
    return frozenset(
        (tenant_name, app_name)
        for tenant_name, tenant in config.tenants.items()
        for app_name, app in tenant.apps.items()
        if app.mode == "manual"
    )


def webhook_apps(config: GatewayConfig) -> dict[tuple[str, str], WebhookConfig]:
    """(tenant, app) -> its webhook, for every manual app with one."""
    return {
        (tenant_name, app_name): app.webhook
        for tenant_name, tenant in config.tenants.items()
        for app_name, app in tenant.apps.items()
        if app.mode == "manual" and app.webhook is not None
    }


def vendor_app(app: AppConfig, path: str, has_directory: bool = False) -> VendorApp:
    """Validate one app's vendor settings (`path` is the app's key path); raises ConfigError.

    `has_directory`: the config has a directory section, so the app's directory mode defaults to its
    connector's (`full` where the vendor stores less than SCIM, else `link`); without one it is `off`.
    """
    try:
        connector = connector_class(app.vendor)
    except KeyError as exc:
        raise ConfigError(f"{path}.vendor", str(exc.args[0])) from None
    settings = validated(connector.Settings, app.vendor_settings, path)
    try:
        base_url = connector.base_url(settings)
    except ValueError as exc:
        raise ConfigError(f"{path}.base_url", str(exc)) from None
    _check_urls(app, settings, base_url, path)
    return VendorApp(connector, settings, base_url, directory_mode(app, connector, settings, has_directory))


def directory_mode(
    app: AppConfig, connector: type[Connector], settings: ConnectorSettings, has_directory: bool
) -> DirectoryMode:
    """The app's directory mode: as configured, else `full` for a vendor that stores less than SCIM's User
    (it declares a user profile), `link` for one that stores all of it; `off` without a directory section.
    A manual app is always `full`."""
    if app.mode == "manual":
        return "full"  # the directory holds every attribute: there is no vendor API to hold any
    if app.directory is not None:
        return app.directory
    if not has_directory:
        return "off"
    return "link" if connector.user_profile(settings) is None else "full"


def _check_urls(app: AppConfig, settings: ConnectorSettings, base_url: str, path: str) -> None:
    """Refuse vendor URLs the gateway must not send credentials to (gateway/vendor_urls.py)."""
    urls = {"base_url": base_url}
    urls.update((name, value) for name, value in settings if name.endswith("_url") and isinstance(value, str))
    if app.webhook is not None:  # work items (userNames) go there: the same rules as credentials
        urls["webhook.url"] = app.webhook.url
    for name, url in urls.items():
        problem = url_problem(url, allow_insecure=app.allow_insecure_url)
        if problem is not None:
            raise ConfigError(f"{path}.{name}", problem)
