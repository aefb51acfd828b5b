"""The configuration's schema: one pydantic model per section, each default stated once, here.

Built only by gateway/config/loading.py (which resolves secrets and names the key path of every
error); everything else reads these frozen models.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

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


#: What an operator token may do in the admin API (gateway/admin/): `read` (people, access review,
#: reconciliation results, and /status), `offboard` (deactivate or delete a person's accounts),
#: `work` (start jobs such as a reconciliation), `approve` (approve queued work; reserved).
OperatorScope = Literal["read", "offboard", "work", "approve"]


class OperatorTokenConfig(TokenConfig):
    """A token for people and services operating the gateway: /status and the admin API, never SCIM.

    `scopes` default to read-only; `tenants` None means every tenant (the /status page, which shows
    every tenant, opens only for such a token with `read`).
    """

    scopes: list[OperatorScope] = Field(default=["read"], min_length=1)
    tenants: list[str] | None = Field(default=None, min_length=1)

    @field_validator("scopes")
    @classmethod
    def _unique_scopes(cls, value: list[OperatorScope]) -> list[OperatorScope]:
        return sorted(set(value))


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
#: How an app's writes reach the vendor: its API (`api`), or a person working a queue of work items (`manual`).
AppMode = Literal["api", "manual"]


class WebhookConfig(_Strict):
    """Where a manual app's new work items are announced (a ticketing system): each POSTed as JSON,
    signed `X-Scim-Gateway-Signature: sha256=<hex HMAC-SHA256 of the body>` with `secret`."""

    url: str = Field(pattern=r"^https?://")
    #: A secret reference (env:NAME or file:/path) to the HMAC key the receiver checks signatures with.
    secret: SecretStr
    #: Seconds one delivery may take.
    timeout: float = Field(default=10.0, gt=0, le=120)
    #: Deliveries tried before an item's notification is given up (the item itself stays, listed as usual).
    max_attempts: int = Field(default=12, ge=1, le=100)
    #: Backoff between attempts: doubling from `base_delay`, at most `max_delay` seconds.
    base_delay: float = Field(default=5.0, gt=0, le=3600)
    max_delay: float = Field(default=900.0, gt=0, le=86_400)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(value: Any) -> Any:
    """A duration as seconds: a number, or a string such as `90s`, `30m`, `6h`, `1d`."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise ValueError("a duration: seconds, or a number with s, m, h or d (e.g. 6h)")
        return float(match.group(1)) * _UNITS[match.group(2)]
    return value


class ReconcileConfig(_Strict):
    """Scheduled reconciliation of one app against the directory (gateway/reconcile/)."""

    #: Start a run when the last one started this long ago (`6h`, `30m`, seconds).
    every: float = Field(ge=60, le=30 * 86400)
    #: The longest one run may take: the deadline of its vendor calls (waits for the outbound limits included).
    timeout: float = Field(default=6 * 3600, ge=60, le=7 * 86400)

    _every = field_validator("every", "timeout", mode="before")(seconds)


class DeprovisionGuardConfig(_Strict):
    """Hold deactivations and deletes past `max_deprovisions` within `window` until an operator decides.

    Counted per app across every replica (in the directory's database). A held call is answered 503 with
    `retry_after` as Retry-After, so the IdP keeps retrying until the batch is approved or rejected.
    """

    max_deprovisions: int = Field(ge=1, le=1_000_000)
    window: float = Field(default=600.0, gt=0, le=30 * 86_400)
    retry_after: float = Field(default=300.0, ge=1, le=86_400)

    _durations = field_validator("window", "retry_after", mode="before")(seconds)


