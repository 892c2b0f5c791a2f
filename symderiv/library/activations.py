"""Activation functions as SymPy expressions.

Piecewise activations are written as ``Max``/``Min`` or ``Piecewise`` exactly as a teacher
defines them; the engine turns them into branches with conditions on ``x`` alone.
"""

from __future__ import annotations

import sympy as sp

from . import Entry
from .display import Ln, Product, MaxSet, MinSet, PHI_CDF, SIGMA, SOFTPLUS

# SELU's constants (Klambauer et al., 2017), to the digits published with the paper.
# Exact rationals so that checks stay exact; the printer shows such long fractions as
# decimals with an ellipsis.
SELU_LAMBDA = sp.Rational("1.0507009873554804934193349852946")
SELU_ALPHA = sp.Rational("1.6732632423543772848170429916717")


def _sigmoid(u):
    return 1 / (1 + sp.exp(-u))


def _softplus(u, beta=1):
    return sp.log(1 + sp.exp(beta * u)) / beta


def _softmax(xs):
    total = sum(sp.exp(v) for v in xs)
    return sp.Matrix([sp.exp(v) / total for v in xs])


_ENTRIES = [
    Entry("identity", r"\operatorname{id}", "Identity", lambda u, p: u, display=lambda u, p: u),
    Entry("relu", r"\operatorname{ReLU}", "ReLU", lambda u, p: sp.Max(0, u),
          display=lambda u, p: MaxSet(0, u)),
    Entry("leaky_relu", r"\operatorname{LReLU}", "Leaky ReLU",
          lambda u, p: sp.Max(p["a"] * u, u), {"a": "0 < a < 1"}, display=lambda u, p: MaxSet(p["a"] * u, u)),
    Entry("sigmoid", r"\sigma", "Sigmoid", lambda u, p: _sigmoid(u),
          display=lambda u, p: _sigmoid(u)),
    Entry("tanh", r"\tanh", "Tanh", lambda u, p: sp.tanh(u), display=lambda u, p: (sp.exp(u) - sp.exp(-u)) / (sp.exp(u) + sp.exp(-u))),
    Entry("softplus", r"\operatorname{softplus}", "Softplus",
          lambda u, p: _softplus(u, p["beta"]), {"beta": "positive"},
          display=lambda u, p: Product(1 / p["beta"], Ln(1 + sp.exp(p["beta"] * u)))),
    Entry("softmax", r"\operatorname{softmax}", "Softmax", lambda xs, p: _softmax(xs),
          vector=True, display=lambda x, i, k, n: sp.exp(x[i]) / sp.Sum(sp.exp(x[k]), (k, 1, n))),
    Entry("elu", r"\operatorname{ELU}", "ELU",
          lambda u, p: sp.Piecewise((u, u > 0), (p["alpha"] * (sp.exp(u) - 1), True)),
          {"alpha": "positive"}),
    Entry("selu", r"\operatorname{SELU}", "SELU",
          lambda u, p: SELU_LAMBDA * sp.Piecewise((u, u > 0), (SELU_ALPHA * (sp.exp(u) - 1), True))),
    Entry("gelu", r"\operatorname{GELU}", "GELU (exact)",
          lambda u, p: u * (1 + sp.erf(u / sp.sqrt(2))) / 2, display=lambda u, p: Product(u, PHI_CDF(u))),
    Entry("silu", r"\operatorname{SiLU}", "SiLU", lambda u, p: u * _sigmoid(u),
          display=lambda u, p: Product(u, SIGMA(u))),
    Entry("swish", r"\operatorname{swish}", "Swish", lambda u, p: u * _sigmoid(p["beta"] * u),
          {"beta": "positive"}, display=lambda u, p: Product(u, SIGMA(p["beta"] * u))),
    Entry("mish", r"\operatorname{mish}", "Mish", lambda u, p: u * sp.tanh(_softplus(u)),
          display=lambda u, p: Product(u, sp.tanh(SOFTPLUS(u)))),
    Entry("softsign", r"\operatorname{softsign}", "Softsign", lambda u, p: u / (1 + sp.Abs(u)),
          display=lambda u, p: u / (1 + sp.Abs(u))),
    Entry("hard_tanh", r"\operatorname{hardtanh}", "Hard tanh",
          lambda u, p: sp.Max(-1, sp.Min(1, u)), display=lambda u, p: MaxSet(-1, MinSet(1, u))),
    Entry("hard_sigmoid", r"\operatorname{hardsigmoid}", "Hard sigmoid",
          lambda u, p: sp.Max(0, sp.Min(1, u / 6 + sp.Rational(1, 2))),
          display=lambda u, p: MaxSet(0, MinSet(1, u / 6 + sp.Rational(1, 2)))),
]

ACTIVATIONS: dict[str, Entry] = {e.name: e for e in _ENTRIES}
