"""The operator status page at /status: server-rendered HTML, read-only, behind an operator token.

Per tenant and app it shows health (the last connectivity check), circuit
state, request and error rates over the last minute, throttling, the vendor
token's expiry and what the directory keeps for the app; in the header,
whether the directory is reachable (its backend's name, never its URL). The
token is accepted as `Authorization: Bearer`, as a `?token=` query parameter
(so a browser bookmark or headless browser can open it) or from the page's
own login form (POST, so it stays out of URLs and history). It is never
echoed into the page; responses are `no-store`, carry `Referrer-Policy:
no-referrer` (a `?token=` URL must not leak to other sites) and a CSP that
allows nothing but the inline stylesheet: the page loads no
external assets and works offline.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from scim2_models import UnauthorizedException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gateway.directory.deprovisions import GuardView
from gateway.directory.errors import DirectoryUnavailable
from gateway.inbound.auth import TokenVerifier
from gateway.inbound.recording import Call
from gateway.observability.metrics import circuit_state
from gateway.observability.rates import AppRates, Rates, RateWindow
from gateway.runtime import AppRuntime, Runtime

MAX_FORM_BYTES = 4096
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}
_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:0;background:#f4f6f8;color:#1d2430}
header{background:#1d2b3a;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header p{margin:4px 0 0;color:#b9c6d4}main{padding:8px 24px 24px}
section{background:#fff;border:1px solid #d8dee6;border-radius:6px;margin:16px 0;padding:4px 16px 12px}
h2{font-size:16px;margin:12px 0 4px}.meta{color:#5a6878;margin:0 0 8px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e6eaef}
th{font-weight:600;color:#5a6878;font-size:12px;text-transform:uppercase;white-space:nowrap}
td{white-space:nowrap;font-variant-numeric:tabular-nums}.health{white-space:normal;min-width:160px;max-width:320px}
.b{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.ok{background:#d8f3df;color:#14622d}.bad{background:#fbdada;color:#8c1c1c}.warn{background:#fdefc8;color:#7a5300}
.na{background:#e6eaef;color:#5a6878}.detail{color:#5a6878;font-size:12px}
form{background:#fff;border:1px solid #d8dee6;border-radius:6px;padding:16px;max-width:360px;margin:24px}
input{font:inherit;padding:6px;width:100%;box-sizing:border-box;margin:8px 0}
"""


@dataclass
class StatusPage:
    """What the page needs besides the runtime: who may see it, the rate window, start time."""

    verifier: TokenVerifier
    rates: RateWindow
    version: str
    started: float

    @classmethod
    def build(cls, runtime: Runtime, version: str) -> StatusPage:
        # The page shows every tenant: it opens for operator tokens that may read them all.
        tokens = [
            token
            for token in runtime.config.observability.operator_tokens
            if "read" in token.scopes and token.tenants is None
        ]
        verifier = TokenVerifier([(token.name, token.sha256) for token in tokens])
        return cls(verifier, RateWindow(runtime.metrics), version, time.time())


async def status(request: Request) -> Response:
    """GET or POST /status: the page for a valid operator token, else 401 with a login form."""
    runtime: Runtime = request.app.state.runtime
    page: StatusPage = request.app.state.status_page
    call = Call.begin(request, route="/status", operation="status")
    try:
        call.token_name = page.verifier.verify(await _presented(request))
        if runtime.directory is not None:
            await runtime.directory.availability.ready()  # bounded, and cached for the probes' sake
        guards = await guard_views(runtime)
        response = _html(render(runtime, page, page.rates.rates(), guards), 200)
    except UnauthorizedException:
        response = _html(_login_page(), 401, {"WWW-Authenticate": 'Bearer realm="scim-gateway operator"'})
    call.finish(response, None, runtime.audit)
    return response


async def _presented(request: Request) -> str | None:
    """The Authorization header, or a bearer header made from `?token=` or the login form."""
    header = request.headers.get("authorization")
    if header:
        return header
    token = request.query_params.get("token")
    if token is None and request.method == "POST":
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                return None
        tokens = parse_qs(body.decode("utf-8", "replace")).get("token")
        token = tokens[0] if tokens else None
    return f"Bearer {token}" if token else None


def _html(body: str, status: int, extra: dict[str, str] | None = None) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers={**_HEADERS, **(extra or {})})


async def guard_views(runtime: Runtime) -> dict[tuple[str, str], GuardView | None]:
    """Each guarded app's deprovisioning guard as the shared database holds it (None: the database is down)."""
    views: dict[tuple[str, str], GuardView | None] = {}
    for app in runtime.apps():
        if app.deprovisions is not None:
            try:
                views[(app.tenant, app.name)] = await app.deprovisions.store.view(app.deprovisions.config.window)
            except DirectoryUnavailable:
                views[(app.tenant, app.name)] = None
    return views


