"""Activation functions as SymPy expressions.

Piecewise activations are written as ``Max``/``Min`` or ``Piecewise`` exactly as a teacher
defines them; the engine turns them into branches with conditions on ``x`` alone.
"""

from __future__ import annotations

import sympy as sp

from . import Entry

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
    Entry("identity", r"\operatorname{id}", "Identity", lambda u, p: u, formula="x"),
    Entry("relu", r"\operatorname{ReLU}", "ReLU", lambda u, p: sp.Max(0, u),
          formula=r"\max\{0, x\}"),
    Entry("leaky_relu", r"\operatorname{LReLU}", "Leaky ReLU",
          lambda u, p: sp.Max(p["a"] * u, u), {"a": "0 < a < 1"}, formula=r"\max\{ax, x\}"),
    Entry("sigmoid", r"\sigma", "Sigmoid", lambda u, p: _sigmoid(u),
          formula=r"\frac{1}{1+e^{-x}}"),
    Entry("tanh", r"\tanh", "Tanh", lambda u, p: sp.tanh(u), formula=r"\tanh x"),
    Entry("softplus", r"\operatorname{softplus}", "Softplus",
          lambda u, p: _softplus(u, p["beta"]), {"beta": "positive"},
          formula=r"\frac{1}{\beta}\ln\left(1+e^{\beta x}\right)"),
    Entry("softmax", r"\operatorname{softmax}", "Softmax", lambda xs, p: _softmax(xs),
          vector=True, formula=r"\frac{e^{x_i}}{\sum_{j=1}^{n} e^{x_j}}"),
    Entry("elu", r"\operatorname{ELU}", "ELU",
          lambda u, p: sp.Piecewise((u, u > 0), (p["alpha"] * (sp.exp(u) - 1), True)),
          {"alpha": "positive"}),
    Entry("selu", r"\operatorname{SELU}", "SELU",
          lambda u, p: SELU_LAMBDA * sp.Piecewise((u, u > 0), (SELU_ALPHA * (sp.exp(u) - 1), True))),
    Entry("gelu", r"\operatorname{GELU}", "GELU (exact)",
          lambda u, p: u * (1 + sp.erf(u / sp.sqrt(2))) / 2, formula=r"x\,\Phi(x)"),
    Entry("silu", r"\operatorname{SiLU}", "SiLU", lambda u, p: u * _sigmoid(u),
          formula=r"x\,\sigma(x)"),
    Entry("swish", r"\operatorname{swish}", "Swish", lambda u, p: u * _sigmoid(p["beta"] * u),
          {"beta": "positive"}, formula=r"x\,\sigma(\beta x)"),
    Entry("mish", r"\operatorname{mish}", "Mish", lambda u, p: u * sp.tanh(_softplus(u)),
          formula=r"x \tanh(\operatorname{softplus}(x))"),
    Entry("softsign", r"\operatorname{softsign}", "Softsign", lambda u, p: u / (1 + sp.Abs(u)),
          formula=r"\frac{x}{1+|x|}"),
    Entry("hard_tanh", r"\operatorname{hardtanh}", "Hard tanh",
          lambda u, p: sp.Max(-1, sp.Min(1, u)), formula=r"\max\{-1, \min\{1, x\}\}"),
    Entry("hard_sigmoid", r"\operatorname{hardsigmoid}", "Hard sigmoid",
          lambda u, p: sp.Max(0, sp.Min(1, u / 6 + sp.Rational(1, 2))),
          formula=r"\max\{0, \min\{1, x/6 + 1/2\}\}"),
]

ACTIVATIONS: dict[str, Entry] = {e.name: e for e in _ENTRIES}
