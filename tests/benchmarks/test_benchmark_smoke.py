"""Smoke test of the benchmark harness: one short GET run through the documented command.

Run with `pytest benchmarks/test_benchmark_smoke.py` (it is outside the default
`tests/` path because it starts real processes on loopback and takes ~10 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.processes import REPO_ROOT


def test_quick_run_gets_only_2xx_from_the_gateway(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    command = [sys.executable, "-m", "benchmarks.run", "--quick", "--scenarios", "get", "--connections", "8"]
    command += ["--duration", "1", "--warmup", "0", "--output", str(output)]

    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=25, check=False)

    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(output.read_text())
    gateway = [run for run in results["runs"] if run["server"] == "gateway"]
    assert [(run["scenario"], run["connections"]) for run in gateway] == [("get", 8)]
    assert gateway[0]["requests"] > 0 and gateway[0]["rps"] > 0
    assert gateway[0]["non_2xx"] == 0 and gateway[0]["socket_errors"] == 0
    assert results["added_latency"]["gateway"]["non_2xx"] == 0
    assert "| get | 8 |" in done.stdout
