"""Load and validate the gateway's YAML configuration: tenants -> apps -> vendor settings.

Every error names the exact key path (`tenants.acme.apps.orca.base_url: ...`)
so an operator can fix it without reading code. Validation happens once, at
start-up (or `scim-gateway check-config`); nothing is re-read per request.
This module knows no vendor: an app's vendor-specific keys are kept as given
(credentials resolved) in `AppConfig.vendor_settings`, and gateway/apps.py
validates them against the app's connector.
"""

from gateway.config.loading import load_config, parse_config, read_yaml, secret_values, validated
from gateway.config.models import (
    DEFAULT_METRICS_PORT,
    AppConfig,
    AppMode,
    AuditConfig,
    BreakerConfig,
    DeprovisionGuardConfig,
    DirectoryConfig,
    DirectoryEncryptionConfig,
    DirectoryMode,
    FailedAuthConfig,
    GatewayConfig,
    HttpConfig,
    LimitConfig,
    ObservabilityConfig,
    OperatorScope,
    OperatorTokenConfig,
    ReconcileConfig,
    RedisConfig,
    RetryConfig,
    ServerConfig,
    TenantConfig,
    ThrottleConfig,
    TokenConfig,
    UpstreamConfig,
    WebhookConfig,
)

__all__ = [
    "DEFAULT_METRICS_PORT",
    "AppConfig",
    "AppMode",
    "AuditConfig",
    "BreakerConfig",
    "DeprovisionGuardConfig",
    "DirectoryConfig",
    "DirectoryEncryptionConfig",
    "DirectoryMode",
    "FailedAuthConfig",
    "GatewayConfig",
    "HttpConfig",
    "LimitConfig",
    "ObservabilityConfig",
    "OperatorScope",
    "OperatorTokenConfig",
    "ReconcileConfig",
    "RedisConfig",
    "RetryConfig",
    "ServerConfig",
    "TenantConfig",
    "ThrottleConfig",
    "TokenConfig",
    "UpstreamConfig",
    "WebhookConfig",
    "load_config",
    "parse_config",
    "read_yaml",
    "secret_values",
    "validated",
]
