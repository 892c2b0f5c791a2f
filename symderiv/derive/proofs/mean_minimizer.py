"""The population minimizer of the squared loss is the conditional mean."""

from __future__ import annotations

import sympy as sp

from . import ProofStep, StepFailed, Theorem
from ._minimizer import minimizer_matches, p, pointwise_step, q, y

MU = sp.Symbol("mu", real=True)


def _derivative() -> str:
    d = sp.diff(sp.Integral((y - q) ** 2 * p(y), (y, -sp.oo, sp.oo)), q)
    if not isinstance(d, sp.Integral):
        raise StepFailed(f"unexpected derivative {d}")
    total = sp.S.Zero
    for term in sp.Add.make_args(sp.expand(d.function)):  # the integral is linear
        coeff, rest = term.as_independent(y)
        if rest == p(y):
            total += coeff                     # ∫ p = 1
        elif rest == y * p(y):
            total += coeff * MU                # ∫ y p = μ
        else:
            raise StepFailed(f"unexpected term {term}")
    if sp.simplify(total - 2 * (q - MU)) != 0:
        raise StepFailed(f"d r/dq = {total}, not 2(q − μ)")
    return (r"$\frac{d}{dq}\int (y - q)^2 p(y)\,dy = \int 2(q - y)\,p(y)\,dy = 2(q - \mu)$, "
            r"using $\int p(y)\,dy = 1$ and $\int y\,p(y)\,dy = \mu$")


def steps(options: dict) -> list[ProofStep]:
    return [
        ProofStep("assumptions", r"$\mathbb{E}\{Y^2 \mid X = x\} < \infty$; write $\mu(x) = \mathbb{E}\{Y \mid X = x\}$.",
                  "the hypotheses", "assumption"),
        pointwise_step(r"\left(Y - {}\right)^2"),
        ProofStep("first derivative", r"$r_x(q) = \int (y - q)^2 p(y \mid x)\,dy$ has $r_x'(q) = 2\{q - \mu(x)\}$.",
                  "differentiation under the integral sign", "sympy", _derivative),
        ProofStep("first-order condition", r"$r_x'' = 2 > 0$, so the minimum is at $f^*(x) = \mu(x) = \mathbb{E}\{Y \mid X = x\}$.",
                  "convexity", "cited"),
        minimizer_matches(lambda u: u * u, "mean", lambda quant, mean: mean),
    ]


THEOREM = Theorem(
    "mean_minimizer", "Population minimizer of the squared loss",
    r"$f^* = \arg\min_f \mathbb{E}\{(Y - f(X))^2\}$ is the conditional mean $f^*(x) = \mathbb{E}\{Y \mid X = x\}$.",
    steps, lambda o: sp.Eq(q, MU))
