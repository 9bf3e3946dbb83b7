"""Every benchmark runs from the one entry point: ``python -m benchmarks.run_all --quick``.

Small inputs, the hashing model, a temporary data home and output folder: the run must exit 0
and leave each benchmark's JSON with its expected top-level keys (``run_all`` checks the keys;
this test checks the exit code, the summary and that the files are there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_run_all_quick_writes_every_json(tmp_path):
    from benchmarks.run_all import BENCHMARKS

    work = tmp_path / "bench"
    env = {**os.environ, "PASSERELLE_HOME": str(tmp_path / "home"), "PASSERELLE_MODEL": "hashing"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run_all", "--quick", "--work", str(work)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-5000:]
    summary = json.loads((work / "run_all.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in summary["benchmarks"]] == [b.name for b in BENCHMARKS]
    for record in summary["benchmarks"]:
        assert record["ok"], record
        path = Path(record["json"])
        assert path.is_relative_to(work), path  # never over the committed full-size JSON
        assert isinstance(json.loads(path.read_text(encoding="utf-8")), dict)
