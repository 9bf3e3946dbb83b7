"""The matching-quality notebook executes end to end (nbclient) on the committed benchmark output.

It only reads ``benchmarks/quality/results.json`` and ``per_query.csv``; without
``PASSERELLE_HOME`` it shows the stored examples, so no model is fitted or loaded here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "matching_quality.ipynb"


def test_matching_quality_executes(monkeypatch):
    monkeypatch.delenv("PASSERELLE_HOME", raising=False)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(ROOT / "notebooks")}},
    )
    client.execute(env={k: v for k, v in os.environ.items() if k != "PASSERELLE_HOME"})
    text = "\n".join(
        str(output.get("text", "")) for cell in notebook.cells for output in cell.get("outputs", [])
    )
    assert "targets: appellations" in text
