"""Shared pieces of the population-minimizer proofs: the pointwise reduction and the
numeric test that the risk minimizer equals the claimed statistic for concrete laws."""

from __future__ import annotations

import mpmath
import sympy as sp

from . import ProofStep, StepFailed

q, y = sp.symbols("q y", real=True)
p = sp.Function("p")       # conditional density of Y given X = x
Fc = sp.Function("F")      # its distribution function

DISTRIBUTIONS = {
    # name: (density, cdf, quantile, mean, support)
    "exponential(1)": (lambda t: mpmath.exp(-t) if t >= 0 else 0, lambda t: 1 - mpmath.exp(-t) if t >= 0 else 0,
                       lambda u: -mpmath.log(1 - u), 1, (0, mpmath.inf)),
    "uniform(0, 1)": (lambda t: 1 if 0 <= t <= 1 else 0, lambda t: min(max(t, 0), 1),
                      lambda u: u, mpmath.mpf(1) / 2, (0, 1)),
    "normal(0, 1)": (lambda t: mpmath.npdf(t), lambda t: mpmath.ncdf(t),
                     lambda u: mpmath.sqrt(2) * mpmath.erfinv(2 * u - 1), 0, (-mpmath.inf, mpmath.inf)),
}


def risk_derivative(risk: sp.Expr) -> sp.Expr:
    """d/dq of a risk written as integrals of p(y) over (−∞, q) and (q, ∞), in F(q): SymPy's
    Leibniz rule, constants taken out of the integrals, the integrals of p named F(q), 1 − F(q)."""
    def pulled(e: sp.Integral) -> sp.Expr:
        const, rest = e.function.as_independent(y, as_Add=False)
        return const * sp.Integral(rest, *e.limits)
    d = sp.diff(risk, q).replace(lambda e: isinstance(e, sp.Integral), pulled)
    return sp.expand(d.subs({sp.Integral(p(y), (y, -sp.oo, q)): Fc(q),
                             sp.Integral(p(y), (y, q, sp.oo)): 1 - Fc(q)}))


def pointwise_step(loss: str) -> ProofStep:
    """``loss``: the question's loss as LaTeX with ``{}`` where the prediction goes (ρ_τ(Y − {}))."""
    at_f, at_q = loss.replace("{}", "f(X)"), loss.replace("{}", "q")
    return ProofStep(
        "pointwise",
        rf"$\mathcal{{R}}(f) = \mathbb{{E}}_X\big[\,\mathbb{{E}}\{{{at_f} \mid X\}}\big]$, so a function with "
        rf"$f^*(x) \in \arg\min_q r_x(q)$, $r_x(q) = \mathbb{{E}}\{{{at_q} \mid X = x\}}$, for every $x$ minimizes $\mathcal{{R}}$.",
        "tower property; the integrand is minimized at every $x$, so the integral is minimized",
        "cited")


def minimizer_matches(risk_integrand, statistic_name: str, statistic) -> ProofStep:
    """Numeric: at the claimed statistic t of each law, r(q) = ∫ ρ(y − q) p(y) dy is stationary
    (central difference ≈ 0) and lower than at t ± δ. Independent of the proof's algebra, and
    five quadratures a law instead of a golden-section search (r is convex, so a stationary
    local minimum is the minimum)."""
    def run() -> str:
        mpmath.mp.dps = 15
        for name, (pdf, cdf, quant, mean, support) in DISTRIBUTIONS.items():
            target = mpmath.mpf(statistic(quant, mean))

            def risk(qv):
                lo, hi = support
                points = [lo, qv, hi] if lo < qv < hi else [lo, hi]
                return mpmath.quad(lambda t: risk_integrand(t - qv) * pdf(t), points)

            h = mpmath.mpf("1e-4")
            at = risk(target)
            slope = (risk(target + h) - risk(target - h)) / (2 * h)
            if abs(slope) > 1e-6:
                raise StepFailed(f"for {name} the risk's slope at the {statistic_name} "
                                 f"{float(target):.6f} is {float(slope):.2e}, not 0")
            for delta in (mpmath.mpf("0.05"), -mpmath.mpf("0.05")):
                if not at < risk(target + delta):
                    raise StepFailed(f"for {name} the risk is lower at {float(target + delta):.6f} "
                                     f"than at the {statistic_name} {float(target):.6f}")
        return ("the risk minimized numerically for the laws " + ", ".join(DISTRIBUTIONS) +
                f": the minimizer is the {statistic_name} each time")
    return ProofStep("instances", rf"For exponential, uniform and normal laws of $Y \mid X = x$ the minimizer of $r_x$ is the {statistic_name}.",
                     "a test of the claim, not part of the argument", "numeric", run)
