"""A student's proof, one relation per line, checked step by step by the proofs' own chain
checker (:mod:`symderiv.derive.proofs.chain`): the answer to the label ``<problem id>/proof`` of
a ``proof`` problem.

The chain is read in the question's notation and may use the question's hypotheses: a proof
written in the problem file gives its own (``claim``, ``given``, ``sequences``, ``notation``);
a registered theorem gives them below. The verdict is ``correct`` when every line follows and
the last one gives the claim, ``incorrect`` naming the first line that does not follow (with a
counterexample) or the claim the chain does not reach, and ``not-gradable`` when a line holds
at every point tried but SymPy could not derive it (a grader must read that line).
"""

from __future__ import annotations

import re
from typing import Any

PROOF_LABEL = "proof"

# registered theorems whose chains a student may write: the question's quantities as the
# chain checker reads them (f(k) = f(θᵏ), G(k) = ‖∇f(θᵏ)‖²), its hypotheses, and the claim
_GD_NOTATION = {"f": r"f(\theta^{?})", "G": r"\|\nabla f(\theta^{?})\|^2", "fbar": r"\bar f"}
_REGISTERED: dict[tuple[str, str], dict[str, Any]] = {
    ("gd_smooth_rate", "1/L"): dict(
        symbols={"L": "positive", "T": "positive"},
        sequences={"f": "real", "G": "nonnegative"},
        notation=_GD_NOTATION,
        given={"descent": "f(k+1) <= f(k) - 1/L*G(k) + L/2*(1/L)**2*G(k)",
               "bounded": "f(k) >= fbar"},
        claim="minimum(G(k), k, 1, T) <= 2*L*(f(0) - fbar)/T"),
    ("gd_smooth_rate", "eta"): dict(
        symbols={"L": "positive", "T": "positive", "eta": "0 < eta <= 1/L"},
        sequences={"f": "real", "G": "nonnegative"},
        notation=_GD_NOTATION,
        given={"descent": "f(k+1) <= f(k) - eta*G(k) + L/2*eta**2*G(k)",
               "bounded": "f(k) >= fbar"},
        claim="minimum(G(k), k, 1, T) <= 2*(f(0) - fbar)/(eta*T)"),
}


def gradable(problem) -> bool:
    """Can a student's chain be checked for this problem?"""
    return problem.kind == "proof" and _setting(problem) is not None


def _setting(problem):
    """(chain context, claim in plain syntax) for the problem, or None."""
    from ..derive.proofs import ProofSpec
    from ..derive.proofs import chain, written

    spec = problem.spec
    if not isinstance(spec, ProofSpec):
        return written.context(problem), spec.claim
    data = _REGISTERED.get((spec.theorem, dict(spec.options).get("step", "1/L")))
    if data is None:
        return None
    return chain.make_context(data["symbols"], data["given"], data["sequences"],
                              data["notation"]), data["claim"]


def lines_of(text: str) -> list[str]:
    """The relations of an answer, one per line: LaTeX line breaks (``\\\\``), align
    environments and their ``&`` markers, ``$$`` and display brackets taken off."""
    s = re.sub(r"\\(begin|end)\{(align|aligned|align\*|eqnarray\*?|gather\*?)\}", "\n", text)
    s = s.replace("\\\\", "\n").replace("&", " ")
    out = []
    for line in s.splitlines():
        line = line.strip().strip("$").strip()
        line = re.sub(r"^\\\[|\\\]$", "", line).strip().rstrip(".,;").strip()
        if line:
            out.append(line)
    return out


_SUM = re.compile(r"\\sum_\{?\s*([A-Za-z])\s*=\s*([^}^]+?)\s*\}?\^\{?([^}\s]+)\}?")
SECONDS_PER_LINE = 6.0   # CPU seconds of checking per line of a student's chain


def _implicit(line: str) -> str | None:
    """The justification a line implies when the student names none: a sum over k (the
    line before summed, telescoping checked), or a minimum bounded by the mean."""
    m = _SUM.search(line)
    if m and ("\\min" not in line):
        return f"sum {m.group(1)}={m.group(2).strip()}..{m.group(3).strip()}"
    if "\\min" in line or "minimum(" in line:
        return "mean >= min"
    return None


def _check(ctx, lines: list[str], last: str | None = None):
    """check_chain over ``lines``: a line with a sum or a minimum is judged by the rule it
    implies (sum over k, mean ≥ min), any other line may use the hypotheses; ``last`` is the
    justification of the last line when given (``algebra`` for the claim)."""
    from ..derive.proofs import chain

    by = [_implicit(line) for line in lines]
    if last is not None:
        by[-1] = last
    return chain.check_chain(lines, context=ctx, by=by)


def grade(problem, text: str, seconds_per_line: float = SECONDS_PER_LINE) -> tuple[str, tuple[str, ...]]:
    """(verdict, feedback sentences) of a student's chain for ``problem``; never raises for
    a bad answer, and counts CPU time (a busy machine does not change the verdict)."""
    from ..budget import time_budget
    from ..derive.proofs import chain
    from ..errors import BadInput, SolveTimeout

    ctx, claim = _setting(problem)
    lines = lines_of(text)
    if not lines:
        return "unparseable", ("no line to check: write one relation per line",)
    if len(lines) > 20:
        return "unparseable", ("a proof of more than 20 lines is not checked",)
    try:
        with time_budget(f"{problem.id}/proof", seconds_per_line * (len(lines) + 1)):
            result = _check(ctx, lines)
            bad = result.failed
            if bad is not None and not bad.counterexample and "could not derive" in bad.reason:
                # true at every point tried, but not derived: a grader must read this line
                return "not-gradable", (f"line {bad.step.number} could not be checked "
                                        f"automatically: {bad.reason}; a grader must read it",)
            if bad is not None:
                said = f"line {bad.step.number} does not follow: {bad.reason}"
                if bad.counterexample:
                    said += f" (a counterexample: {bad.counterexample})"
                return "incorrect", (said,)
            # every line follows: the claim must follow from the last line
            reaches = _check(ctx, lines + ["=> " + claim], last="algebra").ok
    except BadInput as exc:
        return "unparseable", (exc.message,)
    except SolveTimeout:
        return "unparseable", (f"the chain could not be checked within "
                               f"{seconds_per_line * (len(lines) + 1):g} s",)
    except (RecursionError, ArithmeticError, TypeError, ValueError, AttributeError,
            IndexError, KeyError, NotImplementedError) as exc:
        return "unparseable", (f"symderiv could not check this chain ({type(exc).__name__}); "
                               "please report it",)
    if not reaches:
        lhs, op, rhs = chain.split_relation(claim)
        stated = chain.Relation(ctx.parse(lhs), op, ctx.parse(rhs)).latex(ctx)
        return "incorrect", (f"every line follows, but the chain does not reach the claim ${stated}$",)
    return "correct", (f"all {len(lines)} lines follow, and the last gives the claim",)


def _plain(latex: str) -> str:
    """Feedback text: the chain checker's reasons are already in words with math in $…$."""
    return latex.strip()
