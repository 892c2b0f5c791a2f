"""Steps are data: frozen trees computed by the engine and only walked by templates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sympy as sp

from ..notebook import Displayable


@dataclass(frozen=True)
class Step:
    """One rewrite of a derivation: ``before = after``, by ``rule``."""

    rule: str
    before: sp.Basic
    after: sp.Basic
    why: str = ""
    substeps: tuple["Step", ...] = ()

    def rules(self) -> list[str]:
        """Every rule used in this tree, depth first, without repeats."""
        seen: list[str] = []
        for step in self.walk():
            if step.rule not in seen:
                seen.append(step.rule)
        return seen

    def walk(self):
        yield self
        for sub in self.substeps:
            yield from sub.walk()


@dataclass(frozen=True)
class Line:
    """One line of an aligned chain ``= expr`` with the rules that produced it."""

    expr: sp.Basic
    rules: tuple[str, ...] = ()
    note: Any = None  # mathematics shown after the rule names: σ, or 1 − σ(x) = e^{−x}/(1 + e^{−x})


@dataclass(frozen=True)
class Answer:
    """A public answer: its label (the key in JSON), its value, and an optional display form."""

    label: str
    value: Any
    display: Any = None


@dataclass(frozen=True)
class Solution(Displayable):
    """What a solver returns: answers (all verified) plus kind-specific data for the template."""

    problem: Any
    answers: tuple[Answer, ...]
    body: Any
    checks: tuple[str, ...] = field(default_factory=tuple)
    verified: bool = True

    solved = True  # a class attribute, not a field: solve.Unsolved has it False
