"""Smoke test of the directory benchmark: the documented command, short, with every variant.

It starts the real processes (static upstream, PostgreSQL, three gateways,
the load generator) on loopback and takes about 20 s, so that
`python -m benchmarks.directory` cannot rot.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.processes import REPO_ROOT


def test_quick_run_answers_2xx_for_every_directory_variant(tmp_path: Path) -> None:
    output = tmp_path / "directory.json"
    command = [sys.executable, "-m", "benchmarks.directory", "--quick", "--duration", "1", "--warmup", "0"]
    command += ["--writes", "5", "--output", str(output)]

    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(output.read_text())
    assert list(results["variants"]) == ["off", "sqlite", "postgresql"]
    for variant in results["variants"].values():
        reads = variant["reads"]
        assert reads["requests"] > 0 and reads["non_2xx"] == 0 and reads["socket_errors"] == 0
        assert reads["cpu_us_per_request"] > 0
        for kind in ("held", "vendor"):
            assert variant["writes"][kind]["requests"] == 5 and variant["writes"][kind]["non_2xx"] == 0
    assert set(results["comparisons"]) == {"sqlite", "postgresql"}
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert [row.split(" | ")[0] for row in rows[1:4]] == ["| off", "| sqlite", "| postgresql"]
