"""docs/symderiv-in-jupyter.ipynb: executed (nbclient) and its outputs checked."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "docs" / "symderiv-in-jupyter.ipynb"


def _outputs(nb):
    return [cell.outputs for cell in nb.cells if cell.cell_type == "code"]


def _check(nb):
    outputs = _outputs(nb)
    derivation = outputs[0][0]["data"]
    assert set(derivation) == {"text/markdown", "text/latex", "text/plain"}
    assert derivation["text/markdown"].startswith("**Sigmoid**: the derivative, step by step")
    assert r"\boxed{\sigma(x) \left(1 - \sigma(x)\right)}" in derivation["text/markdown"]
    assert r"\text{reciprocal, chain}" in derivation["text/latex"]
    assert outputs[1][0]["data"]["text/plain"] == "exp(x)/(exp(x) + 1)**2"
    network = outputs[2][0]["data"]["text/markdown"]
    assert "### Question 1(b): forward pass and back-propagation" in network
    assert r"| grad, W1 | $\begin{pmatrix} 0 & 0 & 0 \\ \frac{11}{10} & \frac{11}{5} & \frac{33}{10} \end{pmatrix}$ |" in network
    assert outputs[3][0]["data"]["text/plain"] == "133/100"
    report = outputs[4][0]["data"]["text/markdown"]
    assert report.startswith("### AMA564 Assignment 1: 19/24 correct")
    assert all(o["output_type"] != "error" for cell in outputs for o in cell)


def test_stored_notebook_shows_the_outputs():
    nbformat = pytest.importorskip("nbformat")
    _check(nbformat.read(NOTEBOOK, as_version=4))


@pytest.mark.slow
def test_notebook_executes(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    _check(nb)
