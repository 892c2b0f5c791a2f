"""Stage 2 of the reader: splitting a chain of relations (symderiv/check/relations.py)."""

import pytest

from symderiv.check.relations import split_relations


@pytest.mark.parametrize("text, members", [
    (r"\hat{y} = 1.33", [(r"\hat{y}", ""), ("1.33", "=")]),
    ("t = 7", [("t", ""), ("7", "=")]),
    (r"$$\frac{\partial L}{\partial \hat{y}} = \hat{y} - y = 1$$",
     [(r"\frac{\partial L}{\partial \hat{y}}", ""), (r"\hat{y} - y", "="), ("1", "=")]),
    (r"$$\lim_{x \rightarrow +\infty} \frac{d}{dx} \text{sigmoid}(x) = 0,$$",
     [(r"\lim_{x \to +\infty} \frac{d}{dx} \text{sigmoid}(x)", ""), ("0", "=")]),
    (r"\approx 1.33", [("1.33", r"\approx")]),
    (r"\to 0", [("0", r"\to")]),
    (r"\sigma(x)(1 - \sigma(x)) \to 0", [(r"\sigma(x)(1 - \sigma(x))", ""), ("0", r"\to")]),
    (r"|1 - \alpha| < 1 \Rightarrow 0 < \alpha < 2",
     [(r"|1 - \alpha| < 1", ""), (r"0 < \alpha < 2", r"\Rightarrow")]),
    ("x <= 2", [("x <= 2", "")]),
    ("x >= 2", [("x >= 2", "")]),
    ("x != 2", [("x != 2", "")]),
    ("dL/dyhat == 1", [("dL/dyhat", ""), ("1", "=")]),
    ("yhat -> 1.33", [("yhat", ""), ("1.33", r"\to")]),
    (r"\frac{a = b}{2}", [(r"\frac{a = b}{2}", "")]),
    ("1.33.", [("1.33", "")]),
    ("ŷ ≈ 1.33", [("ŷ", ""), ("1.33", r"\approx")]),
    ("x → 0", [("x", ""), ("0", r"\to")]),
])
def test_split_relations(text, members):
    assert [(m.text, m.relation) for m in split_relations(text)] == members


def test_a_chain_is_short():
    import pytest as _pytest

    from symderiv.check.base import Unreadable

    assert len(split_relations(" = ".join(["x"] * 12))) == 12
    with _pytest.raises(Unreadable, match="too many relations in one answer"):
        split_relations(" = ".join(["x"] * 13))


@pytest.mark.parametrize("text, shape", [
    (r"$$\nabla_{\boldsymbol{x}} f \in \mathbb{R}^{n \times 1}$$", r"\mathbb{R}^{n \times 1}"),
    (r"\frac{\partial L}{\partial \mathbf{W}} \in \mathbb{R}^{d \times k}", r"\mathbb{R}^{d \times k}"),
    ("shape: d x k", "d x k"),
    (r"\text{shape} = (n, 1)", "(n, 1)"),
    (r"\mathbb{R}^n", "n x 1"),
    (r"\nabla f \in \mathbb{R}^{d}", "d x 1"),
    ("n x 1", "n x 1"),
    ("(n, 1)", "(n, 1)"),
])
def test_shape_member(text, shape):
    from symderiv.check.relations import shape_member

    assert shape_member(text) == shape
