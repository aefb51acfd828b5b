"""The one wrapping layer around aiohttp through which every vendor call goes.

Per call, in this order: the vendor's 429 pause, the circuit breaker (fail
fast while open), the app's outbound rate budget and concurrency permit
(bounded by the caller's CallBudget deadline), signing with the app's VendorAuth, the exchange under
the app's pool and timeouts, one resend after a 401 when the auth can refresh, then
retries with full-jitter backoff on 429/502/503/504 and transport failures,
honouring Retry-After, until `retry.attempts` or the request deadline runs
out (then 503 with Retry-After, or 429 when the vendor was throttling).

A vendor's 429 pauses the app (gateway/outbound/pause.py): until its
Retry-After ends no call is sent; one whose deadline ends first gets 429.

A POST is never resent after an *ambiguous* failure, one after which the
vendor may have acted (gateway/outbound/retry.py `may_have_acted`: any
5xx but 501, a timeout or reset after sending): AmbiguousWrite is raised
instead, after the wait a retry would have had, so the caller looks the
resource up first (gateway/create.py). GET, PUT, DELETE and
PATCH are resent: they are idempotent in SCIM (a PATCH `add` of a value
already held changes nothing, RFC 7644 section 3.5.2.1), and a DELETE
answered 404 after an unanswered attempt counts as done. Redirects are never followed and absolute
links (pagination) must stay on the vendor's configured origin. Statuses
map to the connector error vocabulary in gateway/outbound/statuses.py; each
exchange's status is appended to the caller's CallBudget (for the audit record).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
import orjson
from multidict import CIMultiDict, CIMultiDictProxy

from gateway.outbound.auth import Signed, VendorAuth
from gateway.outbound.body import ResponseTooLarge, read_capped
from gateway.outbound.budget import CallBudget
from gateway.outbound.dry_run import record_write
from gateway.outbound.errors import ConnectorError, VendorBadResponse, VendorThrottled, VendorUnavailable
from gateway.outbound.guard import UpstreamGuard, default_guard
from gateway.outbound.retry import RETRYABLE_STATUSES, may_have_acted, parse_retry_after, retry_delay
from gateway.outbound.statuses import error_for

#: The largest vendor answer read by default (decompressed), as `http.max_response_bytes`.
DEFAULT_MAX_BODY = 8 * 1024 * 1024
_ACCEPT = {"Accept": "application/scim+json, application/json"}
#: Content-Type only on requests with a body (a GET's would describe nothing).
_JSON_HEADERS = {"Content-Type": "application/scim+json", **_ACCEPT}


class AmbiguousWrite(VendorUnavailable):
    """A POST failed after it may have reached the vendor; resending blindly could create twice.

    `error` is the failure itself: what the caller gets when a lookup finds nothing. `resend`: a resend
    may succeed and the wait before it is already over (False after a 500, or when retries or the
    deadline are used up).
    """

    def __init__(self, error: ConnectorError, *, resend: bool) -> None:
        retry_after = getattr(error, "retry_after", None)
        super().__init__(f"{error.detail} after the request may have reached it", retry_after=retry_after)
        self.error, self.resend = error, resend


class _TransportFailure(Exception):
    """No HTTP answer. `sent`: the request may have reached the vendor (not a refused connect)."""

    def __init__(self, reason: str, sent: bool, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.sent, self.detail = reason, sent, detail


class UpstreamResponse(NamedTuple):
    status: int
    headers: CIMultiDictProxy[str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; raises VendorBadResponse if it is not JSON."""
        try:
            return orjson.loads(self.body)
        except orjson.JSONDecodeError:
            raise VendorBadResponse("the vendor answered with a body that is not JSON") from None


