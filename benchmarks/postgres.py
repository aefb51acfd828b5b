"""A real PostgreSQL server for tests and benchmarks: a temp dir, a free loopback port, password auth,
torn down afterwards.

PostgreSQL refuses to run as root, so when run as root the cluster belongs
to the `postgres` user and every server command goes through `runuser -u
postgres`. A missing installation raises PostgresUnavailable saying how to
get it (scripts/setup installs the Debian package postgresql): a test that
needs it fails, it never skips.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from benchmarks.processes import free_port

SERVER_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL is not installed, or initdb / pg_ctl failed."""


@dataclass
class PostgresServer:
    port: int
    password: str

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres:{self.password}@127.0.0.1:{self.port}/{database}"

    @contextlib.asynccontextmanager
    async def database(self) -> AsyncIterator[str]:
        """A new, empty database for one test (dropped afterwards); yields its SQLAlchemy URL."""
        name = f"test_{secrets.token_hex(6)}"
        admin = await asyncpg.connect(
            host="127.0.0.1", port=self.port, user="postgres", password=self.password, database="postgres"
        )
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
            yield self.url(name)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def _bin_dir() -> Path:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda path: int(path.parts[-3]))
    if not versions:
        raise PostgresUnavailable("PostgreSQL is not installed; run scripts/setup (Debian package postgresql)")
    return versions[-1].parent


def _as_server_user(args: list[str]) -> list[str]:
    return ["runuser", "-u", SERVER_USER, "--", *args] if os.geteuid() == 0 else args


@contextlib.contextmanager
def postgres_server(*, durable: bool = False) -> Iterator[PostgresServer]:
    """initdb + pg_ctl start on a free port; fsync off unless `durable` (test data need not survive a
    power cut; a benchmark of writes wants the commit a production server makes).

    Raises PostgresUnavailable when PostgreSQL is missing or will not start.
    """
    bin_dir = _bin_dir()
    base = Path(tempfile.mkdtemp(prefix="scim-gateway-pg-"))
    data = base / "data"
    password = secrets.token_urlsafe(16)
    (base / "password").write_text(password)
    if os.geteuid() == 0:
        shutil.chown(base, SERVER_USER)
        shutil.chown(base / "password", SERVER_USER)
    port = free_port()
    started = False
    try:
        _run([str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={base / 'password'}",
              "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--no-sync"])  # fmt: skip
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c shared_buffers=16MB -c max_connections=60"
        if not durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"), "-w", "start"]
        _run(start)
        started = True
        yield PostgresServer(port, password)
    finally:
        if started:
            _run([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], check=False)
        shutil.rmtree(base, ignore_errors=True)


def _run(args: list[str], *, check: bool = True) -> None:
    result = subprocess.run(_as_server_user(args), capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        detail = result.stderr.strip()[-2000:]
        raise PostgresUnavailable(f"{Path(args[0]).name} failed ({result.returncode}): {detail}")
