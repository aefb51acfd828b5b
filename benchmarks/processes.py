"""Start, pin, watch and stop the benchmark's server processes; find free loopback ports; read CPU time.

Every server is its own process, started through `taskset` when the machine
has cores to spare, so the proxy under test never shares a core with the
load generator or the upstream. CPU time comes from /proc (utime + stime of
the whole process, every thread included), which is what a request costs
the proxy, whatever the wall clock says.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CorePlan:
    """Which core each role runs on; None means unpinned (one core, or no taskset)."""

    load: int | None
    upstream: int | None
    proxy: int | None

    def describe(self) -> str:
        if self.proxy is None:
            return "unpinned (fewer than 2 usable cores or no taskset): numbers are indicative only"
        return (
            f"load generator on core {self.load}, upstream on core {self.upstream}, "
            f"proxy under test (gateway or baseline) on core {self.proxy}"
        )


def plan_cores() -> CorePlan:
    """Give the proxy under test a core of its own; share the rest between load generator and upstream."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2 or shutil.which("taskset") is None:
        return CorePlan(None, None, None)
    if len(cores) == 2:
        return CorePlan(load=cores[0], upstream=cores[0], proxy=cores[1])
    return CorePlan(load=cores[0], upstream=cores[2], proxy=cores[1])


def pinned(command: list[str], core: int | None) -> list[str]:
    """`command` run on `core` through taskset (which execs it, so the pid stays the command's)."""
    return command if core is None else ["taskset", "-c", str(core), *command]


def require_loopback(host: str) -> str:
    """Return `host` if it is a loopback address; raises ValueError otherwise (the benchmark never leaves lo)."""
    if not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"{host} is not a loopback address")
    return host


def free_port() -> int:
    """A TCP port free on loopback right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A running server process on loopback."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far, all threads included."""
        return cpu_seconds(self.pid)

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` from /proc/<pid>/stat (fields 14 and 15), in seconds."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND


def thread_cpu_seconds(pid: int) -> dict[int, tuple[str, float]]:
    """Per thread of `pid`: (name, utime + stime seconds), from /proc/<pid>/task/<tid>/stat."""
    found: dict[int, tuple[str, float]] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            stat = (task / "stat").read_text()
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat.rpartition(")")[2].split()
            found[int(task.name)] = (name, (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND)
    return found


def core_times() -> dict[int, tuple[int, int]]:
    """(busy, total) jiffies per core from /proc/stat, to tell how loaded each core was during a run."""
    times: dict[int, tuple[int, int]] = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu":
            numbers = [int(value) for value in values[:8]]
            idle = numbers[3] + numbers[4]
            times[int(name[3:])] = (sum(numbers) - idle, sum(numbers))
    return times


def busy_percent(before: dict[int, tuple[int, int]], after: dict[int, tuple[int, int]]) -> dict[int, float]:
    """Per-core busy share between two `core_times` samples, in percent."""
    result: dict[int, float] = {}
    for core, (busy, total) in after.items():
        old_busy, old_total = before.get(core, (0, 0))
        elapsed = total - old_total
        result[core] = round(100.0 * (busy - old_busy) / elapsed, 1) if elapsed > 0 else 0.0
    return result


def start_server(
    name: str,
    command: list[str],
    port: int,
    *,
    log_dir: Path,
    ready_path: str,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Server:
    """Start `command` and return once GET `ready_path` answers 200; raises RuntimeError if it never does."""
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # the gateway's audit trail goes to stdout, as in production
            stderr=log,
        )
    server = Server(name, process, port, log_path)
    try:
        _wait_ready(server, ready_path, timeout)
    except BaseException:
        stop_server(server)
        raise
    return server


def _wait_ready(server: Server, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}:\n{server.log_tail()}")
        with (
            contextlib.suppress(OSError, urllib.error.URLError),
            urllib.request.urlopen(server.url + path, timeout=1.0) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.05)
    raise RuntimeError(f"{server.name} did not answer on {server.url}{path} within {timeout:.0f}s")


def stop_server(server: Server, grace: float = 10.0) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL. Idempotent."""
    process = server.process
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
