"""The Dockerfile, checked without Docker: every path, command, route, user and pin it names is real.

Docker cannot run on our machines, so each test reads the Dockerfile (and .dockerignore,
requirements.lock, pyproject.toml) and checks one promise against the repository and the package.
"""

from __future__ import annotations

import asyncio
import fnmatch
import json
import re
import shlex
import sys
import tomllib
from dataclasses import dataclass
from importlib.metadata import distribution
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from gateway.app import create_app
from gateway.cli import build_parser
from gateway.config import parse_config
from gateway.inbound.serving import serving

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SECRET_NAME = re.compile(r"SECRET|TOKEN|PASSW|PWD|CREDENTIAL|API_?KEY|PRIVATE|AUTH", re.IGNORECASE)
TEST_ONLY = {"pytest", "pytest-asyncio", "ruff", "helm-python-sdk", "scim2-tester", "scim2-client", "httpx"}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: int


def instructions() -> list[Instruction]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped; stage 0 = before FROM."""
    logical: list[str] = []
    current = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    assert not current, "Dockerfile ends inside a continued line"
    parsed, stage = [], 0
    for text in logical:
        keyword, _, args = text.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        parsed.append(Instruction(keyword, args.strip(), stage))
    return parsed


def final_stage() -> list[Instruction]:
    steps = instructions()
    last = max(step.stage for step in steps)
    return [step for step in steps if step.stage == last]


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(item, str) for item in value), f"not exec form: {args}"
    return value


def key_values(args: str) -> dict[str, str]:
    """`ENV A=1 B=2` / `ARG NAME=default` as a mapping."""
    return dict(item.partition("=")[::2] for item in shlex.split(args))


def build_args() -> dict[str, str]:
    return {k: v for step in instructions() if step.keyword == "ARG" for k, v in key_values(step.args).items()}


def dockerignore_excludes(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; `!` re-includes. Parents count as matches too."""
    excluded = False
    parts = path.split("/")
    prefixes = ["/".join(parts[: index + 1]) for index in range(len(parts))]
    for raw in (ROOT / ".dockerignore").read_text().splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if any(
            fnmatch.fnmatch(prefix, pattern) or fnmatch.fnmatch(prefix, pattern.removeprefix("**/"))
            for prefix in prefixes
        ):
            excluded = not negate
    return excluded


def copies_from_context() -> list[str]:
    sources = []
    for step in instructions():
        if step.keyword == "COPY" and "--from=" not in step.args:
            words = [word for word in shlex.split(step.args) if not word.startswith("--")]
            sources.extend(words[:-1])
    return sources


def test_every_copy_source_exists_and_is_in_the_build_context():
    sources = copies_from_context()
    assert sources, "the Dockerfile copies nothing from the build context"
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such path in the repository"
        assert not dockerignore_excludes(source), f"COPY {source}: excluded by .dockerignore"


def test_dockerignore_keeps_secrets_and_the_venv_out_of_the_context():
    for path in (".venv", ".env", ".git", "tests", "benchmarks/results", "gateway/__pycache__", "id_rsa"):
        assert dockerignore_excludes(path), f"{path} would be sent to the Docker build context"


def test_copied_sources_cover_every_package_the_wheel_needs():
    setuptools = PYPROJECT["tool"]["setuptools"]
    copied = set(copies_from_context())
    assert PYPROJECT["project"]["readme"] in copied
    assert "pyproject.toml" in copied
    for package in setuptools["packages"]:
        directory = setuptools.get("package-dir", {}).get(package, package.replace(".", "/"))
        assert (ROOT / directory).is_dir()
        assert any(directory == src or directory.startswith(src + "/") for src in copied), (
            f"package {package} ({directory}) is not copied into the builder"
        )


