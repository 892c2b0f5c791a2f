"""Conditions: ``0 < α < 2``, ``x > 0 and y \\le 1``, ``a x > x`` → a SymPy boolean.

Used by the LaTeX reader (the inside of an indicator ``\\mathbb{I}(z < 0)``) and by the set
reader; the expression reader is passed in, so this module depends on no reader.
"""

from __future__ import annotations

from typing import Any, Callable

import sympy as sp

from .base import Read, Unreadable
from .normalise import split_top

RELATIONS = (
    (r"\leqslant", sp.Le), (r"\geqslant", sp.Ge), (r"\leq", sp.Le), (r"\geq", sp.Ge),
    (r"\neq", sp.Ne), (r"\le", sp.Le), (r"\ge", sp.Ge), (r"\ne", sp.Ne),
    ("<=", sp.Le), (">=", sp.Ge), ("==", sp.Eq), ("!=", sp.Ne), ("≤", sp.Le), ("≥", sp.Ge),
    ("≠", sp.Ne), ("<", sp.Lt), (">", sp.Gt), ("=", sp.Eq),
)
AND_WORDS = (r"\text{ and }", r"\text{and}", r"\mathrm{and}", r"\land", r"\wedge", " and ",
             "&&", ",")
OR_WORDS = (r"\text{ or }", r"\text{or}", r"\mathrm{or}", r"\lor", r"\vee", " or ", "||",
            r"\cup", "∪")


def read_condition(text: str, read: Callable[[str], Any]) -> Any:
    """A condition read with ``read`` (text → a Read of one expression); returns a Read."""
    body = text.strip()
    ors = split_top(body, OR_WORDS)
    if len(ors) > 1:
        parts = [read_condition(p, read).value for p, _ in ors]
        return Read(sp.Or(*parts), sp.Or(*parts))
    ands = split_top(body, AND_WORDS)
    if len(ands) > 1:
        parts = [read_condition(p, read).value for p, _ in ands]
        return Read(sp.And(*parts), sp.And(*parts))
    ops = dict(RELATIONS)
    chain = split_top(body, tuple(op for op, _ in RELATIONS))
    if len(chain) < 2:
        raise Unreadable("expected a condition such as 0 < alpha < 2")
    operands = [read(p).value for p, _ in chain]
    relations = [ops[sep](a, b) for a, b, (_, sep) in zip(operands, operands[1:], chain[1:])]
    value = sp.And(*relations)
    return Read(value, value)
