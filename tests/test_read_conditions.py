"""Conditions (symderiv/check/conditions.py): chained relations, and/or, read through any
expression reader (here the AMA564 key's)."""

import pytest
import sympy as sp

from symderiv.check.base import Unreadable
from symderiv.check.conditions import read_condition

from .read_keys import context

a, x = sp.Symbol("a", positive=True), sp.Symbol("x", real=True)  # the key's own (a ∈ (0, 1))


@pytest.fixture(scope="module")
def read():
    return context("ama564_a1", "1a").reader.expr


@pytest.mark.parametrize("text, holds, fails", [
    ("0 < x < 2", [{x: 1}], [{x: 2}, {x: -1}]),
    (r"x \le 2", [{x: 2}], [{x: 3}]),
    (r"x > 0 \text{ and } x < 1", [{x: sp.Rational(1, 2)}], [{x: 1}]),
    (r"x < 0 \text{ or } x > 1", [{x: -1}, {x: 2}], [{x: sp.Rational(1, 2)}]),
    (r"a x > x", [{a: sp.Rational(1, 2), x: -1}], [{a: sp.Rational(1, 2), x: 1}]),
    (r"x \ge 0, x \le 1", [{x: 0}, {x: 1}], [{x: 2}]),
])
def test_conditions(read, text, holds, fails):
    cond = read_condition(text, read).value
    assert all(cond.subs(p) == sp.true for p in holds)
    assert all(cond.subs(p) == sp.false for p in fails)


def test_a_condition_needs_a_relation(read):
    with pytest.raises(Unreadable, match="expected a condition such as 0 < alpha < 2"):
        read_condition("x + 1", read)
