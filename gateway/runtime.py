"""The long-lived objects built from the config in the app's lifespan.

Per app: one aiohttp ClientSession (its own bounded pool and timeouts), the
vendor auth object, the connector, its AppOperations and its discovery
documents. Per tenant: the token verifier. Nothing here is built per request.
`build_connector` is the one place a connector is assembled (tests reuse it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import aiohttp
from scim2_models import NotFoundException

from gateway.apps import VendorApp, manual_apps, vendor_apps, webhook_apps
from gateway.backed.attributes import VendorModel
from gateway.backed.manual.events import WorkEvents
from gateway.backed.manual.operations import ManualOperations, manual_schemas
from gateway.backed.manual.service import WorkService
from gateway.backed.operations import DirectoryOperations
from gateway.backed.recovery import Settler
from gateway.backed.takeover import Takeover
from gateway.config import AppConfig, DirectoryMode, GatewayConfig, HttpConfig, secret_values
from gateway.deprovisioning.gate import DeprovisionGate
from gateway.directory.dry_runs import DryRuns
from gateway.directory.resources import Resources
from gateway.directory.store import Directory
from gateway.directory.work import WorkItems
from gateway.dryrun.operations import DryRunOperations
from gateway.inbound.auth import NO_TOKENS, TokenVerifier
from gateway.observability.audit import AuditLog
from gateway.observability.metrics import AppStateCollector, Metrics
from gateway.observability.work_metrics import WorkCollector
from gateway.operations import AppOperations
from gateway.outbound.auth import VendorAuth
from gateway.outbound.breaker import Breaker
from gateway.outbound.client import UpstreamClient
from gateway.outbound.guard import UpstreamGuard, default_guard
from gateway.scim.discovery import Discovery
from gateway.scim.models import SchemaSet
from gateway.throttle.admission import Admission, Store
from gateway.throttle.build import build_admission, build_failed_auth, build_guard, build_store
from gateway.throttle.failed_auth import FailedAuthThrottle
from vendors.base import Connector, ConnectorSettings

#: Intents younger than this are never settled by recovery (their request may still be running).
MIN_SETTLE_AFTER = 30.0
if TYPE_CHECKING:
    from gateway.reconcile.reconciler import Reconciler


@dataclass
class AppHealth:
    """The last connectivity check of an app (a vendor being down never makes the gateway unready)."""

    checked: bool = False
    ok: bool = False
    #: Why the last check failed, scrubbed (gateway/outbound/vendor_text.py): shown in logs and on /status.
    detail: str = "not checked yet"
    checked_at: float | None = None


@dataclass
class AppRuntime:
    tenant: str
    name: str
    vendor: str
    connector: Connector
    #: The app's SCIM operations: over the vendor alone (directory off), with its directory entries, or
    #: (mode manual) over the directory and work items alone (the connector then only checks connectivity).
    operations: AppOperations | DirectoryOperations | ManualOperations
    discovery: Discovery
    max_results: int
    session: aiohttp.ClientSession
    auth: VendorAuth
    admission: Admission
    guard: UpstreamGuard
    #: The app's SCIM root below the server's origin: /tenants/{tenant}/apps/{app}/scim/v2.
    scim_path: str = ""
    #: That root under the configured `public_url`; None when each request's Host and scheme decide.
    public_base: str | None = None
    health: AppHealth = field(default_factory=AppHealth)
    #: The app's credential values, scrubbed from whatever vendor text is shown (never printed).
    secrets: tuple[str, ...] = field(default=(), repr=False)
    #: What the gateway's directory keeps for this app (gateway/apps.py), and its repository there (None: off).
    directory_mode: DirectoryMode = "off"
    resources: Resources | None = None
    #: The deprovisioning guard (gateway/deprovisioning/), None without `guard`.
    deprovisions: DeprovisionGate | None = None
    #: `dry_run: true`: writes are recorded in `dry_runs`, never sent (gateway/dryrun/).
    dry_run: bool = False
    dry_runs: DryRuns | None = None

    @property
    def breaker(self) -> Breaker:
        """The app's circuit breaker; `.state` is closed, open or half_open."""
        return self.guard.breaker


