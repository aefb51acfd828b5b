"""Load and validate the gateway's YAML configuration: tenants -> apps -> vendor settings.

Every error names the exact key path (`tenants.acme.apps.orca.base_url: ...`)
so an operator can fix it without reading code. Validation happens once, at
start-up (or `scim-gateway check-config`); nothing is re-read per request.
This module knows no vendor: an app's vendor-specific keys are kept as given
(credentials resolved) in `AppConfig.vendor_settings`, and gateway/apps.py
validates them against the app's connector.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from gateway.directory.keys import decode_key
from gateway.directory.urls import database_url
from gateway.secrets import ConfigError, interpolate, resolve_secret
from gateway.startup import collector_paused

M = TypeVar("M", bound=BaseModel)
_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: The separate metrics port (the port OpenTelemetry's Prometheus exporters use; not Prometheus's own 9090).
DEFAULT_METRICS_PORT = 9464


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TokenConfig(_Strict):
    """An inbound bearer token, stored as its SHA-256 (`scim-gateway hash-token`)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    sha256: str

    @field_validator("sha256")
    @classmethod
    def _is_sha256(cls, value: str) -> str:
        value = value.lower()
        if not _SHA256.match(value):
            raise ValueError("must be 64 hex characters (run: scim-gateway hash-token)")
        return value


class HttpConfig(_Strict):
    """Upstream HTTP settings for one app (seconds)."""

    connect_timeout: float = Field(default=5.0, gt=0)
    #: The longest one vendor exchange may take, from asking for a connection to the answer's last byte.
    read_timeout: float = Field(default=30.0, gt=0)
    #: Seconds to wait for a free pooled connection when all `pool_size` are busy.
    pool_timeout: float = Field(default=5.0, gt=0)
    pool_size: int = Field(default=100, ge=1, le=10_000)
    #: The largest vendor answer read, counted after decompression; a larger one is refused (502).
    max_response_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024)


class LimitConfig(_Strict):
    """An inbound limit (GCRA): `rate` requests/second, bursts of up to `burst`.

    A request over the limit waits up to `max_wait` seconds for a slot, then is refused (429).
    """

    rate: float = Field(gt=0, le=1_000_000)
    burst: int = Field(default=0, ge=0, le=1_000_000)  # 0: one second's worth of `rate`
    max_wait: float = Field(default=0.5, ge=0, le=30)

    @model_validator(mode="after")
    def _default_burst(self) -> LimitConfig:
        if self.burst == 0:
            object.__setattr__(self, "burst", max(1, math.ceil(self.rate)))
        return self


class UpstreamConfig(_Strict):
    """Outbound limits towards one app's vendor (its credential is shared by every caller)."""

    rate: float | None = Field(default=None, gt=0, le=1_000_000)
    burst: int = Field(default=0, ge=0, le=1_000_000)  # 0: one second's worth of `rate`
    #: Requests in flight to the vendor at once (None: only the connection pool bounds it).
    concurrency: int | None = Field(default=None, ge=1, le=10_000)

    @model_validator(mode="after")
    def _default_burst(self) -> UpstreamConfig:
        if self.burst == 0 and self.rate is not None:
            object.__setattr__(self, "burst", max(1, math.ceil(self.rate)))
        return self


class RetryConfig(_Strict):
    """Retries of one vendor call: full-jitter exponential backoff inside a per-request deadline (seconds)."""

    attempts: int = Field(default=4, ge=1, le=10)
    base_delay: float = Field(default=0.2, gt=0, le=60)
    max_delay: float = Field(default=5.0, gt=0, le=60)
    #: Bounds all retries and waits of one inbound request; IdPs give up at 60 s (Entra).
    deadline: float = Field(default=25.0, gt=0, le=55)
    #: Told to the caller (and waited at least) when the vendor throttles without a Retry-After.
    default_retry_after: float = Field(default=5.0, gt=0, le=300)


class BreakerConfig(_Strict):
    """Circuit breaker per app: `failures` consecutive failures open it for `cooldown` seconds."""

    failures: int = Field(default=5, ge=1, le=1000)
    cooldown: float = Field(default=30.0, gt=0, le=3600)


DirectoryMode = Literal["off", "link", "full"]


