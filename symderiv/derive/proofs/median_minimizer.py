"""The population minimizer of the absolute loss is the conditional median (τ = 1/2)."""

from __future__ import annotations

import sympy as sp

from . import ProofStep, StepFailed, Theorem
from ._minimizer import Fc, minimizer_matches, p, pointwise_step, q, risk_derivative, y


def _derivative() -> str:
    r = sp.Integral((q - y) * p(y), (y, -sp.oo, q)) + sp.Integral((y - q) * p(y), (y, q, sp.oo))
    d = risk_derivative(r)
    if sp.expand(d - (2 * Fc(q) - 1)) != 0:
        raise StepFailed(f"d r/dq = {d}, not 2F(q) − 1")
    # \bigl( … \bigr), not \left( … \right): the line may break at the + inside
    return (r"$\frac{d}{dq}\bigl(\int_{-\infty}^{q} (q - y)p(y)\,dy + \int_{q}^{\infty} (y - q)p(y)\,dy\bigr) = 2F(q) - 1$"
            r" by the Leibniz rule, with $\int_{-\infty}^{q} p(y)\,dy = F(q)$")


def steps(options: dict) -> list[ProofStep]:
    return [
        ProofStep("assumptions", r"$Y \mid X = x$ is continuous with density $p$ and distribution function $F$, $\mathbb{E}\{|Y| \mid X = x\} < \infty$.",
                  "the hypotheses", "assumption"),
        pointwise_step(r"|Y - {}|"),
        ProofStep("risk as integrals", r"$r_x(q) = \int_{-\infty}^{q} (q - y)p(y)\,dy + \int_q^\infty (y - q)p(y)\,dy$.",
                  "$|y - q|$ on each side of $q$", "cited"),
        ProofStep("first derivative", r"$r_x'(q) = F(q) - \{1 - F(q)\} = 2F(q) - 1$.", "Leibniz rule", "sympy", _derivative),
        ProofStep("first-order condition", r"$r_x'' = 2p \ge 0$, so the minimum is where $F(f^*(x) \mid x) = \frac12$: the conditional median.",
                  "convexity", "cited"),
        minimizer_matches(lambda u: abs(u), "median", lambda quant, mean: quant(0.5)),
    ]


THEOREM = Theorem(
    "median_minimizer", "Population minimizer of the absolute loss",
    r"$f^* = \arg\min_f \mathbb{E}|Y - f(X)|$ is the conditional median: $F(f^*(x) \mid x) = \frac12$.",
    steps, lambda o: sp.Eq(Fc(q), sp.Rational(1, 2)))
