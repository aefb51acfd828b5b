#!/usr/bin/env bash
# Run the benchmark: installs wrk if it is missing (Debian, as root), then `python -m benchmarks.run "$@"`.
# Usage: benchmarks/run.sh [--quick] [--duration S] [--connections 8,64] [--scenarios get,list,create,patch] [--profile]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! command -v wrk >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && apt-get install -y -qq wrk >/dev/null || echo "wrk not installed; using the Python load generator" >&2
fi
python=.venv/bin/python
[ -x "$python" ] || python=python3
exec "$python" -m benchmarks.run "$@"