class UpstreamClient:
    """Requests to one app's vendor, relative to `base_url`, signed by `auth`, guarded by `guard`.

    `resend_posts` marks a client whose POSTs have no side effect worth
    guarding (an OAuth token endpoint), so they are retried like GETs.
    `attempt_timeout` bounds one exchange, from asking for a pooled connection
    to the last byte of the answer (the app's `read_timeout`), within the
    request deadline: one timeout around the whole exchange, not aiohttp's
    `sock_read`, which restarts with every chunk so that a vendor dripping
    bytes slowly could hold a call open past it. `max_body` caps an answer's decompressed size
    (ResponseTooLarge, 502, past it; `on_oversized` counts each). `secrets`:
    the app's credential values, kept out of error details. `record_writes`
    (a dry-run app's write connector): every request but a GET is recorded in
    the caller's budget and answered as the vendor most likely would, never
    sent (gateway/outbound/dry_run.py).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        auth: VendorAuth,
        app: str,
        observe: Callable[[str, int, float], None] | None = None,
        guard: UpstreamGuard | None = None,
        resend_posts: bool = False,
        attempt_timeout: float | None = None,
        max_body: int = DEFAULT_MAX_BODY,
        on_oversized: Callable[[], None] | None = None,
        secrets: tuple[str, ...] = (),
        record_writes: bool = False,
    ) -> None:
        self.session = session
        self.record_writes = record_writes
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.app = app
        self.observe = observe
        self.guard = guard or default_guard(app)
        self.resend_posts = resend_posts
        self.attempt_timeout = attempt_timeout
        self.max_body = max_body
        self.on_oversized = on_oversized
        self.secrets = secrets
        self._origin = _origin(self.base_url)
        # Static credentials sign every request alike: the signed headers are built once (never changed
        # afterwards: aiohttp copies the headers it is given into its own).
        fixed = auth.fixed_headers()
        self._signed_bodiless = None if fixed is None else {**_ACCEPT, **fixed}
        self._signed_json = None if fixed is None else {**_JSON_HEADERS, **fixed}

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 201, 204),
        scope: str | None = None,
        budget: CallBudget,
    ) -> UpstreamResponse:
        """Send (with retries) and return the response if its status is in `ok`; otherwise raise a ConnectorError.

        `path` is relative to the base URL, or an absolute URL on the vendor's
        own origin (else VendorBadResponse). `scope` is passed to the app's
        auth: the least privilege this request needs. `budget` bounds every
        wait and retry by its deadline and collects each exchange's status. Raises AmbiguousWrite
        for a POST that may have reached the vendor, CircuitOpen while the
        app's circuit is open, VendorThrottled (429 with retry_after) when
        the vendor's 429 pause outlasts the deadline, VendorUnavailable (503) or
        VendorThrottled with retry_after when retries or the deadline run out.
        """
        if self.record_writes and method != "GET":
            return UpstreamResponse(
                *record_write(budget, method, path, params, json if json is not None else data, self.secrets)
            )
        url = self._url(path)
        if params:
            # The query is part of what some vendors sign (Darktrace), so it is fixed before signing.
            url = f"{url}?{urlencode(params, quote_via=quote)}"
        body = orjson.dumps(json) if json is not None else data
        guard, clock = self.guard, self.guard.clock
        deadline = budget.deadline
        guarded = method != "POST" or self.resend_posts
        ambiguous_before = False
        attempt = 0
        while True:
            attempt += 1
            while guard.pause.until > clock.now():  # before the breaker: a held call claims no probe
                await guard.wait_out_pause(self.app, deadline)
            if guard.nested:
                guard.breaker.check()
            else:
                guard.breaker.before_call()
            status: int | None = None
            retry_after: float | None = None
            try:
                response, signed = await self._exchange(method, url, body, headers, scope, budget)
                if response.status == 401 and self.auth.invalidate(signed):  # a token the auth can renew: once more
                    response, _ = await self._exchange(method, url, body, headers, scope, budget)
            except _TransportFailure as failure:
                guard.breaker.record_failure()
                reason, ambiguous = failure.reason, failure.sent
                error: ConnectorError = VendorUnavailable(f"app {self.app!r}: {failure.detail}")
            else:
                status = response.status
                if status not in RETRYABLE_STATUSES:
                    if status >= 500:
                        guard.breaker.record_failure()
                    else:
                        guard.breaker.record_success()
                    if status == 404 and method == "DELETE" and ambiguous_before:
                        return _gone()  # an earlier, unanswered DELETE did the job
                    if status not in ok:
                        final = self.error_for(response)
                        if not guarded and may_have_acted(status):  # e.g. a 500 after the vendor stored it
                            raise AmbiguousWrite(final, resend=False)
                        raise final
                    return response
                if status == 429:
                    guard.breaker.record_success()  # alive and throttling: not a circuit failure
                else:
                    guard.breaker.record_failure()
                retry_after = parse_retry_after(response.headers.get("Retry-After"), clock.wall())
                if status == 429 and retry_after is not None:
                    guard.pause.extend(clock.now(), retry_after)
                reason, ambiguous = str(status), may_have_acted(status)
                error = self.error_for(response)
            ambiguous_before = ambiguous_before or ambiguous
            delay = retry_delay(guard.retry, attempt, clock, status, retry_after)
            if attempt >= guard.retry.attempts or clock.now() + delay >= deadline:
                final = self._exhausted(error, status, retry_after)
                raise AmbiguousWrite(final, resend=False) if ambiguous and not guarded else final
            if ambiguous and not guarded:
                await clock.sleep(delay)  # the lookup, and any resend after it, come after the vendor's wait
                raise AmbiguousWrite(error, resend=True)
            if guard.on_retry is not None:
                guard.on_retry(reason)
            await clock.sleep(delay)

    async def _exchange(
        self, method: str, url: str, body: Any, extra: dict[str, str] | None, scope: str | None, budget: CallBudget
    ) -> tuple[UpstreamResponse, Signed]:
        """One signed exchange inside the vendor budget (a rate slot and a concurrency permit).

        Returns the answer and what the request was signed with (for `VendorAuth.invalidate` after a 401).
        """
        deadline = budget.deadline
        guard = self.guard
        limiter = guard.limiter
        held = False
        if limiter is not None:
            await limiter.wait_for_slot(deadline)
            held = not guard.nested and await limiter.acquire_permit(deadline)
        try:
            fixed = self._signed_bodiless if body is None else self._signed_json
            signed: Signed = None
            if fixed is not None and extra is None:
                headers = fixed
            else:
                headers = {**(_ACCEPT if body is None else _JSON_HEADERS), **(extra or {})}
                # Signing may fetch a token (its own guarded call); its errors are final here, not retried twice.
                signed = await self.auth.sign(method, url, headers, scope)
            return await self._send(method, url, body, headers, budget), signed
        finally:
            if held and limiter is not None:
                limiter.release_permit()

    async def _send(
        self, method: str, url: str, body: Any, headers: dict[str, str], budget: CallBudget
    ) -> UpstreamResponse:
        started = time.perf_counter()
        left = budget.deadline - self.guard.clock.now()
        if self.attempt_timeout is not None and self.attempt_timeout < left:
            left = self.attempt_timeout
        try:
            async with asyncio.timeout(max(0.001, left)):
                async with self.session.request(method, url, data=body, headers=headers, allow_redirects=False) as raw:
                    try:
                        payload = await read_capped(raw, self.max_body, self.app)
                    except ResponseTooLarge:
                        self._record(method, raw.status, started, budget)
                        if self.on_oversized is not None:
                            self.on_oversized()
                        raise
                    response = UpstreamResponse(raw.status, raw.headers, payload)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            self._record(method, 0, started, budget)
            raise _TransportFailure("connection", False, f"cannot reach the vendor ({type(exc).__name__})") from None
        except TimeoutError:
            self._record(method, 0, started, budget)
            raise _TransportFailure("timeout", True, "the vendor did not answer in time") from None
        except aiohttp.ClientError as exc:
            self._record(method, 0, started, budget)
            raise _TransportFailure("connection", True, f"the connection failed ({type(exc).__name__})") from None
        self._record(method, response.status, started, budget)
        return response

    def new_budget(self) -> CallBudget:
        """A budget of the app's own request deadline from now, for calls no inbound request makes.

        Health checks and OAuth token refreshes use it; an inbound request's calls use the orchestrator's.
        """
        return CallBudget.starting_now(self.guard.clock, self.guard.retry.deadline)

    def _url(self, path: str) -> str:
        """The absolute URL for `path`; an absolute link must stay on the vendor's configured origin."""
        if "://" not in path and not path.startswith("//"):
            return self.base_url + path
        if _origin(path) != self._origin:
            raise VendorBadResponse(f"app {self.app!r}: refused a link that leaves the vendor's configured host")
        return path

    def _exhausted(self, error: ConnectorError, status: int | None, retry_after: float | None) -> VendorUnavailable:
        """What the caller gets when retries or the deadline run out: 503, or 429 if throttled, with Retry-After.

        A vendor still throttling pauses the app's calls for the time the caller is told (Retry-After,
        or `default_retry_after` when the vendor named none).
        """
        wait = retry_after if retry_after is not None else self.guard.retry.default_retry_after
        detail = error.detail
        if status == 429:
            self.guard.pause.extend(self.guard.clock.now(), wait)
            return VendorThrottled(f"{detail}; gave up within the request deadline", retry_after=wait)
        return VendorUnavailable(f"{detail}; gave up within the request deadline", retry_after=wait)

    def _record(self, method: str, status: int, started: float, budget: CallBudget) -> None:
        budget.statuses.append(status)
        if self.observe is not None:
            self.observe(method, status, time.perf_counter() - started)

    def error_for(self, response: UpstreamResponse) -> ConnectorError:
        """Map a vendor status to the connector error vocabulary (gateway/outbound/errors.py)."""
        wall = self.guard.clock.wall()
        return error_for(response.status, response.headers, response.body, self.app, wall, self.secrets)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or {"https": 443, "http": 80}.get(scheme)
    except ValueError:
        port = -1
    return scheme, (parts.hostname or "").lower(), port


def _gone() -> UpstreamResponse:
    return UpstreamResponse(204, CIMultiDictProxy(CIMultiDict()), b"")
