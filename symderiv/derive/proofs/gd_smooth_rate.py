"""Gradient descent with step 1/L on an L-smooth f ≥ f̄: min_{1≤k≤T} ‖∇f(θᵏ)‖² ≤ 2L(f(θ⁰) − f̄)/T."""

from __future__ import annotations

import random

import sympy as sp

from . import ProofStep, StepFailed, Theorem, chained
from ._instances import logistic, quadratic, run_gd

L, eta = sp.symbols("L eta", positive=True)
f0, fbar = sp.symbols("f_0 fbar", real=True)
T = sp.Symbol("T", integer=True, positive=True)


# the question's quantities as the chain checker reads them: f(k) = f(θᵏ), G(k) = ‖∇f(θᵏ)‖²
SEQUENCES = {"f": "real", "G": "nonnegative"}
SYMBOLS = {"L": "positive", "eta": "positive", "T": "positive"}


def _chain(lines, what, given=None):
    return chained(lines, what, symbols=SYMBOLS, given=given, sequences=SEQUENCES)


def _telescoping(bound: str):
    return chained([("G(k) <= %s*(f(k) - f(k+1))" % bound, "cited the line before"),
                    ("=> sum(G(k), k, 1, T) <= %s*(f(1) - f(T+1))" % bound, "sum k=1..T")],
                   r"$\sum_{k=1}^{T} \left(f(\theta^k) - f(\theta^{k+1})\right) = f(\theta^1) - f(\theta^{T+1})$"
                   r" for every $T \ge 1$", symbols=SYMBOLS, sequences=SEQUENCES)


def _instances(general: bool):
    def run() -> str:
        """GD with step 1/L (or any η in (0, 1/L]) on random quadratics and logistic losses
        never breaks the bound 2L(f(θ⁰) − f̄)/T (or 2(f(θ⁰) − f̄)/(ηT))."""
        rng = random.Random(7)
        for case in range(40):
            T_steps = rng.randint(1, 30)
            if case % 2 == 0:
                f, grad, _, L_const, star, fb = quadratic(rng)  # f̄ = min f = 0
            else:
                f, grad, L_const = logistic(rng)                 # the true constant is at most L
                star, fb = [0.0, 0.0], 0.0                       # the logistic loss is positive
            step = rng.uniform(0.05, 1.0) / L_const if general else 1 / L_const
            path = run_gd(grad, [rng.uniform(-3, 3) for _ in star], L_const, T_steps, step)
            norms = [sum(v * v for v in grad(theta)) for theta in path]
            lhs = min(norms[1:T_steps + 1])
            rhs = 2 * (f(path[0]) - fb) / (step * T_steps)
            if lhs > rhs * (1 + 1e-9) + 1e-12:
                raise StepFailed(f"instance {case}: {lhs} > {rhs}")
        which = r"steps $\eta$ drawn from $(0, 1/L]$" if general else r"step $1/L$"
        return (rf"gradient descent with {which} on 20 random quadratics and 20 logistic regressions, "
                r"$1 \le T \le 30$: the bound held every time")
    return run


