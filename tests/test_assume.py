"""Signs under the problem's assumptions (Scope.sign): exact on open, half-open and closed
intervals, never the wrong sign SymPy 1.14's ``ask`` gives on a closed end."""

import pytest
import sympy as sp

from symderiv.assume import Domain, Scope


@pytest.fixture(scope="module")
def scope():
    return Scope({
        "a": Domain("a", 0, 1),                       # 0 < a < 1
        "b": Domain("b", 2, None),                    # b > 2
        "c": Domain("c", 0, 1, False, True),          # 0 ≤ c < 1
        "d": Domain("d", None, 3, True, False),       # d ≤ 3
        "e": Domain("e", 0, 1, False, False),         # 0 ≤ e ≤ 1
        "f": Domain("f", 0, 1, True, False),          # 0 < f ≤ 1
        "g": Domain("g", -1, 2, False, False),        # −1 ≤ g ≤ 2
        "n": Domain("n", 1, None, False, True, True),  # n ≥ 1, an integer
    })


@pytest.mark.parametrize("text, sign", [
    ("1 - a", 1), ("a - 1", -1), ("a*(1 - a)", 1), ("a**2 - a", -1),
    ("b - 2", 1), ("2 - b", -1), ("b - 3", None),
    ("c", None), ("1 - c", 1), ("c - 1", -1),
    ("3 - d", None), ("d - 3", None),                 # d = 3 is allowed: zero there
    ("e", None), ("1 - e", None), ("e + 1", 1), ("2 - e", 1),
    ("f", 1), ("1 - f", None), ("f - 1", None),
    ("3 - g", 1), ("g + 1", None), ("g + 2", 1),
    ("3 - g + e", 1), ("2 - g - e", None), ("2 - e*g", None), ("e - a - 1", -1),
    ("n", 1), ("n - 1", None),
])
def test_sign_under_interval_assumptions(scope, text, sign):
    expr = sp.sympify(text, locals={n: scope.symbol(n) for n in "abcdefgn"})
    assert scope.sign(expr) == sign


def test_ask_on_a_closed_end_is_not_trusted():
    # SymPy 1.14 answers that 3 − d is positive under d ≤ 3; the scope tests a verdict at
    # the end d = 3 and drops it
    scope = Scope({"d": Domain("d", None, 3, True, False)})
    assert scope.sign(3 - scope.symbol("d")) is None
    assert scope.sign(4 - scope.symbol("d")) == 1
