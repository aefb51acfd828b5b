"""The `scim-gateway` command as a new user meets it, run as a real subprocess."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml

from gateway.cli import build_parser
from gateway.inbound.auth import hash_token
from tests.processes import SCIM_GATEWAY, free_port, gateway_process
from vendors.simulators import SIMULATORS

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = (
    "serve", "check-config", "hash-token", "db", "reconcile", "work", "simulate", "demo", "people", "review", "guard",
    "dry-run",
)  # fmt: skip


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCIM_GATEWAY), *args], capture_output=True, text=True, timeout=60, env=env, cwd=ROOT, check=False
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip().startswith("scim-gateway ") and result.stdout.strip()[13:14].isdigit()


def test_every_option_of_every_command_has_help_text() -> None:
    commands = _subcommands(build_parser())
    assert set(commands) == set(COMMANDS)
    for name, command in _walk(commands):
        for action in command._actions:
            assert action.help, f"scim-gateway {name}: {action.option_strings or action.dest} has no help text"
        result = run(*name.split(), "--help")
        assert result.returncode == 0 and result.stdout.startswith(f"usage: scim-gateway {name}")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found = [action for action in parser._actions if isinstance(action, argparse._SubParsersAction)]
    return dict(found[0].choices) if found else {}


def _walk(commands: dict[str, argparse.ArgumentParser]) -> list[tuple[str, argparse.ArgumentParser]]:
    """Every command and nested subcommand (`db upgrade`), named as typed."""
    walked = []
    for name, command in commands.items():
        walked.append((name, command))
        walked += [(f"{name} {sub}", parser) for sub, parser in _walk(_subcommands(command))]
    return walked


def test_simulate_help_lists_the_vendors() -> None:
    result = run("simulate", "--help")
    for vendor in SIMULATORS:
        assert vendor in result.stdout
    unknown = run("simulate", "nope")
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr and "invicti" in unknown.stderr


def test_check_config_validates_the_demo_config() -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DEMO_")}
    plain = run("check-config", "config/demo.yaml", env=env)
    assert plain.returncode == 1
    assert "environment variable DEMO_" in plain.stderr and "check-config --demo" in plain.stderr
    for args in (("--demo",), ("config/demo.yaml", "--demo")):
        result = run("check-config", *args, env=env)
        assert (result.returncode, result.stdout) == (0, "ok: 2 tenants, 10 apps\n"), result.stderr


def test_check_config_example_names_a_variable_it_uses() -> None:
    """The error the README shows is what check-config prints for config/example.yaml with nothing set."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ACME_")}
    result = run("check-config", "config/example.yaml", env=env)
    readme = (ROOT / "README.md").read_text()
    assert result.returncode == 1
    (line,) = result.stderr.splitlines()
    assert line in readme, line


@pytest.mark.parametrize(
    ("app", "line"),
    [
        (
            {"vendor": "orca-scim", "region": "mars", "credentials": {"token": "env:HOME"}},
            "config error: tenants.acme.apps.orca.base_url: set base_url, or region to one of: eu, us",
        ),
        ({"vendor": "nope"}, "config error: tenants.acme.apps.orca.vendor: unknown vendor 'nope'; expected one of: "),
    ],
)
def test_check_config_refuses_bad_vendor_settings(tmp_path: Path, app: dict[str, object], line: str) -> None:
    token = {"name": "t", "sha256": hash_token("t")}
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump({"tenants": {"acme": {"tokens": [token], "apps": {"orca": app}}}}))
    result = run("check-config", str(path))
    assert (result.returncode, result.stdout) == (1, "")
    (printed,) = result.stderr.splitlines()
    assert printed.startswith(line)


def _taken_port() -> tuple[socket.socket, int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock, sock.getsockname()[1]


def _config(tmp_path: Path, **observability: object) -> Path:
    token = {"name": "t", "sha256": hash_token("t")}
    config = {"tenants": {"acme": {"tokens": [token], "apps": {}}}, "observability": observability}
    path = tmp_path / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_serve_on_a_busy_port_prints_one_line_naming_it(tmp_path: Path) -> None:
    sock, port = _taken_port()
    with sock:
        config = _config(tmp_path, metrics_port=0)
        result = run("serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(port))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"scim-gateway: port {port} on 127.0.0.1 is already in use; choose another with --port"
    ]


def test_serve_on_a_busy_metrics_port_names_the_config_key(tmp_path: Path) -> None:
    sock, port = _taken_port()
    with sock:
        config = _config(tmp_path, metrics_port=port, metrics_host="127.0.0.1")
        result = run("serve", "--config", str(config), "--host", "127.0.0.1", "--port", str(free_port()))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"scim-gateway: port {port} on 127.0.0.1 is already in use; choose another with observability.metrics_port"
    ]


@pytest.mark.parametrize("option", ["--port", "--metrics-port"])
def test_demo_on_a_busy_port_prints_one_line_naming_it(option: str) -> None:
    sock, port = _taken_port()
    other = "--metrics-port" if option == "--port" else "--port"
    with sock:
        result = run("demo", option, str(port), other, str(free_port()))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"scim-gateway: port {port} on 127.0.0.1 is already in use; choose another with {option}"
    ]


async def test_serve_starts_and_serves_metrics_on_their_own_port(tmp_path: Path) -> None:
    metrics_port = free_port()
    config = _config(tmp_path, metrics_port=metrics_port, metrics_host="127.0.0.1")
    async with gateway_process(config) as gateway, httpx.AsyncClient() as client:
        assert (await client.get(gateway.url + "/metrics")).status_code == 404
        metrics = await client.get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert metrics.status_code == 200 and "scim_gateway_build_info" in metrics.text
