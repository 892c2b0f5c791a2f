"""Kind ``proof``: proofs as data, every algebraic step checked.

A proof is a list of :class:`ProofStep`: a claim (LaTeX), its justification, and how it is
checked: ``sympy`` (an identity or inequality SymPy verifies), ``numeric`` (the claim tested
on concrete instances), ``assumption`` or ``cited`` (a named standard fact). Each theorem
lives in its own module and registers a :class:`Theorem`. The problem is ``verified`` only
when every ``sympy`` and ``numeric`` step passed; a failed step stops the build with a
message naming it.
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from dataclasses import dataclass
from typing import Callable

import sympy as sp

from ...errors import VerificationFailed
from ...spec import Fields, Problem
from ...verify import symbolic_zero
from ..steps import Answer, Solution

CHECKS = ("sympy", "numeric", "assumption", "cited")
THEOREMS = {
    "descent_lemma": "descent_lemma",
    "gd_smooth_rate": "gd_smooth_rate",
    "gd_convex_rate": "gd_convex_rate",
    "gd_strongly_convex_rate": "gd_strongly_convex_rate",
    "quantile_minimizer": "quantile_minimizer",
    "median_minimizer": "median_minimizer",
    "mean_minimizer": "mean_minimizer",
}


class StepFailed(Exception):
    """Raised by a step's check with what did not hold."""


@dataclass(frozen=True)
class ProofStep:
    """One step: ``claim`` (LaTeX) because ``why``; ``run`` checks it for sympy/numeric steps."""

    name: str
    claim: str
    why: str
    check: str
    run: Callable[[], str] | None = None


@dataclass(frozen=True)
class CheckedStep:
    step: ProofStep
    detail: str  # what was checked (LaTeX, in mathematics: the identity, or the instances)


@dataclass(frozen=True)
class Theorem:
    name: str
    title: str
    statement: str | Callable[[dict], str]  # LaTeX; a function of the options when they change it
    steps: Callable[[dict], list[ProofStep]]
    conclusion: Callable[[dict], sp.Basic]

    def stated(self, options: dict) -> str:
        """The statement for these options (a step η instead of 1/L changes the bound)."""
        return self.statement(options) if callable(self.statement) else self.statement


@dataclass(frozen=True)
class ProofSpec:
    theorem: str
    options: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True)
class ProofSolution:
    theorem: Theorem
    steps: tuple[CheckedStep, ...]
    verified: bool
    statement: str = ""   # the theorem as stated for the problem's options


def math(expr: sp.Basic, names: dict | None = None) -> str:
    """``expr`` typeset by the key's printer, symbols renamed to the question's notation."""
    from ...render import tex
    return tex(expr, names=names)


def identity(lhs: sp.Expr, rhs: sp.Expr, what: str = "", names: dict | None = None) -> Callable[[], str]:
    """A symbolic check: lhs − rhs simplifies to 0. The detail states the identity (LaTeX):
    ``what`` when the printed sides would hide the algebra, else lhs = rhs as printed."""
    def run() -> str:
        if not symbolic_zero(sp.expand(lhs - rhs)):
            raise StepFailed(f"{sp.sstr(lhs)} ≠ {sp.sstr(rhs)}")
        return what or f"${math(lhs, names)} = {math(rhs, names)}$"
    return run


def nonnegative(expr: sp.Expr, what: str = "", names: dict | None = None) -> Callable[[], str]:
    """A symbolic check: expr ≥ 0 under the symbols' assumptions."""
    def run() -> str:
        value = sp.simplify(expr)
        if value.is_nonnegative is not True:
            raise StepFailed(f"cannot show {sp.sstr(value)} ≥ 0")
        return what or f"${math(value, names)} \\ge 0$"
    return run


def chained(lines: list[tuple[str, str | None]], what: str, *, symbols: dict | None = None,
            given: dict | None = None, sequences: dict | None = None) -> Callable[[], str]:
    """A step checked as a written chain (:mod:`.chain`): ``lines`` are (relation, by) in the
    safe parser's syntax, under ``symbols`` (name → assumption), ``given`` hypotheses and
    ``sequences``; every line must be derived by SymPy. ``what`` is the detail shown (LaTeX)."""
    def run() -> str:
        from .chain import check_chain
        result = check_chain([line for line, _ in lines], by=[b for _, b in lines],
                             symbols=symbols, given=given, sequences=sequences)
        bad = result.failed or next((v for v in result.verdicts if v.status == "cited"
                                     and v.step.number == len(lines)), None)
        if bad is not None:
            raise StepFailed(f"line {bad.step.number} does not follow: {bad.reason} {bad.counterexample}".strip())
        return what
    return run