@dataclass
class TenantRuntime:
    name: str
    verifier: TokenVerifier
    apps: dict[str, AppRuntime] = field(default_factory=dict)

    def app(self, name: str) -> AppRuntime:
        """The named app of this tenant; raises NotFoundException (404)."""
        found = self.apps.get(name)
        if found is None:
            raise NotFoundException(detail=f"tenant {self.name!r} has no app {name!r}")
        return found


@dataclass
class Runtime:
    config: GatewayConfig
    tenants: dict[str, TenantRuntime]
    metrics: Metrics
    audit: AuditLog
    throttle: Store
    failed_auth: FailedAuthThrottle
    #: The gateway's directory (None when no app keeps anything in it); built and closed by the lifespan.
    directory: Directory | None = None
    #: The manual apps' work queue (gateway/backed/manual/service.py); None without manual apps.
    work: WorkService | None = None
    #: Reconciles the apps with the directory (gateway/reconcile/); built with the directory by the lifespan.
    reconciler: Reconciler | None = None

    def verifier(self, tenant: str) -> TokenVerifier:
        """The tenant's token verifier; an unknown tenant's refuses every token as a known one refuses a bad one."""
        found = self.tenants.get(tenant)
        return NO_TOKENS if found is None else found.verifier

    def apps(self) -> list[AppRuntime]:
        return [app for tenant in self.tenants.values() for app in tenant.apps.values()]

    def settlers(self) -> list[Settler]:
        """The intent settlers of every directory-backed app (gateway/backed/recovery.py)."""
        return [app.operations.settler for app in self.apps() if isinstance(app.operations, DirectoryOperations)]

    async def close(self) -> None:
        for app in self.apps():
            await app.session.close()
        await self.throttle.close()
        if self.directory is not None:
            await self.directory.close()
        self.audit.close()


def build_runtime(
    config: GatewayConfig, version: str, directory: Directory | None = None, metrics: Metrics | None = None
) -> Runtime:
    """Build every tenant and app; must run inside the event loop (aiohttp sessions).

    `directory` is the directory (gateway/directory/store.py), required when an app's directory mode is
    not `off` (see `needs_directory`); `metrics` the process's metrics when the directory already reports
    to them (default: new ones). Raises ConfigError when an app's vendor settings are invalid (gateway/apps.py).
    """
    vendors = vendor_apps(config)
    metrics = metrics if metrics is not None else Metrics(version)
    audit_config = config.observability.audit
    audit = AuditLog(audit_config.file, audit_config.user_name)
    tenants: dict[str, TenantRuntime] = {}
    configured_keys = sum(1 + 2 * len(tenant.apps) for tenant in config.tenants.values())
    store = build_store(config.throttle, metrics, configured_keys=configured_keys)
    events = WorkEvents(audit, frozenset(webhook_apps(config)))
    work_items = directory.work() if directory is not None else None
    for tenant_name, tenant in config.tenants.items():
        verifier = TokenVerifier([(token.name, token.sha256) for token in tenant.tokens])
        runtime = TenantRuntime(tenant_name, verifier)
        for app_name, app in tenant.apps.items():
            admission = build_admission(store, tenant_name, tenant, app_name, app, metrics)
            guard = build_guard(store, tenant_name, app_name, app, metrics)
            vendor = vendors[(tenant_name, app_name)]
            resources = None
            if _needs_directory(app, vendor) and directory is None:
                raise ValueError(f"{tenant_name}/{app_name} keeps state in the directory: build it first")
            if vendor.directory != "off" and not app.dry_run and directory is not None:
                resources = directory.resources(tenant_name, app_name)
            dry_runs = directory.dry_runs(tenant_name, app_name) if app.dry_run and directory is not None else None
            built_app = _build_app(
                tenant_name,
                app_name,
                app,
                vendor,
                metrics,
                admission,
                guard,
                resources,
                config,
                audit,
                (work_items, events),
                dry_runs,
            )
            if app.guard is not None and directory is not None:
                _add_guard(built_app, app, directory, metrics)
            built_app.scim_path = f"/tenants/{tenant_name}/apps/{app_name}/scim/v2"
            if config.public_url is not None:
                built_app.public_base = config.public_url.rstrip("/") + built_app.scim_path
            runtime.apps[app_name] = built_app
        tenants[tenant_name] = runtime
    failed_auth = build_failed_auth(store, config.throttle, metrics)
    built = Runtime(
        config=config,
        tenants=tenants,
        metrics=metrics,
        audit=audit,
        throttle=store,
        failed_auth=failed_auth,
        directory=directory,
    )
    manual = manual_apps(config)
    if manual and directory is not None:
        built.work = WorkService(directory, events, manual)
        max_ages = {(t, a): config.tenants[t].apps[a].work_item_max_age for t, a in manual}
        metrics.add_collector(WorkCollector(built.work, max_ages))
    metrics.add_collector(AppStateCollector(built.apps))
    return built


