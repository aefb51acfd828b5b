"""What every vendor simulator shares: mounting surfaces, a control API, a request log, fault injection.

A simulator is one ASGI app serving one vendor account. It mounts the
vendor's surfaces (SCIM, REST, token endpoint) at the vendor's own paths and
adds a control API under `/_sim/` that the tests, the demo and the
benchmarks use (a real vendor has no such thing):

- `GET /_sim/state`: the stored data, as the vendor holds it;
- `GET /_sim/requests` (`DELETE` clears): every request received, with the
  auth scheme used but never the credential;
- `POST /_sim/faults` (`DELETE` clears): inject failures ahead of the
  vendor's own behaviour, as JSON rules (see `FaultRule`);
- `POST /_sim/users`, `PATCH /_sim/users/{id}`, `DELETE /_sim/users/{id}`:
  the vendor's own admin console (vendors/simulators/console.py): an account created,
  changed or removed at the vendor without the gateway, in the vendor's own
  user representation; `?surface=NAME` picks one of a vendor's user stores
  (Orca and Delinea keep SCIM and REST users apart), the first by default.
- `POST /_sim/limit` (`DELETE` lifts it): a strict rate limit on the whole
  account (`{"rate": 40, "burst": 40, "retry_after": false}`): a request
  beyond it is answered 429, with or without Retry-After (`RateLimit`);
- `GET /_sim/calls`: requests answered so far, by method and status.
"""

from __future__ import annotations

import asyncio
import collections
import math
import time
import zlib
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from vendors.simulators.console import Console, act

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

REQUEST_LOG_SIZE = 50_000


class SimulatorSpec(Protocol):
    """How the demo and the tests run a vendor's simulator (see vendors/simulators/__init__.py)."""

    def demo_settings(self, seed: str) -> Any:
        """Settings for one demo account; `seed` (a tenant name) picks its data."""

    def create_app(self, settings: Any) -> Simulator:
        """A fresh simulator holding the seeded data."""

    def scim_base_path(self, settings: Any) -> str:
        """The path below the simulator's root that a gateway app's base_url points at."""

    def demo_credentials(self, settings: Any) -> dict[str, str]:
        """Credential name -> value, for the demo's environment (DEMO_<VENDOR>_<SEED>_<NAME>)."""