def test_every_python_package_in_the_source_tree_ships_in_the_wheel():
    """The image installs the wheel, not the checkout: a package missing from pyproject is missing at run time."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    for top in ("gateway", "vendors"):
        for init in sorted((ROOT / top).rglob("__init__.py")):
            package = ".".join(init.parent.relative_to(ROOT).parts)
            assert package in listed, f"{package} is not in [tool.setuptools].packages: the image would lack it"


def test_every_data_file_in_a_package_ships_as_package_data():
    setuptools = PYPROJECT["tool"]["setuptools"]
    directories = {
        package: setuptools.get("package-dir", {}).get(package, package.replace(".", "/"))
        for package in setuptools["packages"]
    }
    for package, directory in directories.items():
        patterns = setuptools.get("package-data", {}).get(package, [])
        for path in (ROOT / directory).iterdir():
            if path.is_file() and path.suffix != ".py":
                assert any(fnmatch.fnmatch(path.name, pattern) for pattern in patterns), (
                    f"{path.relative_to(ROOT)} is not package data of {package}: the image would lack it"
                )


def test_multi_stage_final_image_copies_only_the_venv_from_the_builder():
    stages = {step.stage for step in instructions()}
    assert len(stages) >= 2
    copies = [step for step in final_stage() if step.keyword in ("COPY", "ADD")]
    assert copies, "the final stage copies nothing"
    for step in copies:
        assert step.keyword == "COPY" and step.args.startswith("--from=builder /opt/venv "), step.args
    assert not [step for step in final_stage() if step.keyword == "RUN" and "pip install" in step.args]


def test_entrypoint_is_the_console_script_and_cmd_serves_the_mounted_config():
    final = final_stage()
    (entrypoint,) = [exec_form(step.args) for step in final if step.keyword == "ENTRYPOINT"]
    (cmd,) = [exec_form(step.args) for step in final if step.keyword == "CMD"]
    assert entrypoint[0] in PYPROJECT["project"]["scripts"], f"{entrypoint[0]} is not a console script"
    assert PYPROJECT["project"]["scripts"][entrypoint[0]] == "gateway.cli:main"
    args = build_parser().parse_args(entrypoint[1:] + cmd)
    assert args.func.__name__ == "_serve"
    assert args.config == "/etc/scim-gateway/config.yaml"
    (expose,) = [step.args for step in final if step.keyword == "EXPOSE"]
    assert int(expose) == args.port, "EXPOSE differs from the port `serve` listens on"


def _healthcheck_command() -> list[str]:
    (step,) = [step for step in final_stage() if step.keyword == "HEALTHCHECK"]
    _, _, command = step.args.partition("CMD ")
    return exec_form(command)


def _minimal_app():
    token = {"name": "ops", "sha256": "0" * 64}
    # /metrics on a free port: the default (9464) would collide with other gateways run at the same time.
    observability = {"metrics_port": 0, "metrics_host": "127.0.0.1"}
    tenants = {"probe": {"tokens": [token], "apps": {}}}
    return create_app(parse_config({"tenants": tenants, "observability": observability}))


async def _exit_code(command: list[str]) -> int:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    return await asyncio.wait_for(process.wait(), 20)


async def test_healthcheck_hits_healthz_and_fails_when_nothing_answers():
    command = _healthcheck_command()
    assert command[0] == "python", "the image has no curl; the check must use the venv's python"
    script = command[-1]
    url = re.search(r"http://127\.0\.0\.1:(\d+)(/[a-z]+)", script)
    assert url and url.group(2) == "/healthz"
    app = _minimal_app()
    assert "/healthz" in {route.path for route in app.routes}
    async with serving(app) as server:
        live = [sys.executable, *command[1:-1], script.replace(f":{url.group(1)}/", f":{server.port}/")]
        assert await _exit_code(live) == 0
        port = server.port
    dead = [sys.executable, *command[1:-1], script.replace(f":{url.group(1)}/", f":{port}/")]
    assert await _exit_code(dead) != 0, "the health check passes with no server: it checks nothing"


def test_runs_as_a_numeric_non_root_user():
    (user,) = [step.args for step in final_stage() if step.keyword == "USER"]
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0, f"USER {user}: must be a numeric non-root UID"
    assert not gid or (gid.isdigit() and int(gid) != 0)
    created = " ".join(step.args for step in final_stage() if step.keyword == "RUN")
    assert f"--uid {uid}" in created, "the UID in USER is never created"


def test_read_only_root_filesystem_friendly():
    env = {k: v for step in final_stage() if step.keyword == "ENV" for k, v in key_values(step.args).items()}
    assert env.get("PYTHONDONTWRITEBYTECODE") == "1"
    assert env.get("HOME") == "/tmp" and env.get("TMPDIR") == "/tmp", "writes must land in /tmp only"
    assert env["PATH"].startswith("/opt/venv/bin:")


def test_base_image_is_pinned_to_an_exact_tag_matching_the_lock():
    default = build_args()["PYTHON_IMAGE"]
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-bookworm(@sha256:[0-9a-f]{64})?", default)
    assert match, f"base image {default} is not an exact python:X.Y.Z-slim-bookworm tag"
    # requirements.lock's markers were evaluated on this interpreter: the image must run the same minor.
    assert (int(match.group(1)), int(match.group(2))) == sys.version_info[:2]
    minimum = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    assert Version(f"{match.group(1)}.{match.group(2)}") >= Version(minimum)
    for step in instructions():
        if step.keyword == "FROM":
            assert step.args.split()[0] in ("${PYTHON_IMAGE}", "$PYTHON_IMAGE"), step.args


def test_no_env_or_arg_carries_a_secret_looking_name():
    for step in instructions():
        if step.keyword in ("ENV", "ARG"):
            for name in key_values(step.args):
                assert not SECRET_NAME.search(name), f"{step.keyword} {name} looks like a baked-in secret"


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.partition("==")
            assert sep, f"requirements.lock: {line!r} is not an exact pin"
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_lock_pins_every_runtime_dependency_within_pyproject_ranges():
    pins = _lock()
    for line in PYPROJECT["project"]["dependencies"]:
        req = Requirement(line)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} is a runtime dependency but requirements.lock does not pin it"
        assert req.specifier.contains(pins[name], prereleases=True), f"{name}=={pins[name]} violates {line}"
    assert canonicalize_name(PYPROJECT["project"]["name"]) not in pins, "the project itself is never locked"
    assert not TEST_ONLY & set(pins), f"test-only packages in the image: {TEST_ONLY & set(pins)}"


def test_lock_is_closed_under_the_dependencies_of_each_pinned_version():
    """Where the venv holds the very version the lock pins, its own requirements must be pinned and met."""
    pins = _lock()
    checked = 0
    for name, version in pins.items():
        dist = distribution(name)
        if dist.version != version:
            continue
        checked += 1
        for line in dist.requires or []:
            req = Requirement(line)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            child = canonicalize_name(req.name)
            assert child in pins, f"{name}=={version} needs {req.name}, which requirements.lock does not pin"
            assert req.specifier.contains(pins[child], prereleases=True), f"{child}=={pins[child]} violates {line}"
    assert checked >= len(pins) // 2, "the venv differs from requirements.lock: run scripts/lock_requirements.py"