class AppConfig(_Strict):
    vendor: str
    #: Allow plain http and loopback/link-local/metadata hosts in this app's URLs (local simulators only).
    allow_insecure_url: bool = False
    max_results: int = Field(default=1000, ge=1, le=10_000)
    #: What the gateway's directory keeps for this app; None: the connector's default.
    directory: DirectoryMode | None = None
    http: HttpConfig = HttpConfig()
    limits: LimitConfig | None = None
    upstream: UpstreamConfig = UpstreamConfig()
    retry: RetryConfig = RetryConfig()
    breaker: BreakerConfig = BreakerConfig()
    #: Every other key of the app, for its connector's Settings model (gateway/apps.py); credentials resolved.
    vendor_settings: dict[str, Any] = {}

    @field_validator("directory", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        # YAML 1.1 reads a bare `off` as false.
        return "off" if value is False else value


class TenantConfig(_Strict):
    tokens: list[TokenConfig] = Field(min_length=1)
    limits: LimitConfig | None = None
    apps: dict[str, AppConfig]


class RedisConfig(_Strict):
    """The shared limit store; `url` is a secret reference (a Redis URL may carry a password)."""

    url: SecretStr | None = None
    #: Seconds per Redis call before this process falls back to its local share of the limit.
    timeout: float = Field(default=0.05, gt=0, le=5)
    key_prefix: str = Field(default="scim-gateway", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")


class FailedAuthConfig(_Strict):
    """Limits on checking tokens this process has not accepted yet: in practice, on failed authentication.

    `client` is per tenant name and client IP (a misconfigured IdP slows only itself, not other
    tenants behind the same IdP egress), `tenant` per tenant name as given in the URL (a known and
    an unknown name are throttled alike). Past the burst a check waits up to `max_wait`, never
    more than `max_delayed` of them at once in this process; beyond either: 429 with Retry-After.
    """

    client: LimitConfig = LimitConfig(rate=1, burst=20, max_wait=1.0)
    tenant: LimitConfig = LimitConfig(rate=10, burst=100, max_wait=1.0)
    max_delayed: int = Field(default=100, ge=0, le=10_000)
    #: Failure buckets kept in this process (local store, or while Redis is down); the fullest survive.
    max_tracked: int = Field(default=100_000, ge=100, le=10_000_000)


class ThrottleConfig(_Strict):
    backend: Literal["local", "redis"] = "local"
    redis: RedisConfig = RedisConfig()
    #: Replicas sharing the limits; when Redis fails each process enforces limit/replicas.
    replicas: int = Field(default=1, ge=1, le=1000)
    failed_auth: FailedAuthConfig = FailedAuthConfig()


class AuditConfig(_Strict):
    """Where audit records go (stdout by default) and how the target userName is kept."""

    file: str | None = None
    user_name: Literal["clear", "hashed", "omitted"] = "clear"


class ObservabilityConfig(_Strict):
    audit: AuditConfig = AuditConfig()
    #: Serve /metrics on the main port too. Off by default: the main port is the one published to IdPs,
    #: and metrics name every tenant and app.
    metrics_on_main_port: bool = False
    #: Serve /metrics alone on this port, which is never published (0: a free port, for tests; None: none).
    metrics_port: int | None = Field(default=DEFAULT_METRICS_PORT, ge=0, le=65535)
    #: Address the separate metrics port binds to.
    metrics_host: str = "0.0.0.0"
    #: Seconds between connectivity checks of every app (health on /status and in metrics).
    health_check_interval: float = Field(default=60.0, gt=0)
    #: Tokens (hashed, like tenant tokens) that may open the /status page.
    operator_tokens: list[TokenConfig] = []


class DirectoryEncryptionConfig(_Strict):
    """Keys protecting personal data at rest: secret references to 32 random bytes, base64.

    `keys[0]` encrypts every write; every key decrypts (rotation: put a new key
    first, keep the old ones until every row has been rewritten). `index_key`
    keys the blind indexes that find rows by userName and externalId; it does
    not rotate with `keys` (changing it makes existing rows unfindable).
    """

    keys: list[SecretStr] = Field(min_length=1)
    index_key: SecretStr


class DirectoryConfig(_Strict):
    """The database the gateway keeps its directory in (gateway.directory)."""

    #: The async-driver URL (sqlite+aiosqlite:///path or postgresql+asyncpg://...), resolved from its reference.
    url: SecretStr
    encryption: DirectoryEncryptionConfig
    #: Bring the schema up to date at start-up (on PostgreSQL under an advisory lock, so replicas take turns).
    migrate_on_start: bool = True
    #: Database connections per gateway process, and seconds to wait for a free one.
    pool_size: int = Field(default=5, ge=1, le=1000)
    pool_timeout: float = Field(default=5.0, gt=0, le=60)


class ServerConfig(_Strict):
    """Inbound HTTP connections (seconds); `scim-gateway serve` options override these."""

    #: An idle keep-alive connection stays open this long: longer than a load balancer's 60 s, so that the
    #: balancer, not the gateway, closes it (else it may send a request on a connection being closed: 502).
    keep_alive: float = Field(default=75.0, gt=0, le=3600)
    #: A request head must arrive within this, counted from the connection (or the request's first byte).
    head_timeout: float = Field(default=10.0, gt=0, le=300)
    #: A request body must arrive within this after its head.
    body_timeout: float = Field(default=30.0, gt=0, le=300)
    #: Open client connections; one more closes the one waiting longest for its client's bytes.
    max_connections: int = Field(default=1024, ge=1, le=1_000_000)
    #: On SIGTERM, requests in flight get this long before being cut (a SCIM 503 with Retry-After).
    #: Default: the longest `retry.deadline` of any app plus 1 s.
    drain_timeout: float | None = Field(default=None, gt=0, le=600)


class GatewayConfig(_Strict):
    tenants: dict[str, TenantConfig]
    public_url: str | None = None
    server: ServerConfig = ServerConfig()
    observability: ObservabilityConfig = ObservabilityConfig()
    throttle: ThrottleConfig = ThrottleConfig()
    directory: DirectoryConfig | None = None

    def drain_seconds(self) -> float:
        """How long SIGTERM waits for requests in flight: `server.drain_timeout`, else the longest deadline + 1 s."""
        if self.server.drain_timeout is not None:
            return self.server.drain_timeout
        deadlines = [app.retry.deadline for tenant in self.tenants.values() for app in tenant.apps.values()]
        return max(deadlines, default=RetryConfig().deadline) + 1.0


_APP_KEYS = frozenset(
    {"vendor", "allow_insecure_url", "max_results", "directory", "http", "limits", "upstream", "retry", "breaker"}
)
DEFAULT_DIRECTORY_PATH = "directory.db"


def load_config(path: str | Path) -> GatewayConfig:
    """Read, interpolate, resolve secrets and validate; raises ConfigError."""
    with collector_paused():
        return parse_config(read_yaml(path))


def read_yaml(path: str | Path) -> Any:
    """The YAML tree of a config file, not yet validated; raises ConfigError."""
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError("", f"cannot read {path}: {exc.strerror}") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader: builds plain data only
    except yaml.YAMLError as exc:
        raise ConfigError("", f"{path} is not valid YAML: {exc}") from None


# The base is chosen at run time (libyaml's when PyYAML was built with it), which mypy cannot check.
class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that refuses a key given twice in one mapping (PyYAML silently keeps the last one).

    libyaml's parser when PyYAML has it (twice as fast: 10,000 tenants load in 3 s, not 6.5 s).
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                line = key_node.start_mark.line + 1
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} is given twice (line {line})")
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def parse_config(raw: Any) -> GatewayConfig:
    """Validate an already-parsed YAML tree; raises ConfigError."""
    if not isinstance(raw, dict):
        raise ConfigError("", "the configuration must be a mapping with a 'tenants' key")
    raw = interpolate(raw)
    allow_literal = bool(raw.pop("allow_literal_secrets", False))
    tenants = _mapping(raw.get("tenants"), "tenants")
    if not tenants:
        raise ConfigError("tenants", "at least one tenant is required")
    built = {}
    for tenant_name, tenant in tenants.items():
        tenant_path = f"tenants.{tenant_name}"
        _check_name(tenant_name, tenant_path)
        tenant = _mapping(tenant, tenant_path)
        apps = {
            app_name: _build_app(app, f"{tenant_path}.apps.{app_name}", allow_literal)
            for app_name, app in _mapping(tenant.get("apps"), f"{tenant_path}.apps").items()
            if _check_name(app_name, f"{tenant_path}.apps.{app_name}")
        }
        built[tenant_name] = validated(TenantConfig, {**tenant, "apps": apps}, tenant_path)
        if "directory" not in raw:
            _check_no_directory_needed(apps, f"{tenant_path}.apps")
    if "throttle" in raw:
        raw["throttle"] = _throttle(raw["throttle"], allow_literal)
    if "directory" in raw:
        raw["directory"] = _directory(raw["directory"], allow_literal)
    return validated(GatewayConfig, {**raw, "tenants": built}, "")


def _check_no_directory_needed(apps: dict[str, AppConfig], path: str) -> None:
    for name, app in apps.items():
        if app.directory in ("link", "full"):
            raise ConfigError(f"{path}.{name}.directory", f"{app.directory} needs the top-level directory section")


def _directory(value: Any, allow_literal: bool) -> dict[str, Any]:
    """Resolve the database URL (a secret reference, or a literal SQLite path) and the encryption keys."""
    raw = dict(_mapping(value, "directory"))
    reference = raw.get("url", DEFAULT_DIRECTORY_PATH)
    if isinstance(reference, str) and reference.partition(":")[0] in ("env", "file"):
        url = resolve_secret(reference, "directory.url", allow_literal=allow_literal).get_secret_value()
    elif isinstance(reference, str) and _has_password(reference) and not allow_literal:
        raise ConfigError("directory.url", "a URL with a password is a secret: use env:NAME or file:/path")
    elif isinstance(reference, str):
        url = reference
    else:
        raise ConfigError("directory.url", "expected a SQLite file path or a secret reference (env:NAME, file:/path)")
    try:
        raw["url"] = SecretStr(database_url(url))
    except ValueError as exc:
        raise ConfigError("directory.url", str(exc)) from None
    encryption = dict(_mapping(raw.get("encryption"), "directory.encryption"))
    references = encryption.get("keys")
    if not isinstance(references, list) or not references:
        raise ConfigError("directory.encryption.keys", "a list of at least one secret reference is required")
    encryption["keys"] = [
        _key(reference, f"directory.encryption.keys[{index}]", allow_literal)
        for index, reference in enumerate(references)
    ]
    if "index_key" not in encryption:
        raise ConfigError("directory.encryption.index_key", "required key is missing")
    encryption["index_key"] = _key(encryption["index_key"], "directory.encryption.index_key", allow_literal)
    raw["encryption"] = encryption
    return raw


def _has_password(url: str) -> bool:
    try:
        return urlsplit(url).password is not None
    except ValueError:
        return False


def _key(reference: Any, path: str, allow_literal: bool) -> SecretStr:
    key = resolve_secret(reference, path, allow_literal=allow_literal)
    try:
        decode_key(key)
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from None
    return key


def _throttle(value: Any, allow_literal: bool) -> dict[str, Any]:
    """Resolve the Redis URL reference, only when Redis is the backend (a chart may always render it)."""
    raw = dict(_mapping(value, "throttle"))
    redis = dict(_mapping(raw.get("redis"), "throttle.redis"))
    reference = redis.pop("url", None)
    if raw.get("backend") == "redis":
        if reference is None:
            raise ConfigError("throttle.redis.url", "required when throttle.backend is redis")
        redis["url"] = resolve_secret(reference, "throttle.redis.url", allow_literal=allow_literal)
    raw["redis"] = redis
    return raw


def _build_app(raw: Any, path: str, allow_literal: bool) -> AppConfig:
    raw = _mapping(raw, path)
    vendor_part = {key: value for key, value in raw.items() if key not in _APP_KEYS}
    credentials = _mapping(vendor_part.get("credentials", {}), f"{path}.credentials")
    vendor_part["credentials"] = {
        key: resolve_secret(ref, f"{path}.credentials.{key}", allow_literal=allow_literal)
        for key, ref in credentials.items()
    }
    gateway_part = {key: value for key, value in raw.items() if key in _APP_KEYS}
    return validated(AppConfig, {**gateway_part, "vendor_settings": vendor_part}, path)


def validated(model: type[M], data: Any, path: str) -> M:
    """`model.model_validate(data)`; raises ConfigError naming the first error's key path below `path`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        error = exc.errors(include_input=False, include_url=False)[0]
        location = ".".join(str(part) for part in error["loc"])
        full = ".".join(part for part in (path, location) if part)
        raise ConfigError(full, _message(error)) from None


def _message(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    return str(error["msg"])


def _mapping(value: Any, path: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(path, "expected a mapping")
    return value


def _check_name(name: Any, path: str) -> bool:
    if not isinstance(name, str) or not re.match(_NAME, name):
        raise ConfigError(path, "names are lower-case letters, digits, '-' and '_' (at most 63)")
    return True


def secret_values(config: BaseModel) -> list[str]:
    """Every resolved secret in the config or a part of it (one app's settings: what its errors must not show)."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, SecretStr):
            found.append(value.get_secret_value())
        elif isinstance(value, BaseModel):
            for item in value.__dict__.values():
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(config)
    return found
