"""Smoke test of `python -m benchmarks.reconcile` at small sizes: correct findings, within the vendor's
limit, no faster than its bound, and memory that does not grow with the number of accounts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.processes import REPO_ROOT


def test_reconcile_benchmark_finds_what_was_planted_with_flat_memory(tmp_path: Path) -> None:
    output = tmp_path / "reconcile.json"
    command = [sys.executable, "-m", "benchmarks.reconcile", "--accounts", "500,4000", "--rate", "400",
               "--output", str(output)]  # fmt: skip

    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=240, check=False)

    assert done.returncode == 0, done.stderr[-3000:]  # 1: the findings differ from what was planted
    small, large = json.loads(output.read_text())
    assert large["findings"] == {"orphan": 40, "drift": 20, "missing": 20, "reactivated": 8}
    for result in (small, large):
        assert result["vendor_429s"] == 0 and result["status"] == "succeeded"
        assert result["seconds"] >= result["bound_seconds"] * 0.9  # the vendor's limit held (timer rounding aside)
    # 8x the accounts, the same memory: one page of the vendor and one of the directory at a time.
    assert large["peak_growth_mb"] < small["peak_growth_mb"] * 1.5 + 0.5, (small, large)
    assert "| 4,000 | 400 | 40 |" in done.stdout
