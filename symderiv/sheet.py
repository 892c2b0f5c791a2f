"""The question sheet: the statements and the figures they refer to, never a solution.

A sheet solves nothing. It needs only the loaded problem file (``spec.load`` has already
validated every field and parsed each problem's spec), so no answer can leak into it and it
renders in a fraction of a second. A kind module may offer ``sheet_figure(problem)``: the figure
its statement refers to (a network, a computation graph), computed from the problem's data
alone, without gradients or any other answer on it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .kinds import kind_module
from .spec import Problem, ProblemSet


@dataclass(frozen=True)
class SheetEntry:
    """One question of the sheet: the problem and the figure its statement refers to, if any."""

    problem: Problem
    figure: Any = None


def sheet_figure(problem: Problem) -> Any:
    """The kind's figure for the statement, or None when the kind draws none."""
    make = getattr(kind_module(problem.kind), "sheet_figure", None)
    return make(problem) if make is not None else None


def sheet_entries(problem_set: ProblemSet) -> list[SheetEntry]:
    """The questions in the file's order, each with its figure."""
    return [SheetEntry(p, sheet_figure(p)) for p in problem_set.problems]


def render_sheet(problem_set: ProblemSet) -> str:
    """The question sheet as LaTeX: the same document as the key, with no solution in it."""
    from .render import environment, notation

    template = environment().get_template("document.tex.j2")
    with notation(problem_set.meta):
        return template.render(meta=problem_set.meta, entries=sheet_entries(problem_set),
                               key=False, source=Path(problem_set.path).name)
