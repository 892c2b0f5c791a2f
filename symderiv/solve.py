"""Solve a whole problem set: every problem under its time budget, every answer verified."""

from __future__ import annotations

from . import memo
from .budget import time_budget
from .derive.steps import Solution
from .kinds import kind_module
from .spec import ProblemSet

DEFAULT_TIMEOUT = 20.0

# a problem solved once per process: the same file rendered as key, sheet and JSON, or
# checked against many students, is solved once (its text and the set's notation are the key)
_SOLVED: dict[tuple[str, str], Solution] = memo.cache()


def solve_set(problem_set: ProblemSet, timeout: float | None = DEFAULT_TIMEOUT) -> list[Solution]:
    """Solve every problem in order; the first failure raises (nothing is half-solved)."""
    from .render import notation

    solutions = []
    with notation(problem_set.meta):
        for problem in problem_set.problems:
            key = (repr(problem), repr(problem_set.meta))
            if key not in _SOLVED:
                with time_budget(problem.id, timeout):
                    _SOLVED[key] = kind_module(problem.kind).solve(problem)
            solutions.append(_SOLVED[key])
    return solutions
