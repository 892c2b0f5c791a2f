"""The population minimizer of the check loss ρ_τ is the conditional τ-quantile."""

from __future__ import annotations

import sympy as sp

from . import ProofStep, StepFailed, Theorem, chained, identity
from ._minimizer import Fc, minimizer_matches, p, pointwise_step, q, risk_derivative, y

TAU = sp.Symbol("tau", positive=True)


def _split_check_loss() -> str:
    u = sp.Symbol("u", real=True)
    rho = (TAU - sp.Heaviside(-u, 0)) * u
    for region, value in ((u < 0, (TAU - 1) * u), (u > 0, TAU * u)):
        probe = -sp.Rational(3, 7) if region == (u < 0) else sp.Rational(5, 3)
        if sp.simplify((rho - value).subs(u, probe)) != 0:
            raise StepFailed(f"ρ_τ(u) ≠ {value} for {region}")
    branches = sp.Piecewise(((TAU - 1) * u, u < 0), (TAU * u, True))
    if sp.simplify(sp.piecewise_fold(rho.rewrite(sp.Piecewise) - branches)) != 0:
        raise StepFailed("ρ_τ does not split into the two branches")
    return r"$(\tau - I(u < 0))\,u - (\tau - 1)u = 0$ for $u < 0$ and $(\tau - I(u < 0))\,u - \tau u = 0$ for $u \ge 0$"


def _risk(tau):
    return (sp.Integral((tau - 1) * (y - q) * p(y), (y, -sp.oo, q))
            + sp.Integral(tau * (y - q) * p(y), (y, q, sp.oo)))


def _first_derivative(tau):
    def run() -> str:
        d = risk_derivative(_risk(tau))
        leibniz = (1 - tau) * Fc(q) - tau * (1 - Fc(q))   # what the Leibniz rule gives, term by term
        if sp.expand(d - leibniz) != 0:
            raise StepFailed(f"d r/dq = {d}, not (1 − τ)F(q) − τ(1 − F(q))")
        # the rewrite (1 − τ)F − τ(1 − F) = F − τ, checked as a written step
        chained([("(1 - tau)*F - tau*(1 - F)", None), ("= F - tau", "algebra")], "",
                symbols={"tau": "0 < tau < 1", "F": "0 <= F <= 1"})()
        return (r"$\frac{d}{dq} r_x(q) = F(q \mid x) - \tau$ by the Leibniz rule on the two integrals, "
                r"with $\int_{-\infty}^{q} p(y \mid x)\,dy = F(q \mid x)$")
    return run


def _instances(level) -> ProofStep:
    """The numeric test at the problem's quantile level (``tau``, default 0.25)."""
    t = float(level)
    shown = f"{t:g}-quantile"
    return minimizer_matches(lambda u: (t - (1 if u < 0 else 0)) * u, shown,
                             lambda quant, mean: quant(t))


def steps(options: dict) -> list[ProofStep]:
    tau = TAU
    return [
        ProofStep("assumptions", r"$Y \mid X = x$ is continuous with density $p(\cdot \mid x)$ and distribution function "
                  r"$F(\cdot \mid x)$; $\mathbb{E}\{|Y| \mid X = x\} < \infty$; $0 < \tau < 1$.",
                  "the hypotheses", "assumption"),
        pointwise_step(r"\rho_\tau\left(Y - {}\right)"),
        ProofStep("split the loss", r"$\rho_\tau(u) = (\tau - I(u < 0))\,u$ equals $(\tau - 1)u$ for $u < 0$ and $\tau u$ for $u \ge 0$.",
                  "definition of the check loss", "sympy", _split_check_loss),
        ProofStep("risk as integrals",
                  r"$r_x(q) = \int_{-\infty}^{q} (\tau - 1)(y - q)\,p(y \mid x)\,dy + \int_{q}^{\infty} \tau (y - q)\,p(y \mid x)\,dy$, finite because $\mathbb{E}|Y| < \infty$.",
                  "$u = y - q < 0$ exactly when $y < q$", "cited"),
        ProofStep("first derivative",
                  r"$r_x'(q) = (1 - \tau)F(q \mid x) - \tau\{1 - F(q \mid x)\} = F(q \mid x) - \tau$.",
                  "Leibniz rule: the boundary terms vanish because $y - q = 0$ at $y = q$", "sympy",
                  _first_derivative(tau)),
        ProofStep("second derivative", r"$r_x''(q) = p(q \mid x) \ge 0$, so $r_x$ is convex.",
                  "a density is nonnegative", "sympy",
                  identity(sp.diff(Fc(q) - tau, q).subs(sp.Derivative(Fc(q), q), p(q)), p(q),
                           r"$\frac{d}{dq}\left(F(q \mid x) - \tau\right) = p(q \mid x)$")),
        ProofStep("first-order condition",
                  r"A convex differentiable function is minimized where its derivative vanishes: $F(f^*(x) \mid x) = \tau$, "
                  r"i.e. $f^*(x) = F^{-1}(\tau \mid x)$, the conditional $\tau$-quantile of $Y$ given $X = x$.",
                  "convexity; $F$ is continuous and nondecreasing, so the level $\\tau$ is attained", "cited"),
        _instances(options.get("tau", sp.Rational(1, 4))),
    ]


THEOREM = Theorem(
    "quantile_minimizer", "Population minimizer of the check loss",
    r"If $Y$ is continuous given $X = x$ with $\mathbb{E}\{|Y| \mid X = x\} < \infty$, then "
    r"$f^* = \arg\min_f \mathbb{E}\{\rho_\tau(Y - f(X))\}$ satisfies $F(f^*(x) \mid x) = \tau$: "
    r"$f^*(x)$ is the conditional $\tau$-quantile of $Y$ given $X = x$.",
    steps, lambda o: sp.Eq(Fc(q), TAU))