def needs_directory(config: GatewayConfig) -> bool:
    """Whether any app keeps state in the directory (its mode, configured or its connector's default, is not off)."""
    apps = {(t, a): app for t, tenant in config.tenants.items() for a, app in tenant.apps.items()}
    return any(_needs_directory(apps[key], vendor) for key, vendor in vendor_apps(config).items())


def _needs_directory(app: AppConfig, vendor: VendorApp) -> bool:
    """Entries (directory mode), the guard's window and batch, or dry-run records are kept in the directory."""
    return vendor.directory != "off" or app.guard is not None or app.dry_run


def _add_guard(built: AppRuntime, app: AppConfig, directory: Directory, metrics: Metrics) -> None:
    """The app's deprovisioning guard, its window and held batch kept in the directory's database."""
    tenant, name = built.tenant, built.name
    assert app.guard is not None

    def count(verdict: str) -> None:
        metrics.count_deprovision(tenant, name, verdict)

    built.deprovisions = DeprovisionGate(directory.deprovisions(tenant, name), app.guard, f"{tenant}/{name}", count)


def build_connector(
    cls: type[Connector],
    settings: ConnectorSettings,
    session: aiohttp.ClientSession,
    label: str,
    guard: UpstreamGuard | None = None,
    http: HttpConfig | None = None,
    *,
    observe: Callable[[str, int, float], None] | None = None,
    on_oversized: Callable[[], None] | None = None,
    record_writes: bool = False,
) -> Connector:
    """One app's connector on `session`: its vendor auth, bound to a token client, and its UpstreamClient.

    `label` names the app in errors and logs (tenant/app). `guard` holds the app's retry policy, breaker,
    pause and outbound limits (default: `default_guard`), shared by the token client for calls made while
    signing; `http` the app's timeouts and answer cap (default: HttpConfig's defaults). The app's credential
    values are kept out of error details. The runtime builds every app this way, and tests reuse it.
    `record_writes`: the connector's own client records every request but a GET instead of sending it
    (a dry-run app's write connector; its OAuth token client still sends).
    """
    guard = guard if guard is not None else default_guard(label)
    http = http if http is not None else HttpConfig()
    secrets = tuple(secret_values(settings))

    def client(
        base_url: str, auth: VendorAuth, client_guard: UpstreamGuard, resend: bool, record: bool = False
    ) -> UpstreamClient:
        return UpstreamClient(
            session,
            base_url,
            auth,
            label,
            observe,
            client_guard,
            resend_posts=resend,
            attempt_timeout=http.read_timeout,
            max_body=http.max_response_bytes,
            on_oversized=on_oversized,
            secrets=secrets,
            record_writes=record,
        )

    auth = cls.vendor_auth(settings)
    token_guard = guard.for_token_requests()
    auth.bind(lambda base_url, client_auth: client(base_url, client_auth, token_guard, True))
    return cls(settings, client(cls.base_url(settings), auth, guard, False, record_writes))