def descent_step() -> ProofStep:
    """f(θᵏ⁺¹) ≤ f(θᵏ) − ‖∇f(θᵏ)‖²/(2L): the descent lemma with step 1/L, shared by the rates."""
    return ProofStep("descent", r"$f(\theta^{k+1}) \le f(\theta^k) - \frac{1}{2L}\|\nabla f(\theta^k)\|^2$, "
                     r"so $f(\theta^k)$ is nonincreasing.",
                     "descent lemma with the step $1/L$, $G = \\|\\nabla f(\\theta^k)\\|^2$", "sympy",
                     chained([("f_k - G/L + L/2*G/L**2", None), ("= f_k - G/(2*L)", "algebra")],
                             r"$f(\theta^k) - \frac{1}{L}\,G + \frac{L}{2} \cdot \frac{1}{L^2}\,G = f(\theta^k) - \frac{G}{2L}$",
                             symbols={"L": "positive", "G": "nonnegative"}))


def theorem(name: str) -> Theorem:
    return importlib.import_module(f"{__name__}.{THEOREMS[name]}").THEOREM


def parse(problem: Problem) -> ProofSpec:
    if "steps" in problem.fields or "claim" in problem.fields:
        from . import written   # a proof written in the file, step by step
        return written.parse(problem)
    f = Fields(problem, {"theorem", "step", "tau"})
    if "theorem" not in problem.fields:
        raise f.error("theorem", "required field is missing (or write the proof: claim, given, steps)")
    name = f.get("theorem", str, required=True)
    if name not in THEOREMS:
        raise f.error("theorem", f"unknown theorem {name!r} (known: {', '.join(sorted(THEOREMS))})")
    options = []
    if "step" in problem.fields:
        if name != "gd_smooth_rate":
            raise f.error("step", "only gd_smooth_rate takes a step size")
        step = f.get("step", str)
        if step not in ("1/L", "eta"):
            raise f.error("step", "use \"1/L\" or \"eta\" (a general step 0 < η ≤ 1/L)")
        options.append(("step", step))
    if "tau" in problem.fields:
        if name != "quantile_minimizer":
            raise f.error("tau", "only quantile_minimizer takes tau")
        raw = problem.fields["tau"]
        try:
            if isinstance(raw, bool) or not isinstance(raw, (int, float, Decimal, str)):
                raise ValueError
            tau = sp.Rational(str(raw).strip())
        except (ValueError, TypeError, sp.SympifyError):
            raise f.error("tau", f"expected a number between 0 and 1 such as 0.9, got {raw!r}") from None
        if not 0 < tau < 1:
            raise f.error("tau", f"the quantile level must be between 0 and 1 (exclusive), got {raw}")
        options.append(("tau", tau))
    return ProofSpec(name, tuple(options))


def check_proof(problem_id: str, steps: list[ProofStep]) -> list[CheckedStep]:
    """Run every sympy and numeric check; the first failure raises, naming its step."""
    out = []
    for number, step in enumerate(steps, start=1):
        if step.check not in CHECKS:
            raise VerificationFailed(problem_id, f"step {number} ({step.name})",
                                     f"unknown check kind {step.check!r}")
        detail = ""
        if step.check in ("sympy", "numeric"):
            if step.run is None:
                raise VerificationFailed(problem_id, f"step {number} ({step.name})", "nothing to check")
            try:
                detail = step.run()
            except StepFailed as exc:
                raise VerificationFailed(problem_id, f"step {number} ({step.name})", str(exc)) from None
        out.append(CheckedStep(step, detail))
    return out


def solve(problem: Problem) -> Solution:
    if not isinstance(problem.spec, ProofSpec):
        from . import written
        return written.solve(problem)
    spec: ProofSpec = problem.spec
    thm = theorem(spec.theorem)
    options = dict(spec.options)
    checked = check_proof(problem.id, thm.steps(options))
    verified = all(c.step.check not in ("sympy", "numeric") or c.detail for c in checked)
    body = ProofSolution(thm, tuple(checked), verified, thm.stated(options))
    answers = (Answer("conclusion", thm.conclusion(options)),)
    return Solution(problem, answers, body, ("proof steps: identities checked symbolically, claims tested on instances",),
                    verified=verified)
