"""Drive load at a server and parse what came back: wrk when installed, else benchmarks.pyload.

Both generators are closed-loop (each connection sends its next request when
the previous answer is in), stop by themselves after `duration` seconds, and
print one `BENCH_RESULT {json}` line, parsed here into a LoadResult. The wrk
Lua script sets method, path, headers and body, counts non-2xx answers in
`response()` and prints exact percentiles from wrk's histogram in `done()`.
A path holding `{unique}` gets a fresh value per request (a per-run tag plus
a counter), in both generators.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from benchmarks.processes import pinned
from benchmarks.scenarios import UNIQUE, Scenario

RESULT_MARK = "BENCH_RESULT "
_WRK_TIMEOUT_S = 10


@dataclass(frozen=True)
class Target:
    """Where to send a scenario: `url` is the server root, `prefix` the SCIM root path on it."""

    url: str
    prefix: str
    token: str | None = None


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    tool: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def pick_tool(preference: str) -> str:
    """'wrk' if asked for (or 'auto' and installed), else 'python'; raises RuntimeError if wrk is asked but absent."""
    has_wrk = shutil.which("wrk") is not None
    if preference == "wrk" and not has_wrk:
        raise RuntimeError("wrk is not installed (apt-get install wrk), use --loadgen python")
    return "wrk" if preference in ("wrk", "auto") and has_wrk else "python"


def request_headers(scenario: Scenario, target: Target) -> dict[str, str]:
    headers = dict(scenario.headers)
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    return headers


def run_load(
    tool: str, scenario: Scenario, target: Target, connections: int, duration: float, core: int | None
) -> LoadResult:
    """Run one bounded load test; raises RuntimeError when the generator fails or prints no result."""
    path = target.prefix + scenario.path
    headers = request_headers(scenario, target)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        if tool == "wrk":
            script = Path(scratch) / "scenario.lua"
            script.write_text(wrk_script(scenario.method, path, headers, scenario.body))
            seconds = max(1, round(duration))
            command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", f"--timeout={_WRK_TIMEOUT_S}s"]
            command += ["-s", str(script), target.url]
        else:
            spec = Path(scratch) / "request.json"
            body = scenario.body.decode() if scenario.body else None
            spec.write_text(json.dumps({"method": scenario.method, "path": path, "headers": headers, "body": body}))
            command = [sys.executable, "-m", "benchmarks.pyload", target.url, str(spec)]
            command += ["--connections", str(connections), "--duration", str(duration)]
        completed = subprocess.run(
            pinned(command, core), capture_output=True, text=True, timeout=duration + 60, check=False
        )
    return parse_result(completed.stdout, completed.stderr, tool)


def parse_result(stdout: str, stderr: str, tool: str) -> LoadResult:
    """The LoadResult from a generator's output; raises RuntimeError when there is no result line."""
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARK):
            raw = json.loads(line[len(RESULT_MARK) :])
            seconds = raw["duration_us"] / 1e6
            return LoadResult(
                requests=raw["requests"],
                seconds=round(seconds, 3),
                rps=round(raw["requests"] / seconds, 1) if seconds else 0.0,
                p50_ms=round(raw["p50_us"] / 1000, 3),
                p99_ms=round(raw["p99_us"] / 1000, 3),
                non_2xx=raw["non_2xx"],
                socket_errors=raw["socket_errors"],
                tool=tool,
            )
    raise RuntimeError(f"{tool} printed no result:\n{stdout[-2000:]}\n{stderr[-2000:]}")


def wrk_script(method: str, path: str, headers: dict[str, str], body: bytes | None) -> str:
    """A wrk Lua script sending one request (a fresh `{unique}` each time) and reporting a BENCH_RESULT line."""
    header_lines = "\n".join(f"wrk.headers[{_lua(name)}] = {_lua(value)}" for name, value in headers.items())
    unique = ""
    if UNIQUE in path:
        head, _, tail = path.partition(UNIQUE)
        tag = secrets.token_hex(4)  # per run, so a second run never reuses the first run's ids
        unique = f"""
local counter = 0
function request()
  counter = counter + 1
  return wrk.format(nil, {_lua(head + tag)} .. counter .. {_lua(tail)})
end"""
    return f"""
wrk.method = {_lua(method)}
wrk.path = {_lua(path.replace(UNIQUE, "0"))}
{header_lines}
{f"wrk.body = {_lua(body.decode())}" if body else ""}
{unique}

local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) non_2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non_2xx = non_2xx + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do bad = bad + thread:get("non_2xx") end
  local e = summary.errors
  io.write(string.format(
    '{RESULT_MARK}{{"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"non_2xx":%d,"socket_errors":%d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), bad,
    e.connect + e.read + e.write + e.timeout))
end
"""


def _lua(text: str) -> str:
    """A Lua string literal for any text: printable ASCII kept, everything else as decimal byte escapes."""
    out = []
    for byte in text.encode():
        char = chr(byte)
        out.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(out) + '"'