def render(
    runtime: Runtime, page: StatusPage, rates: Rates, guards: dict[tuple[str, str], GuardView | None] | None = None
) -> str:
    """The whole page for the runtime's current state and the guards' views (pure: no I/O)."""
    apps = runtime.apps()
    healthy = sum(1 for app in apps if app.health.checked and app.health.ok)
    open_circuits = sum(1 for app in apps if circuit_state(app) == "open")
    in_flight = runtime.metrics.in_flight.value
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    summary = (
        f"version {_e(page.version)} · up {_duration(time.time() - page.started)} · apps: {len(apps)}, "
        f"healthy: {healthy}, circuits open: {open_circuits} · in flight: {in_flight} · "
        f"audit records dropped: {runtime.audit.dropped} · {_directory(runtime)} · "
        f"rates over the last {rates.seconds:.0f}s · {now}"
    )
    sections = _guard_section(runtime, guards or {})
    sections += "".join(_tenant_section(runtime, name, rates) for name in runtime.tenants) + _work_section(runtime)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>scim-gateway status</title>'
        f"<style>{_STYLE}</style></head><body><header><h1>scim-gateway status</h1><p>{summary}</p></header>"
        f"<main>{sections}</main></body></html>"
    )


def _tenant_section(runtime: Runtime, name: str, rates: Rates) -> str:
    tenant = runtime.tenants[name]
    inbound = rates.throttled.get((name, "inbound"), 0.0)
    outbound = rates.throttled.get((name, "outbound"), 0.0)
    vendor = rates.throttled.get((name, "vendor"), 0.0)  # held back while a vendor's 429 pause runs
    limits = _limits(getattr(runtime.config.tenants[name], "limits", None))
    meta = (
        f"throttled: {inbound:.2f}/s inbound, {outbound:.2f}/s outbound, {vendor:.2f}/s by the vendor"
        f" · inbound limit: {limits}"
    )
    rows = "".join(_app_row(runtime, app, rates.apps.get((name, app.name), AppRates())) for app in tenant.apps.values())
    head = "".join(f"<th>{h}</th>" for h in _COLUMNS)
    return (
        f'<section><h2>tenant {_e(name)}</h2><p class="meta">{_e(meta)}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></section>"
    )


_COLUMNS = (
    *("app", "vendor", "health", "circuit", "req/s", "4xx/s", "5xx"),
    *("vendor err/s", "limits", "token", "directory", "reconciled"),
)


