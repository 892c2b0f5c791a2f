"""The problem kinds: name → module exposing ``parse(problem)`` and ``solve(problem)``.

Modules are imported lazily so that the CLI starts without SymPy.
"""

from __future__ import annotations

import importlib
from types import ModuleType

KINDS: dict[str, tuple[str, str]] = {
    "derivative": ("symderiv.derive.derivative", "derivatives of activations and losses, "
                   "with limits at ±∞"),
    "mlp": ("symderiv.derive.network", "forward and backward passes through an MLP, numeric "
            "or symbolic"),
    "graph": ("symderiv.derive.graph", "the chain rule over a computation graph: sums over paths"),
    "matrix_gradient": ("symderiv.derive.matrix", "gradients of scalar functions of vectors "
                        "and matrices, with shape checks"),
    "gd_analysis": ("symderiv.derive.descent", "gradient descent (and heavy-ball momentum) on "
                    "quadratics in one or several parameters: iterates, stable steps, rates; "
                    "non-quadratic losses in one parameter by running the iteration"),
    "proof": ("symderiv.derive.proofs", "proofs with machine-checked steps (gradient descent "
              "rates, population minimizers, or a proof written in the file line by line)"),
    "experiment": ("symderiv.derive.experiment", "a training experiment: a small network trained "
                   "with several hidden activations by the engine's checked back-propagation "
                   "formulas, final MSEs and learning curves compared (measured, not proved)"),
    "text": ("symderiv.derive.text", "a prose answer written in the problem file"),
}


def kind_module(kind: str) -> ModuleType:
    return importlib.import_module(KINDS[kind][0])
