"""Smoke test of the scale command: the token-refresh figure at its quick sizes (about 6 s).

Runs `python -m benchmarks.scale --quick --figures token`: the Delinea simulator revokes the
gateway's token, N requests arrive at once, and exactly one token request must serve them all.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from benchmarks.processes import REPO_ROOT


def test_one_token_refresh_serves_every_concurrent_request(tmp_path: Path) -> None:
    output = tmp_path / "scale.json"
    command = [sys.executable, "-m", "benchmarks.scale", "--quick", "--figures", "token", "--output", str(output)]

    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=90, check=False)

    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(output.read_text())["token_refresh"]
    assert [figure["requests"] for figure in figures] == [10, 100]
    for figure in figures:
        assert figure["token_requests"] == 1 and figure["non_200"] == 0
    assert "| 100 |" in done.stdout
