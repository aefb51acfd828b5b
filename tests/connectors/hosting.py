"""Loopback servers for the simulators, kept up for the whole test session.

Starting and stopping a uvicorn server costs about 0.2 s (its 0.1 s tick plus
its shutdown pause), which would dominate a suite that wants a fresh vendor
account per test. So each simulator name gets one server, started with
gateway.inbound.serving.start_server in a background thread with its own event loop,
and every test swaps a freshly built simulator app into it: fresh state, the
same real HTTP over loopback, and no cost per test beyond building the app.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from gateway.inbound.serving import RunningServer, start_server
from vendors.simulators.base import answer_lifespan

_START_TIMEOUT = 10.0


class Slot:
    """An ASGI app that forwards every HTTP request to whichever simulator is current."""

    def __init__(self) -> None:
        self.app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await answer_lifespan(receive, send)
            return
        app = self.app
        if app is None:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"no simulator in this slot"})
            return
        await app(scope, receive, send)


class SimulatorHost:
    """One loopback server per simulator name, served from a background thread's event loop."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="simulator-host", daemon=True)
        self._thread.start()
        self._servers: dict[str, tuple[RunningServer, Slot]] = {}
        self._lock = threading.Lock()

    def slot(self, name: str) -> tuple[str, Slot]:
        """The URL and slot of `name`'s server, started on first use."""
        with self._lock:
            if name not in self._servers:
                slot = Slot()
                future = asyncio.run_coroutine_threadsafe(start_server(slot), self._loop)
                self._servers[name] = (future.result(_START_TIMEOUT), slot)
            server, slot = self._servers[name]
            return server.url, slot

    def close(self) -> None:
        for server, _ in self._servers.values():
            asyncio.run_coroutine_threadsafe(server.stop(), self._loop).result(_START_TIMEOUT)
        self._servers.clear()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_START_TIMEOUT)
        self._loop.close()


_host: SimulatorHost | None = None


def host() -> SimulatorHost:
    global _host
    if _host is None:
        _host = SimulatorHost()
    return _host


def close_host() -> None:
    global _host
    if _host is not None:
        _host.close()
        _host = None