def _app_row(runtime: Runtime, app: AppRuntime, rates: AppRates) -> str:
    config = runtime.config.tenants[app.tenant].apps[app.name]
    inbound = _limits(getattr(config, "limits", None))
    upstream = _limits(getattr(config, "upstream", None))
    cells = [
        _e(app.name),
        _e(app.vendor),
        f'<div class="health">{_health(app)}</div>',
        _circuit(app),
        f"{rates.requests:.2f}",
        f"{rates.client_errors:.2f}",
        _badge(f"{rates.error_ratio:.1%}", "bad" if rates.error_ratio >= 0.05 else "ok") if rates.requests else "-",
        f"{rates.vendor_errors:.2f}",
        f'in: {inbound}<br><span class="detail">out: {upstream}</span>',
        _token(app),
        _e(app.directory_mode),
        _reconciled(runtime, app),
    ]
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def _guard_section(runtime: Runtime, guards: dict[tuple[str, str], GuardView | None]) -> str:
    """Apps whose deprovisions are guarded (holding a batch stands out), and apps running dry."""
    rows = []
    for app in runtime.apps():
        if app.deprovisions is None and not app.dry_run:
            continue
        state, detail = _badge("dry run: writes recorded, not sent", "warn") if app.dry_run else "", ""
        if app.deprovisions is not None:
            config, view = app.deprovisions.config, guards.get((app.tenant, app.name))
            limit = f"{config.max_deprovisions} per {_duration(config.window)}"
            if view is None:
                state += _badge("unknown: directory unavailable", "na")
            elif view.batch is not None:
                since = view.tripped.strftime("%H:%M:%S UTC") if view.tripped else "?"
                state += _badge(f"holding {view.counts['held']} deprovisions since {since}", "bad")
                detail = f"batch {view.batch}: approve or reject (scim-gateway guard approve|reject)"
            else:
                state += _badge(f"counting: {view.recent} of {limit}", "ok")
            if view is not None and view.counts["rejected"]:
                detail += f" {view.counts['rejected']} rejected entries refused until reset"
        cells = [_e(f"{app.tenant}/{app.name}"), state, f'<span class="detail">{_e(detail.strip())}</span>']
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    if not rows:
        return ""
    head = "".join(f"<th>{h}</th>" for h in ("app", "deprovisioning guard / dry run", "what to do"))
    return (
        "<section><h2>deprovisioning guards and dry runs</h2>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _work_section(runtime: Runtime) -> str:
    """Manual apps' work queues: open items, the oldest's age against the app's work_item_max_age."""
    service = runtime.work
    if service is None:
        return ""
    now = time.time()
    rows = []
    for tenant, app in sorted(service.manual_apps):
        backlog = service.backlog.get((tenant, app))
        max_age = runtime.config.tenants[tenant].apps[app].work_item_max_age
        age = max(0.0, now - backlog.oldest.timestamp()) if backlog else 0.0
        state = _badge("overdue", "bad") if age > max_age else _badge("ok", "ok")
        failed = service.notifications.get((tenant, app, "failed"), 0)
        cells = [
            _e(tenant),
            _e(app),
            str(backlog.open if backlog else 0),
            _duration(age) if backlog else "-",
            _duration(max_age),
            state,
            _badge(f"{failed} given up", "bad") if failed else "-",
        ]
        rows.append("<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>")
    head = "".join(
        f"<th>{h}</th>" for h in ("tenant", "app", "open items", "oldest", "overdue after", "state", "webhook")
    )
    meta = "manual apps: a person does each write at the vendor (scim-gateway work list)"
    return (
        f'<section><h2>work queue</h2><p class="meta">{_e(meta)}</p>'
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _health(app: AppRuntime) -> str:
    health = app.health
    if not health.checked:
        return _badge("not checked yet", "na")
    ago = f"checked {_duration(time.time() - health.checked_at)} ago" if health.checked_at else ""
    if health.ok:
        return f'{_badge("up", "ok")} <span class="detail">{ago}</span>'
    return f'{_badge("down", "bad")} <span class="detail">{_e(health.detail)} · {ago}</span>'


def _directory(runtime: Runtime) -> str:
    """The directory's state in the header: its backend and whether it answers; never its URL."""
    directory = runtime.directory
    if directory is None:
        return "directory: none"
    availability = directory.availability
    if availability.prepared is False:
        state = "not ready"
    elif availability.checked_at is None:
        state = "not checked yet"
    else:
        state = "reachable" if availability.reachable else "unreachable"
    problem = f" ({availability.problem})" if availability.problem and state != "reachable" else ""
    return _e(f"directory: {directory.backend}, {state}{problem}")


def _circuit(app: AppRuntime) -> str:
    state = circuit_state(app)
    if state is None:
        return _badge("n/a", "na")
    return _badge(state.replace("_", "-"), {"closed": "ok", "open": "bad"}.get(state, "warn"))


def _token(app: AppRuntime) -> str:
    expiry = getattr(app.auth, "seconds_to_expiry", None)
    if expiry is None:
        return '<span class="detail">static credential</span>'
    remaining = expiry()
    failures = getattr(app.auth, "refresh_outcomes", {}).get("failure", 0)
    text = "no token cached" if remaining is None else f"expires in {_duration(remaining)}"
    failed = f" {_badge(f'{failures} refresh failures', 'bad')}" if failures else ""
    return f"{_e(text)}{failed}"


def _reconciled(runtime: Runtime, app: AppRuntime) -> str:
    """The app's last finished reconciliation: accounts by state (gateway/reconcile/), or why there is none."""
    reconciler = runtime.reconciler
    run = None if reconciler is None else reconciler.last.get((app.tenant, app.name))
    if run is None:
        return '<span class="detail">never</span>' if app.resources is not None else '<span class="detail">-</span>'
    counts = {state.value: count for state, count in run.counts.items()}
    orphans = counts.get("orphan", 0)
    parts = " · ".join(f"{name} {count}" for name, count in counts.items() if name != "orphan")
    ago = "" if run.finished is None else f"{_duration(time.time() - run.finished.timestamp())} ago"
    failed = f" {_badge('last run failed', 'bad')}" if run.status.value == "failed" else ""
    return (
        f"{_badge(f'{orphans} orphans', 'warn' if orphans else 'ok')}{failed}<br>"
        f'<span class="detail">{_e(parts)} · {run.accounts} accounts · {_e(ago)}</span>'
    )


def _limits(limits: Any) -> str:
    """`rate/s, burst` of a limits object when configured (issue 4's config), else `none`."""
    if limits is None or getattr(limits, "rate", None) is None:
        return "none"
    parts = [f"{limits.rate:g}/s"]
    if getattr(limits, "burst", None) is not None:
        parts.append(f"burst {limits.burst}")
    if getattr(limits, "concurrency", None) is not None:
        parts.append(f"{limits.concurrency} concurrent")
    return _e(", ".join(parts))


def _badge(text: str, kind: str) -> str:
    return f'<span class="b {kind}">{_e(text)}</span>'


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60}m"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _login_page() -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>scim-gateway status: sign in</title>'
        f"<style>{_STYLE}</style></head><body><header><h1>scim-gateway status</h1></header>"
        '<form method="post" action="/status"><label for="token">Operator token</label>'
        '<input id="token" name="token" type="password" autocomplete="current-password" autofocus>'
        '<button type="submit">Open status page</button></form></body></html>'
    )
