"""Losses as SymPy expressions of a prediction ŷ and a target y.

Scalar forms are given; vector losses (``half_squared``, ``squared``, ``mse``,
``cross_entropy``, ``bce``) sum or average the scalar form over the outputs, which
:func:`vector_loss` does for networks.
"""

from __future__ import annotations

import sympy as sp

from . import Entry


def _check(r, tau):
    return sp.Piecewise((tau * r, r >= 0), ((tau - 1) * r, True))


def _huber(r, delta):
    return sp.Piecewise((-delta * r - delta ** 2 / 2, r < -delta),
                        (r ** 2 / 2, r <= delta),
                        (delta * r - delta ** 2 / 2, True))


_ENTRIES = [
    Entry("half_squared", r"\tfrac12\|\hat y - y\|^2", "Half squared error",
          lambda yh, y, p: (yh - y) ** 2 / 2, arity=2, symbol=r"\ell"),
    Entry("squared", r"\|\hat y - y\|^2", "Squared error",
          lambda yh, y, p: (yh - y) ** 2, arity=2, symbol=r"\ell"),
    Entry("mse", r"\operatorname{MSE}", "Mean squared error",
          lambda yh, y, p: (yh - y) ** 2, arity=2),
    Entry("bce", r"\operatorname{BCE}", "Binary cross-entropy",
          lambda yh, y, p: -(y * sp.log(yh) + (1 - y) * sp.log(1 - yh)), arity=2),
    Entry("cross_entropy", r"\operatorname{CE}", "Cross-entropy",
          lambda yh, y, p: -y * sp.log(yh), arity=2),
    Entry("absolute", r"|\hat y - y|", "Absolute error (LAD)",
          lambda yh, y, p: sp.Abs(yh - y), arity=2, symbol=r"\ell"),
    Entry("check", r"\rho_\tau", "Quantile check loss",
          lambda yh, y, p: _check(y - yh, p["tau"]), {"tau": "0 < tau < 1"}, arity=2),
    Entry("huber", r"\operatorname{Huber}_\delta", "Huber loss",
          lambda yh, y, p: _huber(yh - y, p["delta"]), {"delta": "positive"}, arity=2),
    Entry("hinge", r"\operatorname{hinge}", "Hinge loss",
          lambda yh, y, p: sp.Max(0, 1 - y * yh), arity=2),
    Entry("log_cosh", r"\log\cosh", "Log-cosh loss",
          lambda yh, y, p: sp.log(sp.cosh(yh - y)), arity=2),
]

LOSSES: dict[str, Entry] = {e.name: e for e in _ENTRIES}

# Losses that average over the outputs rather than sum.
MEAN_LOSSES = frozenset({"mse"})


def vector_loss(name: str, yhat: sp.Matrix, y: sp.Matrix, params: dict) -> sp.Expr:
    """The loss of a whole output vector: the scalar form summed (or averaged) over entries."""
    entry = LOSSES[name]
    total = sum(entry.build(a, b, params) for a, b in zip(yhat, y))
    if name in MEAN_LOSSES:
        return total / len(yhat)
    return total
