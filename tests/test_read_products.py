"""Transposes and implicit products in matrix answers (symderiv/check/latex.py):
``w^Tx`` is wᵀx, ``X^TXw`` is XᵀXw; every right answer has its wrong neighbour."""

import time

import pytest

from .read_keys import judge, said

PRODUCTS = [
    ("Q2.2/gradient", "(w^Tx - y)x", "correct", ""),
    ("Q2.2/gradient", "(w^T x - y) x", "correct", ""),
    ("Q2.2/gradient", "(x^Tw - y)x", "correct", ""),
    ("Q2.2/gradient", "x(w^Tx - y)", "correct", ""),
    ("Q2.2/gradient", "xx^Tw - xy", "correct", ""),
    ("Q2.2/gradient", "(w^Tx + y)x", "incorrect",
     "differs from the key's answer entry by entry at a concrete size"),
    ("Q2.2/gradient", "(y - w^Tx)x", "incorrect",
     "sign error: this is the negative of the key's answer"),
    ("Q2.3/gradient", r"\frac{X^TXw - X^Ty}{m}", "correct", ""),
    ("Q2.3/gradient", r"\frac{1}{m}(X^TXw - X^Ty)", "correct", ""),
    ("Q2.3/gradient", "(X^TXw - X^Ty)/m", "correct", ""),
    ("Q2.3/gradient", r"\frac{X^TXw - X^Ty}{2m}", "incorrect",
     "off by a constant factor: the key's answer is 2 times this"),
    ("Q2.3/gradient", r"\frac{XX^Tw - X^Ty}{m}", "incorrect",
     "shape mismatch in X·Xᵀ·w: m×m times n×1"),
    ("Q2.1/gradient", "Ax + A^Tx + z", "correct", ""),
    ("Q2.1/gradient", r"Ax + A^\top x + z", "correct", ""),
    ("Q2.1/gradient", "Ax + A^Tx", "incorrect", "a term is missing: the key's answer also has z"),
    ("Q2.1/gradient", r"A^{y}x", "incorrect",
     "a matrix to the power y: a matrix power must be a whole number (for a transpose write A^T)"),
]


@pytest.mark.parametrize("label, text, verdict, feedback", PRODUCTS)
def test_transposes_and_products(label, text, verdict, feedback):
    outcome = judge(label, text)
    assert (outcome.verdict, said(outcome)) == (verdict, feedback)


def test_tight_transpose_is_fast():
    """Ax + A^Tx + z was read as A to the power Tx, evaluated at a concrete size (seconds)."""
    judge("Q2.1/gradient", "x")  # the key is built outside the timing
    start = time.process_time()
    assert judge("Q2.1/gradient", "Ax + A^Tx + z").verdict == "correct"
    assert judge("Q2.1/gradient", r"A^{Tx}").verdict == "incorrect"
    assert time.process_time() - start < 1.0
