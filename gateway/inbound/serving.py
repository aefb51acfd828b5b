"""Run ASGI apps on loopback ports inside the current event loop.

Used by the demo (gateway plus every simulator in one process), by
`scim-gateway simulate`, and by tests that need real HTTP over loopback.
The server binds its own socket first, so a port of 0 gives a free port and
the caller learns it before the first request.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import uvicorn

from gateway.inbound.connections import ConnectionLimits, bounded_protocol

if TYPE_CHECKING:
    from gateway.config import GatewayConfig


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

    # uvicorn annotates it as a generator-based context manager; any context manager does.
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


#: Idle keep-alive connections are kept this long (seconds) by default (config `server.keep_alive` says why).
KEEP_ALIVE_SECONDS = 75


def uvicorn_config(
    app: Any,
    limits: ConnectionLimits | None = None,
    drain_timeout: float = 10.0,
    **overrides: Any,
) -> uvicorn.Config:
    """The production server settings: stock uvicorn (httptools) with bounded client connections.

    `drain_timeout`: how long a graceful shutdown waits for requests in flight before cancelling them.
    No access log (the audit replaces it). X-Forwarded-For/-Proto are applied by uvicorn's own proxy-headers
    middleware for peers in FORWARDED_ALLOW_IPS (default 127.0.0.1).
    """
    settings: dict[str, Any] = {
        "http": bounded_protocol(limits or ConnectionLimits()),
        "proxy_headers": True,
        "loop": "none",
        "lifespan": "on",
        "access_log": False,
        "log_level": "warning",
        "server_header": False,
        "timeout_graceful_shutdown": drain_timeout,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
    }
    settings.update(overrides)
    return uvicorn.Config(app, **settings)


def gateway_options(config: GatewayConfig) -> dict[str, Any]:
    """The `uvicorn_config` arguments that a gateway config's `server` section sets."""
    server = config.server
    return {
        "limits": ConnectionLimits(server.head_timeout, server.body_timeout, server.max_connections),
        "drain_timeout": config.drain_seconds(),
        "timeout_keep_alive": server.keep_alive,
    }


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


def raise_open_files_limit() -> None:
    """Raise this process's open-files limit (RLIMIT_NOFILE) to its hard limit: each client connection is a file."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Linux refuses a limit above fs.nr_open (default 2**20), an "unlimited" hard limit included.
    target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
