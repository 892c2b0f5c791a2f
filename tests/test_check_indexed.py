"""General answers against a concrete key: the softmax Jacobian key is 3×3 (NNDL Q1, n = 3),
students answer for every n. By hand: ∂sᵢ/∂xⱼ = sᵢ(δᵢⱼ − sⱼ), s = softmax(x), so
J = diag(s) − s sᵀ; sᵢ(1 − sⱼ) is right on the diagonal only; s sᵀ − diag(s) is −J."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.slow   # every key here is built first (about 10 s)

ROOT = Path(__file__).resolve().parent.parent
KEY = ROOT / "problems" / "nndl_hw1.toml"
LABEL = "Q1/softmax.jacobian"

CASES = [
    # (answer, verdict, fragment of the feedback)
    (r"s_i(\delta_{ij} - s_j)", "correct", ""),
    (r"s_i*(delta_ij - s_j)", "correct", ""),
    (r"\operatorname{diag}(s) - s s^T", "correct", ""),
    (r"\mathrm{diag}(\mathbf{s}) - \mathbf{s}\mathbf{s}^\top", "correct", ""),
    (r"diag(s) - s*s.T", "correct", ""),
    (r"J_{ij} = s_i(\delta_{ij} - s_j)", "correct", ""),
    # the statement's name: f(x_i) = e^{x_i} / sum_j e^{x_j}
    (r"\frac{\partial f(x_i)}{\partial x_j} = f(x_i)\left(\delta_{ij} - f(x_j)\right)", "correct", ""),
    (r"$$\frac{\partial s_i}{\partial x_j} = \begin{cases} s_i(1 - s_i) & i = j \\ -s_i s_j & i \neq j \end{cases}$$",
     "correct", ""),
    (r"\frac{e^{x_i}\delta_{ij}}{\sum_k e^{x_k}} - \frac{e^{x_i}e^{x_j}}{(\sum_k e^{x_k})^2}", "correct", ""),
    (r"\begin{pmatrix} s_1(1-s_1) & -s_1 s_2 & -s_1 s_3 \\ -s_2 s_1 & s_2(1-s_2) & -s_2 s_3 \\ "
     r"-s_3 s_1 & -s_3 s_2 & s_3(1-s_3) \end{pmatrix}", "correct", ""),
    (r"s_i(1 - s_j)", "incorrect", "6 of 9 entries wrong: (1,2) is s_1*(1 - s_2)"),
    (r"s s^T - \operatorname{diag}(s)", "incorrect", "sign error: every entry has the wrong sign"),
    (r"\begin{cases} s_i(1 - s_i) & i = j \\ s_i s_j & i \neq j \end{cases}", "incorrect",
     "sign error in (1,2), (1,3), (2,1), (2,3), (3,1), (3,2)"),
    (r"\operatorname{diag}(s) + s s^T", "incorrect", "9 of 9 entries wrong"),
    (r"\operatorname{diag}(s)", "incorrect", "(1,1) is s_1"),
    (r"\operatorname{diag}(s)(I - s^T)", "unparseable", "the shapes do not fit together"),
]


def text_of(parts) -> str:
    import sympy as sp

    from symderiv.check.compare import Math

    return "".join(sp.sstr(p.value) if isinstance(p, Math) else str(p) for p in parts)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    from symderiv.check import check

    out = {}
    for k, (text, _, _) in enumerate(CASES):
        path = tmp_path_factory.mktemp("answers") / f"case{k}.toml"
        path.write_text(f"[answers]\n\"{LABEL}\" = '''{text}'''\n", encoding="utf-8")
        (result,) = [r for r in check(KEY, path).results if r.label == LABEL]
        out[k] = result
    return out


@pytest.mark.parametrize("k", range(len(CASES)))
def test_general_answer_at_the_keys_size(results, k):
    text, verdict, fragment = CASES[k]
    result = results[k]
    assert result.verdict == verdict, (text, text_of(result.feedback))
    assert fragment in text_of(result.feedback)


def test_indices_put_in_at_each_entry():
    """Row i = a, column j = b: delta decided, components and x indexed, sums written out."""
    from symderiv.check.indexed import _instantiate

    names = {"s", "f", "softmax"}

    def at(text, a, b):
        out = _instantiate(text, names, a, b, 3)
        return None if out is None else out.replace(" ", "")

    assert at(r"s_i(\delta_{ij} - s_j)", 2, 2) == r"s_{2}((1)-s_{2})"
    assert at(r"s_i(\delta_{ij} - s_j)", 1, 3) == r"s_{1}((0)-s_{3})"
    assert at(r"f(x_i)\left(\delta_{ij} - f(x_j)\right)", 1, 2) == r"s_{1}\left((0)-s_{2}\right)"
    assert at(r"\frac{e^{x_i}}{\sum_{k=1}^{n} e^{x_k}}", 3, 1) == \
        r"\frac{e^{x_{3}}}{\left(e^{x_1}+e^{x_2}+e^{x_3}\right)}"
    assert at(r"\begin{cases} s_i(1 - s_i) & i = j \\ -s_i s_j & \text{otherwise} \end{cases}", 1, 2) \
        == r"(-s_{1}s_{2})"
    # an index on a name that is neither a component, x nor delta: not read as a general answer
    assert at(r"s_i w_{ij}", 1, 2) is None


# Entry by entry against a matrix expression (NNDL Q3 hints "compute the gradient entry by
# entry"): dL/dW_ij = 2(z_i - y_i) x_j with z = Wx + b (the statement's name); Q2.2:
# dL/dw_i = (w^T x - y) x_i.
ENTRY_CASES = [
    ("Q3/gradient", r"2(z_i - y_i)x_j", "correct", ""),
    ("Q3/gradient", r"2\left(z_{i} - y_{i}\right) x_{j}", "correct", ""),
    ("Q3/gradient", r"(z_i - y_i)x_j", "incorrect",
     "off by a constant factor: the key's answer is 2 times this"),
    ("Q3/gradient", r"2(z_j - y_j)x_i", "incorrect", "the indices do not fit the shapes"),
    ("Q3/gradient", r"2(y_i - z_i)x_j", "incorrect", "sign error"),
    ("Q2.2/gradient", r"(w^T x - y)x_i", "correct", ""),
    ("Q2.2/gradient", r"(w^T x - y)w_i", "incorrect", "differs from the key's answer entry by entry"),
]


@pytest.fixture(scope="module")
def entry_results(tmp_path_factory):
    from symderiv.check import check

    out = {}
    for k, (label, text, _, _) in enumerate(ENTRY_CASES):
        path = tmp_path_factory.mktemp("answers") / f"entry{k}.toml"
        path.write_text(f"[answers]\n\"{label}\" = '''{text}'''\n", encoding="utf-8")
        (result,) = [r for r in check(KEY, path).results if r.label == label]
        out[k] = result
    return out


@pytest.mark.parametrize("k", range(len(ENTRY_CASES)))
def test_entry_by_entry_answer_against_a_matrix_expression(entry_results, k):
    label, text, verdict, fragment = ENTRY_CASES[k]
    result = entry_results[k]
    assert result.verdict == verdict, (text, text_of(result.feedback))
    assert fragment in text_of(result.feedback)
