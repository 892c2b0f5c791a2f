"""Gradient descent with step 1/L on a convex L-smooth f: f(θᵀ) − f* ≤ L‖θ⁰ − θ*‖²/(2T)."""

from __future__ import annotations

import random

import sympy as sp

from . import ProofStep, StepFailed, Theorem, descent_step
from ._instances import distance_sq, quadratic, run_gd

L = sp.Symbol("L", positive=True)
T = sp.Symbol("T", integer=True, positive=True)
k = sp.Symbol("k", integer=True, nonnegative=True)
R = sp.IndexedBase("r")  # r_k = ‖θᵏ − θ*‖²
a = sp.symbols("a1:4", real=True)   # θᵏ − θ*, in three coordinates
g = sp.symbols("g1:4", real=True)   # ∇f(θᵏ)


def _three_point() -> str:
    dot = sum(x * y for x, y in zip(g, a))
    sq = lambda v: sum(x * x for x in v)  # noqa: E731
    lhs = dot - sq(g) / (2 * L)
    rhs = L / 2 * (sq(a) - sq([x - y / L for x, y in zip(a, g)]))
    if sp.expand(lhs - rhs) != 0:
        raise StepFailed("the three-point identity fails")
    return (r"$g^\top a - \frac{1}{2L}\|g\|^2 = \frac{L}{2}\left(\|a\|^2 - \|a - \tfrac{1}{L} g\|^2\right)$ "
            r"for $a = \theta^k - \theta^*$, $g = \nabla f(\theta^k)$, coordinate by coordinate in $\mathbb{R}^3$")


def _telescoping() -> str:
    total = sp.Sum(R[k] - R[k + 1], (k, 0, T - 1)).doit()
    if sp.simplify(total - (R[0] - R[T])) != 0:
        raise StepFailed(f"the sum is {total}")
    return (r"$\sum_{k=0}^{T-1} \left(r_k - r_{k+1}\right) = r_0 - r_T$ for every $T \ge 1$, "
            r"with $r_k = \|\theta^k - \theta^*\|^2$")


def _instances() -> str:
    rng = random.Random(3)
    for case in range(30):
        f, grad, mu, Lc, star, fstar = quadratic(rng)
        steps = rng.randint(1, 40)
        theta0 = [rng.uniform(-3, 3) for _ in star]
        path = run_gd(grad, theta0, Lc, steps)
        lhs = f(path[-1]) - fstar
        rhs = Lc * distance_sq(theta0, star) / (2 * steps)
        if lhs > rhs * (1 + 1e-9) + 1e-12:
            raise StepFailed(f"instance {case}: {lhs} > {rhs}")
    return r"gradient descent with step $1/L$ on 30 random convex quadratics: the bound held every time"


def steps(options: dict) -> list[ProofStep]:
    return [
        ProofStep("assumptions", r"$f$ is convex and $L$-smooth with a minimizer $\theta^*$, $f^* = f(\theta^*)$; "
                  r"$\theta^{k+1} = \theta^k - \frac1L \nabla f(\theta^k)$.", "the hypotheses", "assumption"),
        descent_step(),
        ProofStep("convexity", r"$f(\theta^k) \le f^* + \nabla f(\theta^k)^\top(\theta^k - \theta^*)$.",
                  "first-order characterization of convexity", "cited"),
        ProofStep("three-point identity",
                  r"$f(\theta^{k+1}) - f^* \le \nabla f(\theta^k)^\top(\theta^k - \theta^*) - \frac{1}{2L}\|\nabla f(\theta^k)\|^2"
                  r" = \frac{L}{2}\left(\|\theta^k - \theta^*\|^2 - \|\theta^{k+1} - \theta^*\|^2\right)$.",
                  r"the two previous lines, and $\theta^{k+1} - \theta^* = (\theta^k - \theta^*) - \frac1L\nabla f(\theta^k)$",
                  "sympy", _three_point),
        ProofStep("sum", r"$\sum_{k=0}^{T-1} \left(f(\theta^{k+1}) - f^*\right) \le \frac{L}{2}\left(\|\theta^0 - \theta^*\|^2 - \|\theta^T - \theta^*\|^2\right) \le \frac{L}{2}\|\theta^0 - \theta^*\|^2$.",
                  "the right-hand sides telescope", "sympy", _telescoping),
        ProofStep("monotonicity", r"$T\left(f(\theta^T) - f^*\right) \le \sum_{k=1}^{T} \left(f(\theta^k) - f^*\right)$, hence "
                  r"$f(\theta^T) - f^* \le \frac{L\|\theta^0 - \theta^*\|^2}{2T}$.",
                  "$f(\\theta^T)$ is the smallest of the $T$ terms", "cited"),
        ProofStep("instances", "The bound holds for gradient descent run on random convex quadratics.",
                  "a test of the claim, not part of the argument", "numeric", _instances),
    ]


THEOREM = Theorem(
    "gd_convex_rate", "Gradient descent on convex smooth functions",
    r"If $f$ is convex and $L$-smooth with minimizer $\theta^*$, gradient descent with step $1/L$ satisfies "
    r"$f(\theta^T) - f(\theta^*) \le \frac{L\|\theta^0 - \theta^*\|^2}{2T}$.",
    steps, lambda o: L * sp.Symbol("D0", nonnegative=True) / (2 * T))
