"""Smoke test of the benchmark harness: one short GET run per app through the documented command.

It starts the real processes (static upstream, gateway, baseline, wrk or the
Python load generator) on loopback and takes about 10 s, so it runs with the
normal suite and keeps `python -m benchmarks.run` from rotting.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.processes import REPO_ROOT


def test_quick_run_gets_only_2xx_from_the_gateway_for_both_apps(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    command = [sys.executable, "-m", "benchmarks.run", "--quick", "--scenarios", "get", "--connections", "8"]
    command += ["--duration", "1", "--warmup", "0", "--output", str(output)]

    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=40, check=False)

    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(output.read_text())
    gateway = [run for run in results["runs"] if run["server"] == "gateway"]
    assert [(run["app"], run["scenario"], run["connections"]) for run in gateway] == [
        ("invicti", "get", 8),
        ("orca", "get", 8),
    ]
    for run in gateway:
        assert run["requests"] > 0 and run["rps"] > 0
        assert run["non_2xx"] == 0 and run["socket_errors"] == 0
    assert results["added_latency"]["gateway"]["non_2xx"] == 0
    assert [pair["app"] for pair in results["comparisons"]] == ["invicti", "orca"]
    assert "| invicti | get | 8 |" in done.stdout and "| orca | get | 8 |" in done.stdout
