"""Run ASGI apps on loopback ports inside the current event loop.

Used by the demo (gateway plus every simulator in one process), by
`scim-gateway simulate`, and by tests that need real HTTP over loopback.
The server binds its own socket first, so a port of 0 gives a free port and
the caller learns it before the first request.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import uvicorn

from gateway.http_protocol import ScimHttpToolsProtocol


@dataclass
class RunningServer:
    """An ASGI app being served; `url` is its root, e.g. http://127.0.0.1:4321."""

    server: uvicorn.Server
    task: asyncio.Task[None]
    port: int
    host: str

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        """Stop accepting, let in-flight requests finish, then return."""
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves signals to whoever owns the process (the CLI)."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()


def bind_socket(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """Bind a listening TCP socket; port 0 picks a free port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this: without it a response written as head then body
    # waits out the client's delayed ACK (~40 ms) under Nagle's algorithm.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


#: Idle keep-alive connections are kept this long (seconds): longer than the idle timeout of the load
#: balancers and ingress proxies in front of the gateway (AWS ALB and nginx: 60 s), so that the proxy, not
#: the gateway, closes an idle connection. The other way round a proxy can send a request on a connection the
#: gateway is closing at that moment, and answer its caller 502. uvicorn's own default is 5 s.
KEEP_ALIVE_SECONDS = 75


def uvicorn_config(app: Any, **overrides: Any) -> uvicorn.Config:
    """The production server settings: httptools parser (SCIM 400s), no access log (audit replaces it)."""
    settings: dict[str, Any] = {
        # httptools, answering requests it cannot parse (smuggling shapes) with a SCIM 400.
        "http": ScimHttpToolsProtocol,
        # The protocol applies X-Forwarded-* from trusted peers itself (same rules, trust decided per connection).
        "proxy_headers": False,
        "loop": "none",
        "lifespan": "on",
        "access_log": False,
        "log_level": "warning",
        "server_header": False,
        "timeout_graceful_shutdown": 10,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }
    settings.update(overrides)
    return uvicorn.Config(app, **settings)


async def start_server(app: Any, host: str = "127.0.0.1", port: int = 0, **config: Any) -> RunningServer:
    """Serve `app` in the running loop and return once it accepts connections.

    Raises RuntimeError if the app's lifespan startup fails.
    """
    sock = bind_socket(host, port)
    server = EmbeddedServer(uvicorn_config(app, **config))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start-up")
        await asyncio.sleep(0.005)
    return RunningServer(server=server, task=task, port=sock.getsockname()[1], host=host)


@contextlib.asynccontextmanager
async def serving(app: Any, host: str = "127.0.0.1", port: int = 0, **config: Any) -> AsyncIterator[RunningServer]:
    """Context manager form of `start_server`; stops the server on exit."""
    running = await start_server(app, host, port, **config)
    try:
        yield running
    finally:
        await running.stop()
