"""Gradient descent with step 1/L on a μ-strongly convex L-smooth f: linear rate (1 − μ/L)ᵏ."""

from __future__ import annotations

import random

import sympy as sp

from . import ProofStep, StepFailed, Theorem, descent_step, nonnegative
from ._instances import quadratic, run_gd

L, mu = sp.symbols("L mu", positive=True)
k = sp.Symbol("k", integer=True, nonnegative=True)


def _pl() -> str:
    g, t = sp.symbols("g t", real=True)
    inner = g * t + mu / 2 * t ** 2
    t_star = sp.solve(sp.diff(inner, t), t)[0]
    if sp.simplify(inner.subs(t, t_star) + g ** 2 / (2 * mu)) != 0:
        raise StepFailed("the minimum of gt + μt²/2 is not −g²/(2μ)")
    return r"$\min_t \left(g t + \frac{\mu}{2} t^2\right) = -\frac{g^2}{2\mu}$, attained at $t = -g/\mu$ (coordinate by coordinate)"


def _induction() -> str:
    r = sp.Function("r")
    q = 1 - mu / L
    sol = sp.rsolve(r(k + 1) - q * r(k), r(k), {r(0): sp.Symbol("r0")})
    if sp.simplify(sol - q ** k * sp.Symbol("r0")) != 0:
        raise StepFailed(f"rsolve gives {sol}")
    return r"the recurrence $r_{k+1} = \left(1 - \frac{\mu}{L}\right) r_k$ has the solution $r_k = \left(1 - \frac{\mu}{L}\right)^k r_0$"


def _instances() -> str:
    rng = random.Random(5)
    for case in range(30):
        f, grad, m, Lc, star, fstar = quadratic(rng)
        steps = rng.randint(1, 40)
        path = run_gd(grad, [rng.uniform(-3, 3) for _ in star], Lc, steps)
        for j, theta in enumerate(path):
            bound = (1 - m / Lc) ** j * (f(path[0]) - fstar)
            if f(theta) - fstar > bound * (1 + 1e-9) + 1e-12:
                raise StepFailed(f"instance {case}, k = {j}: {f(theta) - fstar} > {bound}")
    return (r"gradient descent with step $1/L$ on 30 random strongly convex quadratics "
            r"($\mu$, $L$ their extreme curvatures): the rate held at every step")


def steps(options: dict) -> list[ProofStep]:
    D = sp.Symbol("D", nonnegative=True)   # f(θᵏ) − f*
    s = sp.Symbol("s", nonnegative=True)   # G − 2μD ≥ 0
    return [
        ProofStep("assumptions", r"$f$ is $\mu$-strongly convex and $L$-smooth, $f^* = \min f$; "
                  r"$\theta^{k+1} = \theta^k - \frac1L\nabla f(\theta^k)$.", "the hypotheses", "assumption"),
        descent_step(),
        ProofStep("Polyak-Lojasiewicz", r"$\|\nabla f(\theta)\|^2 \ge 2\mu\left(f(\theta) - f^*\right)$.",
                  r"minimize both sides of $f(y) \ge f(\theta) + \nabla f(\theta)^\top(y - \theta) + \frac{\mu}{2}\|y - \theta\|^2$ over $y$",
                  "sympy", _pl),
        ProofStep("contraction", r"$f(\theta^{k+1}) - f^* \le \left(1 - \frac{\mu}{L}\right)\left(f(\theta^k) - f^*\right)$.",
                  r"insert $\|\nabla f(\theta^k)\|^2 = 2\mu(f(\theta^k) - f^*) + s$, $s \ge 0$, in the descent step", "sympy",
                  nonnegative((1 - mu / L) * D - (D - (2 * mu * D + s) / (2 * L)),
                              r"with $D = f(\theta^k) - f^*$: $\left(1 - \frac{\mu}{L}\right) D - \left(D - \frac{2\mu D + s}{2L}\right) = \frac{s}{2L} \ge 0$")),
        ProofStep("induction", r"$f(\theta^k) - f^* \le \left(1 - \frac{\mu}{L}\right)^k \left(f(\theta^0) - f^*\right)$.",
                  "apply the contraction $k$ times", "sympy", _induction),
        ProofStep("instances", "The rate holds for gradient descent run on random strongly convex quadratics.",
                  "a test of the claim, not part of the argument", "numeric", _instances),
    ]


THEOREM = Theorem(
    "gd_strongly_convex_rate", "Gradient descent on strongly convex smooth functions",
    r"If $f$ is $\mu$-strongly convex and $L$-smooth, gradient descent with step $1/L$ satisfies "
    r"$f(\theta^k) - f^* \le \left(1 - \frac{\mu}{L}\right)^k \left(f(\theta^0) - f^*\right)$.",
    steps, lambda o: (1 - mu / L) ** k * sp.Symbol("D0", nonnegative=True))
