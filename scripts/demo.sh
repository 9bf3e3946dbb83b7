#!/usr/bin/env bash
# Install the project into .venv, run the main job (`passerelle demo`), then serve the web
# pages on the demo data until Ctrl-C (`passerelle demo --serve`: address and two keys printed).
# Usage: bash scripts/demo.sh [demo options...]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
exec .venv/bin/passerelle demo --serve "$@"