def steps(options: dict) -> list[ProofStep]:
    general = options.get("step") == "eta"
    step_text = r"\eta" if general else r"\frac{1}{L}"
    out = [
        ProofStep("assumptions",
                  r"$f$ is $L$-smooth, $f(\theta) \ge \bar f$ for all $\theta$, and "
                  rf"$\theta^{{k+1}} = \theta^k - {step_text}\nabla f(\theta^k)$"
                  + (r" with $0 < \eta \le 1/L$" if general else "") + ".",
                  "the hypotheses", "assumption"),
        ProofStep("descent lemma",
                  r"$f(\theta^{k+1}) \le f(\theta^k) + \nabla f(\theta^k)^\top(\theta^{k+1} - \theta^k) + \frac{L}{2}\|\theta^{k+1} - \theta^k\|^2$.",
                  "Lemma 3.1 (descent lemma) at step $k$", "cited"),
        ProofStep("substitute the step",
                  rf"With $\theta^{{k+1}} - \theta^k = -{step_text}\nabla f(\theta^k)$ and $G_k = \|\nabla f(\theta^k)\|^2$: "
                  rf"$f(\theta^{{k+1}}) \le f(\theta^k) - {step_text} G_k + \frac{{L}}{{2}}\left({step_text}\right)^2 G_k"
                  + (r" = f(\theta^k) - \eta\left(1 - \frac{L\eta}{2}\right) G_k \le f(\theta^k) - \frac{\eta}{2} G_k$."
                     if general else r" = f(\theta^k) - \frac{G_k}{2L}$."),
                  "$\\nabla f^\\top(-s\\nabla f) = -sG_k$ and $\\|s\\nabla f\\|^2 = s^2 G_k$", "sympy",
                  _chain([("f(k) - %s*G(k) + L/2*(%s)**2*G(k)" % ((("eta",) * 2) if general else (("1/L",) * 2)), None),
                           ("= f(k) - eta*(1 - L*eta/2)*G(k)" if general else "= f(k) - G(k)/(2*L)", "algebra")],
                           (r"$f(\theta^k) - \eta G_k + \frac{L}{2}\eta^2 G_k = f(\theta^k) - \eta\left(1 - \frac{L\eta}{2}\right) G_k$"
                            if general else
                            r"$f(\theta^k) - \frac{1}{L} G_k + \frac{L}{2} \cdot \frac{1}{L^2} G_k = f(\theta^k) - \frac{G_k}{2L}$"))),
    ]
    if general:
        out.append(ProofStep("use eta <= 1/L", r"$1 - \frac{L\eta}{2} \ge \frac12$ because $L\eta \le 1$.",
                             r"with $L\eta = 1 - \epsilon$, $\epsilon \ge 0$", "sympy",
                             _chain([("1 - L*eta/2 >= 1/2", "hyp small")],
                                     r"$1 - \frac{1 - \epsilon}{2} - \frac12 = \frac{\epsilon}{2} \ge 0$",
                                     given={"small": "L*eta <= 1"})))
    half = (r"\frac{\eta}{2}" if general else r"\frac{1}{2L}")
    bound_tex = r"\frac{2}{\eta}" if general else "2L"
    out += [
        ProofStep("rearrange", rf"$G_k \le {bound_tex}\left(f(\theta^k) - f(\theta^{{k+1}})\right)$ for every $k \ge 0$.",
                  rf"multiply $f(\theta^{{k+1}}) \le f(\theta^k) - {half} G_k$ by ${bound_tex} > 0$", "sympy",
                  _chain([("f(k+1) <= f(k) - %s*G(k)" % ("eta/2" if general else "1/(2*L)"), "cited the line before"),
                           ("<=> G(k) <= %s*(f(k) - f(k+1))" % ("2/eta" if general else "2*L"), "algebra")],
                           (r"$\frac{2}{\eta}\left(f(\theta^k) - f(\theta^{k+1})\right) - G_k = \frac{2}{\eta}\left(f(\theta^k) - \frac{\eta}{2} G_k - f(\theta^{k+1})\right)$"
                            if general else
                            r"$2L\left(f(\theta^k) - f(\theta^{k+1})\right) - G_k = 2L\left(f(\theta^k) - \frac{G_k}{2L} - f(\theta^{k+1})\right)$"))),
        ProofStep("first step decreases", r"$f(\theta^1) \le f(\theta^0) - " + half + r" G_0 \le f(\theta^0)$.",
                  "the inequality above at $k = 0$, and $G_0 \\ge 0$", "sympy",
                  _chain([("f(0) - %s*G(0)" % ("eta/2" if general else "1/(2*L)"), None), ("<= f(0)", "algebra")],
                              r"$\frac{\eta}{2} G_0 \ge 0$" if general else r"$\frac{G_0}{2L} \ge 0$")),
        ProofStep("sum over k = 1..T",
                  rf"$\sum_{{k=1}}^{{T}} G_k \le {bound_tex} \sum_{{k=1}}^{{T}} \left(f(\theta^k) - f(\theta^{{k+1}})\right) = {bound_tex}\left(f(\theta^1) - f(\theta^{{T+1}})\right)$, "
                  r"where $\theta^{T+1}$ is one more gradient step (used only in the argument).",
                  "the sum telescopes", "sympy", _telescoping("2/eta" if general else "2*L")),
        ProofStep("lower bound",
                  rf"${bound_tex}\left(f(\theta^1) - f(\theta^{{T+1}})\right) \le {bound_tex}\left(f(\theta^0) - \bar f\right)$.",
                  r"$f(\theta^1) \le f(\theta^0)$ and $f(\theta^{T+1}) \ge \bar f$", "sympy",
                  _chain([("%s*(f(1) - f(T+1)) <= %s*(f(0) - fbar)" % ((("2/eta",) * 2) if general else (("2*L",) * 2)),
                            "hyp first, bounded")],
                              rf"with $f(\theta^1) = f(\theta^0) - d$ and $f(\theta^{{T+1}}) = \bar f + g$, $d, g \ge 0$: "
                              rf"${bound_tex}\bigl(f(\theta^0) - \bar f\bigr) - {bound_tex}\bigl(f(\theta^1) - f(\theta^{{T+1}})\bigr)"
                              rf" = {bound_tex}\,(d + g) \ge 0$",
                         given={"first": "f(1) <= f(0)", "bounded": "f(T+1) >= fbar"})),
        ProofStep("minimum at most the mean",
                  rf"$\min_{{1 \le k \le T}} G_k \le \frac{{1}}{{T}}\sum_{{k=1}}^{{T}} G_k \le \frac{{{bound_tex}\left(f(\theta^0) - \bar f\right)}}{{T}}$.",
                  "the minimum of $T$ numbers is at most their mean", "sympy",
                  _chain([("minimum(G(k), k, 1, T) <= sum(G(k), k, 1, T)/T", "mean >= min"),
                          ("=> minimum(G(k), k, 1, T) <= %s*(f(0) - fbar)/T" % ("2/eta" if general else "2*L"),
                           "hyp summed")],
                         rf"$\min_{{1 \le k \le T}} G_k \le \frac{{1}}{{T}}\sum_{{k=1}}^{{T}} G_k$, and "
                         rf"$\sum_{{k=1}}^{{T}} G_k \le {bound_tex}\left(f(\theta^0) - \bar f\right)$ divided by $T > 0$",
                         given={"summed": "sum(G(k), k, 1, T) <= %s*(f(0) - fbar)" % ("2/eta" if general else "2*L")})),
        ProofStep("instances", "The bound holds for gradient descent run on random instances.",
                  "a test of the claim, not part of the argument", "numeric", _instances(general)),
    ]
    return out


def _statement(options: dict) -> str:
    if options.get("step") == "eta":
        return (r"Let $f$ be $L$-smooth with $f(\theta) \ge \bar f > -\infty$, and $\theta^{k+1} = \theta^k - \eta\nabla f(\theta^k)$ "
                r"for $k = 0, 1, \dots$ with $0 < \eta \le 1/L$. Then "
                r"$\displaystyle\min_{1 \le k \le T} \|\nabla f(\theta^k)\|^2 \le \frac{2\{f(\theta^0) - \bar f\}}{\eta T}$.")
    return (r"Let $f$ be $L$-smooth with $f(\theta) \ge \bar f > -\infty$, and $\theta^{k+1} = \theta^k - \frac{1}{L}\nabla f(\theta^k)$ "
            r"for $k = 0, 1, \dots$. Then $\displaystyle\min_{1 \le k \le T} \|\nabla f(\theta^k)\|^2 \le \frac{2L\{f(\theta^0) - \bar f\}}{T}$.")


THEOREM = Theorem(
    "gd_smooth_rate", "Gradient descent on smooth functions",
    _statement,
    steps, lambda o: (2 / eta if o.get("step") == "eta" else 2 * L) * (f0 - fbar) / T)
