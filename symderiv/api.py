"""The Python API: ``symderiv.derive``, ``symderiv.solve_file``, ``symderiv.check``.

They return the frozen objects the command line uses, which display in Jupyter
(:mod:`symderiv.notebook`). Errors are the CLI's: :class:`symderiv.errors.BadInput` for a
bad file or expression (its message is the CLI's one line).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .notebook import Displayable


def derive(expr: str, var: str = "x", limits: bool = False, timeout: float | None = 20.0):
    """The derivation of d/dvar expr (a registry name such as ``"sigmoid"`` or an expression
    in the problem-file syntax): a ``FunctionResult`` (steps, derivative, teacher's form,
    limits at ±∞ with ``limits=True``), every line verified."""
    from .budget import time_budget
    from .derive.derivative import solve_one

    with time_budget("derive", timeout):
        return solve_one(expr, var, limits)


@dataclass(frozen=True)
class SolvedFile(Displayable):
    """A problem file and its solved parts (``Solution``, or ``Unsolved`` with the reason)."""

    problem_set: Any
    solutions: tuple

    def __getitem__(self, problem_id: str):
        for s in self.solutions:
            if s.problem.id == problem_id:
                return s
        raise KeyError(problem_id)

    def answers(self) -> dict[str, Any]:
        """``{"<problem id>/<label>": value}`` for every answer of the key."""
        return {f"{s.problem.id}/{a.label}": a.value for s in self.solutions for a in s.answers}


def solve_file(path, timeout: float | None = 20.0, keep_going: bool = True) -> SolvedFile:
    """Load and solve a problem file, as ``symderiv render`` does."""
    from .solve import solve_set
    from .spec import load

    problem_set = load(path)
    return SolvedFile(problem_set, tuple(solve_set(problem_set, timeout, keep_going=keep_going)))


def check(key, answers, *, timeout: float | None = 20.0, rtol: float | None = None,
          keep_going: bool = True):
    """Check an answers file against a key file: the ``Report`` of ``symderiv check``."""
    from .check import check as run

    return run(key, answers, timeout=timeout, rtol=rtol, keep_going=keep_going)
