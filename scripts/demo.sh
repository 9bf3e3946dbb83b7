#!/usr/bin/env bash
# Install the project into .venv and run the main job: `passerelle demo`.
# Usage: bash scripts/demo.sh [demo options...]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
exec .venv/bin/passerelle demo "$@"