class AppConfig(_Strict):
    vendor: str
    #: Allow plain http and loopback/link-local/metadata hosts in this app's URLs (local simulators only).
    allow_insecure_url: bool = False
    max_results: int = Field(default=1000, ge=1, le=10_000)
    #: What the gateway's directory keeps for this app; None: the connector's default.
    directory: DirectoryMode | None = None
    #: `manual`: the IdP's writes become the desired state in the directory and work items for a person
    #: (for vendors without a user API); needs the top-level directory section.
    mode: AppMode = "api"
    #: Manual apps only: announce each new work item to this URL.
    webhook: WebhookConfig | None = None
    #: Manual apps only: age (seconds, or 90m, 12h, 2d) past which an open work item is overdue (alert
    #: ScimGatewayWorkItemsOverdue, flagged on /status). Default: one day.
    work_item_max_age: float = Field(default=86_400.0, gt=0, le=90 * 86_400)
    #: A create meets an account that exists at the vendor but not in the directory: `link` adopts it
    #: (audited), `refuse` answers 409. None: refuse where the vendor has privileged roles, else link.
    on_existing: Literal["link", "refuse"] | None = None
    http: HttpConfig = HttpConfig()
    limits: LimitConfig | None = None
    upstream: UpstreamConfig = UpstreamConfig()
    retry: RetryConfig = RetryConfig()
    breaker: BreakerConfig = BreakerConfig()
    #: Reconcile this app with the directory on a schedule (needs the directory; None: on demand only).
    reconcile: ReconcileConfig | None = None
    #: Hold bursts of deactivations and deletes for an operator's approval (gateway/deprovisioning/).
    guard: DeprovisionGuardConfig | None = None
    #: Validate, translate and record every write instead of sending it; reads still go to the vendor.
    dry_run: bool = False
    #: Every other key of the app, for its connector's Settings model (gateway/apps.py); credentials resolved.
    vendor_settings: dict[str, Any] = {}

    _max_age = field_validator("work_item_max_age", mode="before")(seconds)

    @field_validator("directory", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        # YAML 1.1 reads a bare `off` as false.
        return "off" if value is False else value

    @model_validator(mode="after")
    def _manual_keeps_everything(self) -> AppConfig:
        if self.mode == "manual" and self.directory not in (None, "full"):
            raise ValueError("a manual app keeps its users in the directory: leave `directory` out (or `full`)")
        if self.webhook is not None and self.mode != "manual":
            raise ValueError("`webhook` announces work items: it needs `mode: manual`")
        if self.mode == "manual" and self.reconcile is not None:
            raise ValueError("a manual app has no vendor API to reconcile with: leave `reconcile` out")
        return self

    @model_validator(mode="after")
    def _dry_run_needs_an_api(self) -> AppConfig:
        # A dry run keeps no directory entries (its writes never happened): nothing to reconcile them with.
        if self.dry_run and self.mode == "manual":
            raise ValueError("dry_run: a manual app sends nothing to a vendor; its work items already show each write")
        if self.dry_run and self.reconcile is not None:
            raise ValueError("dry_run: a dry-run app keeps no directory entries to reconcile; leave `reconcile` out")
        return self

    @model_validator(mode="after")
    def _reconcile_needs_directory(self) -> AppConfig:
        if self.reconcile is not None and self.directory == "off":
            raise ValueError("reconcile compares the vendor with the directory: it needs directory link or full")
        return self


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
    #: Operator tokens (hashed, like tenant tokens): the /status page and the admin API, each with its scopes.
    operator_tokens: list[OperatorTokenConfig] = []


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
    #: A write intent older than this outlived its request (a crash, a lost answer): recovery settles it
    #: from the vendor's state. Default: twice the app's `retry.deadline`, at least 30 s.
    settle_after: float | None = Field(default=None, gt=0, le=86_400)
    #: Seconds between the sweeps that settle such intents (one at start-up too).
    sweep_every: float = Field(default=60.0, gt=0, le=86_400)
    #: Seconds between reads of the open work items of manual apps (their metrics and the status page).
    work_refresh_every: float = Field(default=30.0, gt=0, le=3600)


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

    @model_validator(mode="after")
    def _reconcile_has_directory(self) -> GatewayConfig:
        if self.directory is None:
            for tenant_name, tenant in self.tenants.items():
                for app_name, app in tenant.apps.items():
                    if app.reconcile is not None:
                        raise ValueError(f"tenants.{tenant_name}.apps.{app_name}.reconcile needs the directory section")
        return self

    def drain_seconds(self) -> float:
        """How long SIGTERM waits for requests in flight: `server.drain_timeout`, else the longest deadline + 1 s."""
        if self.server.drain_timeout is not None:
            return self.server.drain_timeout
        deadlines = [app.retry.deadline for tenant in self.tenants.values() for app in tenant.apps.values()]
        return max(deadlines, default=RetryConfig().deadline) + 1.0
