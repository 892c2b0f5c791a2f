"""Constructs students write (symderiv/check/read.py): tuples, arrays, rows side by side,
``\\to``, ``\\lt``, ``\\ldots``, ``\\{ \\}``; every right answer has its wrong neighbour."""

import pytest

from .read_keys import judge, said

CONSTRUCTS = [
    # a tuple is a column vector, with or without the transpose that says so
    ("1b/backward.dL/dh1", "(0.6, 1.1)^T", "correct", ""),
    ("1b/backward.dL/dh1", "(0.6, 1.1)", "correct", ""),
    ("1b/backward.dL/dh1", r"(0.6, 1.1)^\top", "correct", ""),
    ("1b/backward.dL/dh1", "(1.1, 0.6)^T", "incorrect",
     "2 of 2 entries wrong: (1,1) should be 3/5, not 11/10; (2,1) should be 11/10, not 3/5"),
    ("1b/grad.W2", "(0, 1.3)", "correct",
     "same entries, written as a column; the key writes a row (1×2)"),
    # array environments, also inside \left( … \right)
    ("1b/forward.z1", r"\left(\begin{array}{c} -3.2 \\ 1.3 \end{array}\right)", "correct", ""),
    ("1b/forward.z1", r"\left(\begin{array}{c} 3.2 \\ 1.3 \end{array}\right)", "incorrect",
     "sign error in (1,1)"),
    ("1b/forward.z1", r"\left[\begin{array}{cc} -3.2 & 1.3 \end{array}\right]^T", "correct", ""),
    ("1b/grad.W1", r"\left[\begin{array}{ccc} 0 & 0 & 0 \\ 1.1 & 2.2 & 3.3 \end{array}\right]",
     "correct", ""),
    ("1b/grad.W1", r"\left[\begin{array}{ccc} 0 & 0 & 0 \\ 1.1 & 2.2 & 3.4 \end{array}\right]",
     "incorrect", "1 of 6 entry wrong: (2,3) should be 33/10, not 17/5"),
    # numbers side by side in a bracket are a row, not a product
    ("1b/grad.W2", r"\left[ 0 \quad 1.3 \right]", "correct", ""),
    ("1b/grad.W2", r"\left[ 0 \quad 1.4 \right]", "incorrect",
     "1 of 2 entry wrong: (1,2) should be 13/10, not 7/5"),
    ("1b/grad.W2", "[0 1.3]", "correct", ""),
    ("1b/grad.W2", r"[0 \quad 1.3 \quad 0]", "incorrect", "shape 1×3, but the key's answer is 1×2"),
    ("1b/forward.z1", "[-3.2; 1.3]", "correct", ""),
    ("1b/forward.z1", "[-3.2 1.3]^T", "correct", ""),
    ("1b/forward.z1", "[-3.2 -1.3]^T", "incorrect", "sign error in (2,1)"),
    # \to, \lt, \gt, \ldots, \{ \}
    ("1a/sigmoid.limit(+oo)", r"\to 0", "correct", ""),
    ("1a/sigmoid.limit(-oo)", r"\to 0", "correct", ""),
    ("Q4/converges", r"0 \lt \alpha \lt 2", "correct", ""),
    ("Q4/converges", r"0 \lt \alpha \lt 3", "incorrect",
     "the key's set is (0, 2); alpha = 5/2 satisfies yours but not the key's"),
    ("Q4/diverges", r"\alpha \gt 2", "correct", ""),
    ("Q4/iterates[alpha=0.5]", r"0, 50, 75, 87.5, 93.75, 96.875, 98.4375, 99.21875, 99.609375, "
     r"99.8046875, 99.90234375, \ldots", "correct", ""),
    ("Q4/iterates[alpha=0.5]", r"0, 50, 75, \ldots", "incorrect", "3 values, but the key lists 11"),
    ("3/conclusion", r"\frac{2L\{f_0 - \bar f\}}{T}", "correct", ""),
    ("3/conclusion", r"\frac{2L\{\bar f - f_0\}}{T}", "incorrect",
     "sign error: this is the negative of the key's answer"),
    ("1a/leaky_relu.derivative", r"\begin{cases} 1 & x \gt 0 \\ a & x \lt 0 \end{cases}",
     "correct", ""),
    ("1b/forward.yhat", r"\approx 1.33", "correct", ""),
    ("1b/forward.yhat", "ŷ ≈ 1.33", "correct", ""),
    ("1b/forward.yhat", "ŷ ≈ 1.23", "incorrect", "the key's answer is 133/100"),
    ("1b/forward.yhat", r"\begin{equation*} \hat y = 1.33 \end{equation*}", "correct", ""),
    ("1b/grad.W1", r"\begin{vmatrix} 0 & 0 & 0 \\ 1.1 & 2.2 & 3.3 \end{vmatrix}", "correct", ""),
    ("Q2.2/gradient", "x(x'w - y)", "correct", ""),
    ("Q2.2/gradient", "x(x'w + y)", "incorrect",
     "differs from the key's answer entry by entry at a concrete size"),
    ("3/conclusion", r"\frac{2L(f_{0} - \overline{f})}{T}", "correct", ""),
    ("1a/leaky_relu.derivative",
     r"\begin{cases} 1, & \text{for } x>0 \\ a, & \text{for } x<0 \end{cases}", "correct", ""),
]


@pytest.mark.parametrize("label, text, verdict, feedback", CONSTRUCTS)
def test_constructs(label, text, verdict, feedback):
    outcome = judge(label, text)
    assert (outcome.verdict, said(outcome)) == (verdict, feedback)


@pytest.mark.parametrize("text, verdict", [
    (r"\sigma_{\text{ReLU}}'(z) = \mathbb{1}(z > 0)", "correct"),
    (r"\frac{d}{dz}\sigma_{\text{ReLU}}(z) = \mathbf{1}(z > 0)", "correct"),
    ("I(z > 0)", "correct"),
    (r"\frac{d}{dz}\sigma_{\text{ReLU}}(z) = \mathbf{1}(z < 0)", "incorrect"),
])
def test_indicators_and_named_activations(text, verdict):
    assert judge("2c/relu.derivative", text, key="cs189_hw").verdict == verdict