def _build_app(
    tenant: str,
    name: str,
    app: AppConfig,
    vendor: VendorApp,
    metrics: Metrics,
    admission: Admission,
    guard: UpstreamGuard,
    resources: Resources | None,
    config: GatewayConfig,
    audit: AuditLog,
    work: tuple[WorkItems | None, WorkEvents],
    dry_runs: DryRuns | None = None,
) -> AppRuntime:
    cls, settings = vendor.connector, vendor.settings
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=app.http.pool_size, ttl_dns_cache=300, keepalive_timeout=30),
        # `connect` covers waiting for a pooled connection plus connecting (aiohttp semantics); the read
        # timeout bounds each whole exchange in UpstreamClient (`attempt_timeout`).
        timeout=aiohttp.ClientTimeout(
            total=None,
            connect=app.http.pool_timeout + app.http.connect_timeout,
            sock_connect=app.http.connect_timeout,
        ),
        raise_for_status=False,
        # aiohttp (>= 3.13.3) inflates in bounded steps; gateway/outbound/body.py caps the total.
        auto_decompress=True,
    )

    def observe(method: str, status: int, seconds: float) -> None:
        metrics.observe_upstream(tenant, name, app.vendor, method, status, seconds)

    def oversized() -> None:
        metrics.count_oversized(tenant, name, app.vendor)

    connector = build_connector(
        cls, settings, session, f"{tenant}/{name}", guard, app.http, observe=observe, on_oversized=oversized
    )
    auth, secrets = connector.upstream.auth, connector.upstream.secrets
    schemas = SchemaSet(cls.user_extensions)
    plain = AppOperations(connector, schemas)
    profile = cls.user_profile(settings)
    operations: AppOperations | DirectoryOperations | ManualOperations = plain
    offered, profile_shown = plain.offered, profile
    if app.mode == "manual":
        items, events = work
        if resources is None or items is None:
            raise ValueError(f"{tenant}/{name} is a manual app: open the directory first")
        schemas = manual_schemas(schemas)
        operations = ManualOperations(cls.vendor, schemas, resources, items, events)
        offered, profile_shown = operations.offered, None  # the directory holds every attribute
    elif dry_runs is not None:
        # A second connector for writes only, on a client that records them (gateway/dryrun/__init__.py).
        recording = build_connector(
            cls, settings, session, f"{tenant}/{name}", guard, app.http, observe=observe, on_oversized=oversized,
            record_writes=True,
        )  # fmt: skip
        operations = plain = DryRunOperations(connector, recording, schemas, dry_runs)
    elif resources is not None and vendor.directory != "off":
        # An intent older than twice the request deadline outlived its request: recovery may settle it.
        configured = config.directory.settle_after if config.directory is not None else None
        settle_after = configured or max(2 * app.retry.deadline, MIN_SETTLE_AFTER)
        # Adopting accounts made outside the IdP is refused by default where the vendor has admin roles.
        policy = app.on_existing or ("refuse" if cls.privileged_roles else "link")
        takeover = Takeover(policy, plain, (tenant, name), audit)
        model = VendorModel(profile)
        operations = DirectoryOperations(plain, resources, vendor.directory, model, settle_after, takeover)
    discovery = Discovery(
        offered,
        schemas,
        app.max_results,
        profile_shown,
        etags=resources is not None,
        held_by=cls.vendor if vendor.directory == "full" and app.mode != "manual" else None,
    )
    return AppRuntime(
        tenant=tenant,
        name=name,
        vendor=app.vendor,
        connector=connector,
        operations=operations,
        discovery=discovery,
        max_results=app.max_results,
        session=session,
        auth=auth,
        admission=admission,
        guard=guard,
        secrets=secrets,
        directory_mode=vendor.directory if resources is not None else "off",
        resources=resources,
        dry_run=dry_runs is not None,
        dry_runs=dry_runs,
    )
