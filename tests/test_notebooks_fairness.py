"""The fairness audit notebook executes end to end (nbclient), on small synthetic data.

It reuses the session's data home (:func:`conftest.engine_home`), where the real model's trade
searcher is already fitted, so the notebook itself only generates and encodes a few hundred
synthetic youths and vacancies.
"""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "fairness_audit.ipynb"


def test_fairness_audit_executes(engine_home):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    at = next(
        i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])
    )
    settings = engine_home.settings
    notebook.cells.insert(
        at + 1,
        nbformat.v4.new_code_cell(
            f"SETTINGS = Settings(home=Path({str(settings.home)!r}), model={settings.model!r})\n"
            "N_YOUTHS, N_VACANCIES, N_TRADE_YOUTHS, N_EXPOSURE_YOUTHS = 60, 300, 60, 40"
        ),
    )
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert (
        sum(o.output_type == "display_data" and "image/png" in o.get("data", {}) for o in outputs)
        >= 3
    )
    shares = notebook.cells[-3].outputs  # the concentration table
    assert any("share to top 10 %" in o.get("data", {}).get("text/plain", "") for o in shares)
