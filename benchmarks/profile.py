"""Where the gateway's CPU goes: py-spy samples the gateway process during one extra load run.

py-spy (`pip install py-spy`, not a project dependency) records collapsed
stacks of the event-loop thread; other Python threads (the audit writer) sit
blocked on a queue, which py-spy in its accurate pausing mode cannot tell
from work, so their CPU is read from /proc per thread instead. Functions are
ranked by self time (top of stack; time in C code such as uvloop, orjson or
socket writes counts for the Python frame that called it), our own frames
(gateway/, vendors/) by inclusive time, and self time is summed per package.
Pausing to sample slows the gateway, so this run is separate from the
measured ones.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from benchmarks.load import Target, run_load
from benchmarks.measure import Plan
from benchmarks.processes import REPO_ROOT, Server, pinned, thread_cpu_seconds
from benchmarks.scenarios import Scenario

TOP = 10
_OURS = ("(gateway/", "(vendors/")
_ROOTS = ("(gateway/cli.py)",)  # the process entry, on every stack


def py_spy() -> str | None:
    """The py-spy executable: on PATH, or beside this Python (a venv that is not activated)."""
    beside = Path(sys.executable).parent / "py-spy"
    return shutil.which("py-spy") or (str(beside) if beside.exists() else None)


def profile(plan: Plan, scenario: Scenario, server: Server, target: Target, connections: int) -> dict[str, object]:
    """Sample `server` under load; returns rankings of frames and packages and CPU per thread."""
    executable = py_spy()
    if executable is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    seconds = max(1, round(plan.duration))
    with tempfile.TemporaryDirectory(prefix="bench-pyspy-") as scratch:
        output = Path(scratch) / "stacks.txt"
        command = [executable, "record", "--pid", str(server.pid), "--duration", str(seconds), "--rate", "250"]
        command += ["--nolineno", "--format", "raw", "--output", str(output)]
        threads_before = thread_cpu_seconds(server.pid)
        spy = subprocess.Popen(pinned(command, plan.load_core), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            load = run_load(plan.tool, scenario, target, connections, plan.duration, plan.load_core)
            _, errors = spy.communicate(timeout=seconds + 30)
        finally:
            if spy.poll() is None:
                spy.kill()
                spy.wait()
        threads = _thread_shares(threads_before, thread_cpu_seconds(server.pid), load.seconds)
        if spy.returncode != 0 or not output.exists():
            raise RuntimeError(f"py-spy failed: {errors.decode(errors='replace')[-500:]}")
        raw = output.read_text()
    # Kept for a closer look (flamegraph.pl or speedscope read this format).
    kept = REPO_ROOT / "benchmarks" / "results" / f"profile-{scenario.app}-{scenario.name}.txt"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_text(raw)
    stacks = event_loop_only(collapsed(raw))
    name = f"{scenario.app} {scenario.name}"
    return {"scenario": name, "connections": connections, "threads": threads, "stacks": str(kept), **rank(stacks)}


def collapsed(text: str) -> Counter[tuple[str, ...]]:
    """Parse py-spy's raw format (`frame;frame;... count`, outermost first) into stack -> samples."""
    stacks: Counter[tuple[str, ...]] = Counter()
    for line in text.splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks[tuple(frames.split(";"))] += int(count)
    return stacks


def event_loop_only(stacks: Counter[tuple[str, ...]]) -> Counter[tuple[str, ...]]:
    """Drop stacks of threads started with `threading` (the loop runs on the main thread)."""
    return Counter({frames: n for frames, n in stacks.items() if not frames[0].startswith("Thread._bootstrap ")})


def rank(stacks: Counter[tuple[str, ...]]) -> dict[str, object]:
    """Top frames by self share, our frames by inclusive share, and self share per package, in percent."""
    total = sum(stacks.values())
    own: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    for frames, count in stacks.items():
        own[frames[-1]] += count
        packages[package(frames[-1])] += count
        for frame in set(frames):
            if any(marker in frame for marker in _OURS) and not frame.endswith(_ROOTS):
                ours[frame] += count

    def top(counter: Counter[str], key: str) -> list[dict[str, object]]:
        return [{key: name, "percent": round(100 * n / total, 1)} for name, n in counter.most_common(TOP)]

    if not total:
        return {"samples": 0, "self": [], "inclusive_ours": [], "packages": []}
    return {
        "samples": total,
        "self": top(own, "frame"),
        "inclusive_ours": top(ours, "frame"),
        "packages": top(packages, "package"),
    }


def package(frame: str) -> str:
    """`present (gateway/scim/present.py)` -> `gateway.scim`; `uuid4 (uuid.py)` -> `uuid`."""
    path = frame.rpartition("(")[2].rstrip(")")
    parts = path.removesuffix(".py").split("/")
    return ".".join(parts[:2]) if parts[0] in ("gateway", "vendors") and len(parts) > 2 else parts[0]


def _thread_shares(
    before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]], seconds: float
) -> list[dict[str, object]]:
    shares = []
    for tid, (name, cpu) in sorted(after.items()):
        used = cpu - before.get(tid, (name, 0.0))[1]
        shares.append({"tid": tid, "name": name, "cpu_percent": round(100 * used / seconds, 1) if seconds else 0.0})
    return shares
