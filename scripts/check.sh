#!/usr/bin/env bash
# Static checks: the layout (import circles, module sizes), ruff and mypy.
# Usage: bash scripts/check.sh   (after scripts/test.sh or `pip install -e ".[dev]"` into .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
"$PY" -m benchmarks.layout
"$PY" -m ruff check matching service tests benchmarks scripts
"$PY" -m mypy
