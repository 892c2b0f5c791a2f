"""Grading one answer: read and compare it under a CPU-time budget, never raising.

:func:`grade` is what ``check`` does for every answer of a submission, and what the corpus
benchmark (``benchmarks/corpus.py``) does for every labelled answer: a reader or SymPy corner
case, a pathological answer or one over its budget gives an ``unparseable`` outcome with a
sentence saying why, never an exception or a hang. The budget counts CPU time
(:mod:`symderiv.budget`), so the verdict does not depend on how busy the machine is.
"""

from __future__ import annotations

from typing import Any

from ..budget import time_budget
from ..errors import SolveTimeout
from .compare import DECIMAL_RTOL, Outcome, compare

ANSWER_SECONDS = 6.0  # CPU seconds to read and compare one answer


def grade(ctx, full: str, label: str, value: Any, text: str, rtol: float | None = None,
          answer_seconds: float = ANSWER_SECONDS) -> Outcome:
    """The outcome of one answer ``text`` to the key's ``value`` (``label`` within its
    problem, ``full`` = ``"<problem id>/<label>"`` names the budget)."""
    try:
        with time_budget(full, answer_seconds):
            outcome = compare(ctx, label, value, text, DECIMAL_RTOL if rtol is None else rtol)
    except SolveTimeout:
        outcome = Outcome("unparseable", None,
                          (f"could not be read and compared within {answer_seconds:g} s",))
    except RecursionError:
        outcome = Outcome("unparseable", None, ("the answer is nested too deeply",))
    except (ArithmeticError, TypeError, ValueError, AttributeError, IndexError,
            KeyError, NotImplementedError) as exc:
        # a reader or SymPy corner case must not stop the grading of the other answers;
        # the verdict says so rather than guessing
        outcome = Outcome("unparseable", None,
                          (f"symderiv could not read this answer ({type(exc).__name__}); "
                           "please report it",))
    if outcome.got is not None and _too_large(outcome.got):
        outcome = Outcome("unparseable", None, ("a number in the answer is too large "
                                                "(more than about 600 digits)",))
    return outcome


def _too_large(value) -> bool:
    """A value whose numbers could not even be printed (Python refuses 4300+ digit integers)."""
    from ..parse import size_refusal

    items = value if isinstance(value, (list, tuple)) else [value]
    return any(size_refusal(v) for v in items if hasattr(v, "atoms"))
