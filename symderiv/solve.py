"""Solve a whole problem set: every problem under its time budget, every answer verified.

A part that cannot be solved (its answer fails its check, it runs out of time, the algebra
engine gives up) either stops the set (``keep_going=False``) or becomes an :class:`Unsolved`
entry that carries only the reason: never a partial derivation, never an unchecked answer.
Bad input (:class:`~symderiv.errors.BadInput`) always stops.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from . import memo
from .notebook import Displayable
from .budget import time_budget
from .derive.steps import Solution
from .errors import InternalLimit, SolveTimeout, SymderivError, VerificationFailed, engine_gave_up
from .kinds import kind_module
from .spec import ProblemSet

DEFAULT_TIMEOUT = 20.0

# a problem solved once per process: the same file rendered as key, sheet and JSON, or
# checked against many students, is solved once (its text and the set's notation are the key).
# Only solved problems are kept: a part that ran out of time may be tried again with more.
_SOLVED: dict[tuple[str, str], Solution] = memo.cache()


@dataclass(frozen=True)
class Unsolved(Displayable):
    """A part that could not be solved: its problem and why, nothing else.

    ``reason`` is the one-line message for the teacher (stderr and the JSON key); ``shown`` is
    the same reason in plain words for the key's "Not solved" box, with no program text.
    It answers to the attributes of :class:`Solution` that documents and keys read, with
    nothing in them.
    """

    problem: Any
    reason: str
    shown: str
    error: SymderivError
    answers: tuple = ()
    checks: tuple = ()
    verified: bool = False
    solved: bool = False


def unsolved_from(problem, exc: SymderivError) -> Unsolved:
    """The :class:`Unsolved` entry for ``problem`` that failed with ``exc``."""
    if isinstance(exc, VerificationFailed):
        reason = f"{exc.label}: verification failed: {exc.detail}"
        shown = ("an answer derived for this part did not pass its check, so no answer "
                 "is printed.")
    elif isinstance(exc, SolveTimeout):
        reason = (f"took more than the time budget of {exc.seconds:g} s of CPU time "
                  "(raise it with --timeout)")
        shown = (f"the derivation did not finish within its time budget ({exc.seconds:g} s "
                 "of computing time).")
    elif isinstance(exc, InternalLimit):
        reason, shown = exc.reason, exc.shown
    else:  # pragma: no cover - solve_set passes only the classes above
        reason = shown = str(exc)
    return Unsolved(problem, reason, shown, exc)


def solve_set(problem_set: ProblemSet, timeout: float | None = DEFAULT_TIMEOUT, *,
              keep_going: bool = False) -> list[Solution | Unsolved]:
    """Solve every problem in order.

    Args:
        problem_set: the loaded file.
        timeout: CPU seconds per problem (None: no budget).
        keep_going: a part that cannot be solved becomes an :class:`Unsolved` entry and the
            rest are solved; otherwise the first such part raises (nothing is half-solved).

    Raises:
        BadInput: always, at the first mistake in the file.
        VerificationFailed, SolveTimeout, InternalLimit: without ``keep_going``.
    """
    from .render import notation

    solutions: list[Solution | Unsolved] = []
    with notation(problem_set.meta):
        for problem in problem_set.problems:
            # the title (a variant's "(variant v01)") and the salt do not change a solution
            key = (repr(problem), repr(replace(problem_set.meta, title="", salt="")))
            if key not in _SOLVED:
                try:
                    with time_budget(problem.id, timeout):
                        try:
                            solution = kind_module(problem.kind).solve(problem)
                        except (RecursionError, NotImplementedError) as exc:
                            raise engine_gave_up(exc).located(problem.id) from None
                except InternalLimit as exc:
                    exc = exc.located(problem.id)
                    if not keep_going:
                        raise exc from None
                    solutions.append(unsolved_from(problem, exc))
                    continue
                except (VerificationFailed, SolveTimeout) as exc:
                    if not keep_going:
                        raise
                    solutions.append(unsolved_from(problem, exc))
                    continue
                _SOLVED[key] = solution
            solutions.append(_SOLVED[key])
    return solutions


def unsolved_lines(solutions) -> list[str]:
    """One line per part that was not solved: ``problem 2: not solved: <reason>``."""
    return [f"problem {s.problem.id}: not solved: {s.reason}"
            for s in solutions if not getattr(s, "solved", True)]
