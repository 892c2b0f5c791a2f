"""Solve a whole problem set: every problem under its time budget, every answer verified."""

from __future__ import annotations

from .budget import time_budget
from .derive.steps import Solution
from .kinds import kind_module
from .spec import ProblemSet

DEFAULT_TIMEOUT = 20.0


def solve_set(problem_set: ProblemSet, timeout: float | None = DEFAULT_TIMEOUT) -> list[Solution]:
    """Solve every problem in order; the first failure raises (nothing is half-solved)."""
    from .render import notation

    solutions = []
    with notation(problem_set.meta):
        for problem in problem_set.problems:
            with time_budget(problem.id, timeout):
                solutions.append(kind_module(problem.kind).solve(problem))
    return solutions
