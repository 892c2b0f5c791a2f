"""Kind ``text``: a prose answer (LaTeX) written in the problem file, for parts that are words."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import BadInput
from ..spec import Fields, Problem
from ..texsafe import check_latex_fragment
from .steps import Solution


@dataclass(frozen=True)
class TextSpec:
    answer: str


def parse(problem: Problem) -> TextSpec:
    f = Fields(problem, {"answer"})
    answer = f.get("answer", str, required=True)
    if not answer.strip():
        raise f.error("answer", "the answer is empty")
    try:
        check_latex_fragment(answer)
    except BadInput as exc:
        raise f.error("answer", exc.message) from None
    return TextSpec(answer)


def solve(problem: Problem) -> Solution:
    # Prose is the instructor's own words: nothing to verify, so the key says "not checked".
    return Solution(problem, (), problem.spec, (), verified=False)