@dataclass
class FaultRule:
    """One injected failure: requests matching `method`/`path` (a prefix) get it `times` times (-1: always).

    `status` answers with that status (and `retry_after`, `body` when given);
    `latency` delays first (seconds); `reset` drops the connection mid-response.
    `size` answers `status` (200 unless given) with that many bytes of JSON
    whitespace, streamed with a Content-Length, or compressed on the fly and
    chunked when `encoding` is "gzip" (a gzip bomb: a few kB on the wire).
    `after`: the vendor handles the request first (the write happens), then the
    fault hits the answer: delayed by `latency`, lost to a `reset`, or replaced
    by `status` (a proxy's 502/504). That is the ambiguous failure a careful
    client must not answer by blindly resending a create.
    """

    status: int | None = None
    method: str | None = None
    path: str | None = None
    retry_after: str | None = None
    body: Any = None
    latency: float = 0.0
    reset: bool = False
    after: bool = False
    size: int = 0
    encoding: str | None = None
    times: int = 1

    def matches(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        return not self.path or path.startswith(self.path)


class RateLimit:
    """A token bucket per client: `rate` requests/s, `burst` at once; `rate` None disables it.

    What a vendor's throttle does to a client past its limit: refuse at once,
    never queue. `retry_after`: the 429 says when one request will be admitted
    again (whole seconds, rounded up, as RFC 9110 section 10.2.3 allows);
    without it the client must guess, as with Delinea.
    """

    def __init__(
        self, rate: float | None, burst: int, clock: Callable[[], float] = time.monotonic, retry_after: bool = False
    ) -> None:
        self.rate, self.burst, self.clock, self.retry_after = rate, burst, clock, retry_after
        self.buckets: dict[str, tuple[float, float]] = {}
        self.refused = 0

    def admit(self, client: str) -> bool:
        """Take one request from `client`'s bucket; False (and counted) when it is empty."""
        if self.rate is None:
            return True
        level = self._level(client)
        admitted = level >= 1.0
        self.buckets[client] = (level - 1.0 if admitted else level, self.clock())
        self.refused += not admitted
        return admitted

    def wait_seconds(self, client: str) -> int:
        """Whole seconds until `client` may send one request again (at least 1)."""
        if self.rate is None:
            return 1
        return max(1, math.ceil((1.0 - self._level(client)) / self.rate))

    def _level(self, client: str) -> float:
        assert self.rate is not None
        now = self.clock()
        level, since = self.buckets.get(client, (float(self.burst), now))
        return min(float(self.burst), level + (now - since) * self.rate)


def _rules(payload: Any) -> list[FaultRule]:
    items = payload.get("rules", [payload]) if isinstance(payload, dict) else payload
    if not isinstance(items, list):
        raise ValueError("expected a rule object, a list of rules, or {'rules': [...]}")
    return [FaultRule(**item) for item in items]


@dataclass
class Simulator:
    """A vendor account: surfaces mounted at path prefixes, plus the control API.

    `state` returns the vendor's data for `/_sim/state`; `consoles` are its admin consoles by user store
    (the first is the default of `/_sim/users`; none: the vendor has no user accounts).
    """

    vendor: str
    mounts: Sequence[tuple[str, ASGIApp]]
    state: Callable[[], Any] = dict
    consoles: dict[str, Console] = field(default_factory=dict)
    faults: list[FaultRule] = field(default_factory=list)
    requests: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=REQUEST_LOG_SIZE)
    )
    #: The account's rate limit (None: none beyond what a surface enforces itself, e.g. Delinea REST's).
    limit: RateLimit | None = None
    #: "METHOD status" -> requests answered, over the simulator's life (the log above keeps only the last ones).
    calls: collections.Counter[str] = field(default_factory=collections.Counter)

    def add_fault(self, rule: FaultRule) -> None:
        self.faults.append(rule)

    def _take_fault(self, method: str, path: str) -> FaultRule | None:
        for rule in self.faults:
            if rule.matches(method, path):
                if rule.times > 0:
                    rule.times -= 1
                    if rule.times == 0:
                        self.faults.remove(rule)
                return rule
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        if path.startswith("/_sim/"):
            await self._control(scope, receive, send)
            return
        entry = _log_entry(scope)
        self.requests.append(entry)
        send = _recording_status(send, entry, self.calls)
        if self.limit is not None and not self.limit.admit(""):
            wait = self.limit.wait_seconds("") if self.limit.retry_after else None
            headers = [] if wait is None else [(b"retry-after", str(wait).encode())]
            await send_json(send, 429, {"detail": "too many requests"}, headers)
            return
        fault = self._take_fault(scope["method"], path)
        if fault is not None and fault.after:
            await self._fault_after(fault, scope, receive, send)
            return
        if fault is not None and await _inject(fault, send, "before the vendor acted"):
            return
        await self._dispatch(scope, receive, send)

    async def _fault_after(self, fault: FaultRule, scope: Scope, receive: Receive, send: Send) -> None:
        """Let the vendor act, then delay, drop or replace its answer."""
        answer: list[Message] = []

        async def keep(message: Message) -> None:
            answer.append(message)

        await self._dispatch(scope, receive, keep)
        if await _inject(fault, send, "after the vendor acted"):
            return
        for message in answer:
            await send(message)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        for prefix, app in self.mounts:
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                await app({**scope, "root_path": prefix.rstrip("/")}, receive, send)
                return
        await send_json(send, 404, {"detail": f"no such endpoint on the {self.vendor} simulator"})

    async def _control(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/_sim/state" and method == "GET":
            await send_json(send, 200, self.state())
        elif path == "/_sim/requests" and method == "GET":
            await send_json(send, 200, list(self.requests))
        elif path == "/_sim/requests" and method == "DELETE":
            self.requests.clear()
            await send_json(send, 200, {"cleared": True})
        elif path == "/_sim/faults" and method == "POST":
            try:
                rules = _rules(orjson.loads(await read_body(receive)))
            except (ValueError, TypeError) as exc:
                await send_json(send, 400, {"detail": f"bad fault rule: {exc}"})
                return
            self.faults.extend(rules)
            await send_json(send, 200, {"faults": len(self.faults)})
        elif path == "/_sim/faults" and method == "DELETE":
            self.faults.clear()
            await send_json(send, 200, {"faults": 0})
        elif path == "/_sim/users" or path.startswith("/_sim/users/"):
            await self._console(scope, receive, send)
        elif path == "/_sim/limit" and method == "POST":
            await self._set_limit(receive, send)
        elif path == "/_sim/limit" and method == "DELETE":
            self.limit = None
            await send_json(send, 200, {"limit": None})
        elif path == "/_sim/calls" and method == "GET":
            refused = self.limit.refused if self.limit is not None else 0
            await send_json(send, 200, {"calls": dict(self.calls), "rate_limited": refused})
        else:
            await send_json(send, 404, {"detail": "unknown control endpoint"})

    async def _console(self, scope: Scope, receive: Receive, send: Send) -> None:
        """`/_sim/users[/{id}]`: the chosen console creates (POST), changes (PATCH) or removes (DELETE) a user."""
        body = await read_body(receive) if scope["method"] in ("POST", "PATCH") else b""
        status, answer = act(self.vendor, self.consoles, scope["method"], scope["path"], scope["query_string"], body)
        await send_json(send, status, answer)

    async def _set_limit(self, receive: Receive, send: Send) -> None:
        try:
            options = orjson.loads(await read_body(receive))
            rate, burst = float(options["rate"]), int(options.get("burst") or math.ceil(float(options["rate"])))
            if rate <= 0 or burst < 1:
                raise ValueError("rate and burst must be positive")
        except (ValueError, TypeError, KeyError) as exc:
            await send_json(send, 400, {"detail": f"bad limit: {exc}"})
            return
        self.limit = RateLimit(rate, burst, retry_after=bool(options.get("retry_after", False)))
        await send_json(send, 200, {"limit": {"rate": rate, "burst": burst, "retry_after": self.limit.retry_after}})


def _log_entry(scope: Scope) -> dict[str, Any]:
    headers = {name.decode().lower(): value.decode() for name, value in scope["headers"]}
    scheme = headers.get("authorization", "").partition(" ")[0] or None
    if scheme is None and "dtapi-token" in headers:
        scheme = "DTAPI-HMAC"
    return {
        "method": scope["method"],
        "path": scope["path"],
        "query": scope["query_string"].decode(),
        "auth_scheme": scheme,
        "content_type": headers.get("content-type"),
        "status": None,
    }


def _recording_status(send: Send, entry: dict[str, Any], calls: collections.Counter[str]) -> Send:
    async def recording(message: Message) -> None:
        if message["type"] == "http.response.start":
            entry["status"] = message["status"]
            calls[f"{entry['method']} {message['status']}"] += 1
        await send(message)

    return recording


async def _inject(fault: FaultRule, send: Send, when: str) -> bool:
    """Delay, then drop the connection or answer as the rule says; True when the rule answered."""
    if fault.latency:
        await asyncio.sleep(fault.latency)
    if fault.reset:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise ConnectionResetError(f"fault injected: connection reset {when}")
    if fault.size:
        await _send_padding(send, fault)
        return True
    if fault.status is not None:
        await _send_fault(send, fault)
        return True
    return False


async def _send_fault(send: Send, fault: FaultRule) -> None:
    headers = [] if fault.retry_after is None else [(b"retry-after", str(fault.retry_after).encode())]
    body = fault.body if fault.body is not None else {"detail": f"fault injected: HTTP {fault.status}"}
    await send_json(send, fault.status or 500, body, headers)


async def _send_padding(send: Send, fault: FaultRule) -> None:
    """`fault.size` bytes of whitespace in 64 KiB pieces, never held whole (gzip-compressed on the fly)."""
    head = [(b"content-type", b"application/json")]
    packer = None
    if fault.encoding == "gzip":  # sent chunked: its compressed length is known only at the end
        head.append((b"content-encoding", b"gzip"))
        packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    else:
        head.append((b"content-length", str(fault.size).encode()))
    await send({"type": "http.response.start", "status": fault.status or 200, "headers": head})
    piece = b" " * 65536
    for sent in range(0, fault.size, len(piece)):
        data = piece[: fault.size - sent]
        data = packer.compress(data) if packer is not None else data
        if data:
            await send({"type": "http.response.body", "body": data, "more_body": True})
        else:  # deflate holds back most of a repetitive input: yield anyway, other tasks share the loop
            await asyncio.sleep(0)
    await send({"type": "http.response.body", "body": packer.flush() if packer is not None else b""})


async def answer_lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge an ASGI lifespan: simulators have nothing to start or stop."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def read_body(receive: Receive) -> bytes:
    """The whole request body (simulators trust their callers: the gateway and the tests)."""
    chunks = []
    more = True
    while more:
        message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def send_json(
    send: Send,
    status: int,
    body: Any,
    headers: list[tuple[bytes, bytes]] | None = None,
    content_type: bytes = b"application/json",
) -> None:
    """Send `body` as JSON (None: no body, e.g. for 204)."""
    payload = b"" if body is None else orjson.dumps(body)
    head = [(b"content-type", content_type), (b"content-length", str(len(payload)).encode())]
    if body is None:
        head = [(b"content-length", b"0")]
    await send({"type": "http.response.start", "status": status, "headers": head + (headers or [])})
    await send({"type": "http.response.body", "body": payload})


def bearer_token(scope: Scope) -> tuple[str, str]:
    """(scheme, credential) from the Authorization header; empty strings when absent."""
    for name, value in scope["headers"]:
        if name.lower() == b"authorization":
            scheme, _, credential = value.decode().partition(" ")
            return scheme, credential.strip()
    return "", ""
