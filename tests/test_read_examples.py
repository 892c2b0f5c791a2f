"""Reading and feedback beyond the seed keys (problems/examples/): the constructs and mistakes the
corpus of tests/data/corpus/ on five example keys showed, one row each. Each row is the verdict
and, for a wrong answer, the feedback a teacher would write (the whole sentence where it is
worded by symderiv/check/feedback.py)."""

from functools import lru_cache

import pytest

from symderiv.check.compare import DECIMAL_RTOL, compare
from symderiv.check.context import build_context
from symderiv.check.report import feedback_text
from symderiv.solve import solve_set
from symderiv.spec import load

from .conftest import ROOT


@lru_cache(maxsize=None)
def _contexts(stem: str) -> dict:
    out = {}
    earlier = []
    for sol in solve_set(load(ROOT / "problems" / "examples" / f"{stem}.toml")):
        # as check does: a part "for the same loss" shares the earlier parts' names
        out[sol.problem.id] = build_context(sol.problem, sol, tuple(earlier))
        earlier.append(sol.problem)
    return out


def judge(stem: str, full_label: str, text: str):
    pid, label = full_label.split("/", 1)
    ctx = _contexts(stem)[pid]
    return compare(ctx, label, ctx.answers[label], text, DECIMAL_RTOL)


CS229, DSC, CS231N, CS224N, SOFTMAX = ("cs229_matrix_calculus", "dsc40a_loss_functions",
                                       "cs231n_activations", "cs224n_word2vec",
                                       "matrix_softmax_logistic")

RIGHT = [
    # σ of a 1×1 product is a number, e^{…} of one too (NotImplementedError before)
    (CS229, "3/gradient", r"-y\sigma(-y w^\top x) x"),
    (CS229, "3/gradient", r"$$\nabla_{\boldsymbol{w}} \ell = -\frac{y \boldsymbol{x}}{1 + e^{y \boldsymbol{w}^{\top}\boldsymbol{x}}}$$"),
    (CS224N, "2b/gradient", r"(\sigma(u_o^T v_c) - 1) v_c"),
    (CS224N, "2a/gradient", r"-\frac{u_o}{1+e^{u_o^\top v_c}} + \frac{u_1}{1+e^{-u_1^\top v_c}} + \frac{u_2}{1+e^{-u_2^\top v_c}}"),
    # a sum with number bounds over the key's u₁, u₂, written out (it ran out of time before)
    (CS224N, "2a/gradient", r"(\sigma(\boldsymbol{u}_o^\top \boldsymbol{v}_c) - 1)\boldsymbol{u}_o + \sum_{k=1}^{2}\sigma(\boldsymbol{u}_k^\top\boldsymbol{v}_c)\boldsymbol{u}_k"),
    (CS224N, "2a/gradient", r"-(1 - \sigma(u_o^T v_c)) u_o + \sum_{k=1}^2 (\sigma(u_k^T v_c) u_k)"),
    # softmax in LaTeX as in plain text; the statement's ŷ = softmax(o)
    (SOFTMAX, "1/gradient", r"\operatorname{softmax}(\boldsymbol{x})"),
    (SOFTMAX, "4/gradient", r"\hat y - y"),
    (SOFTMAX, "2a/gradient", r"-\boldsymbol{u}_o + U\hat{y}"),
    # λ is the key's lam (its notation table), in LaTeX and plain text; I the identity
    (CS229, "2/gradient", r"X^\top(X\theta - y) + \lambda\theta"),
    (CS229, "2/gradient", "X.T*(X*theta - y) + lambda*theta"),
    (CS229, "2/gradient", r"(X^TX + \lambda I)\theta - X^Ty"),
    (SOFTMAX, "5/gradient", r"\frac{1}{N}X^\top(\operatorname{softmax}(XW) - Y) + 2\lambda W"),
    # a shape after \in, = or :
    (CS229, "1a/shape", r"$$\nabla_{\boldsymbol{x}} f \in \mathbb{R}^{n \times 1}$$"),
    (CS229, "4/shape", r"\frac{\partial L}{\partial \mathbf{W}} \in \mathbb{R}^{d \times k}"),
    (CS229, "4/shape", "shape: d x k"),
    (CS229, "1b/shape", r"\mathbb{R}^n"),
    (CS229, "5/gradient", r"\mathbf{S}^{-\top}"),
    # Mathpix's cases, a comma or a full stop after a case; the optimum's star
    (CS231N, "2/elu.derivative", r"$$\mathrm{ELU}^{\prime}(x)=\left\{\begin{array}{ll} 1, & x>0 \\ \alpha e^{x}, & x \leq 0 \end{array}\right.$$"),
    (CS231N, "2/elu.derivative", r"\begin{cases} 1, & x > 0, \\ \alpha e^{x}, & x \leq 0. \end{cases}"),
    (DSC, "1/huber.derivative", r"\begin{cases} x - y, & y - \delta \le x \le y + \delta, \\ \delta, & x > y + \delta, \\ -\delta, & x < y - \delta. \end{cases}"),
    (DSC, "1/huber.derivative", r"\max(-\delta, \min(\delta, x - y))"),
    (DSC, "3/conclusion", r"$$q^{*}=\mu$$"),
    # the softmax Jacobian in the statement's accented name
    (CS224N, "1/softmax.jacobian", r"\hat y_i(\delta_{ij} - \hat y_j)"),
    (CS224N, "1/softmax.jacobian", r"\operatorname{diag}(\hat y) - \hat y \hat y^T"),
    (CS224N, "1/softmax.jacobian", r"\begin{cases} \hat y_i(1 - \hat y_i) & i = j \\ -\hat y_i \hat y_j & i \ne j \end{cases}"),
    # 𝟏, the vector of ones its product sizes: 𝟏ᵀeˣ a sum of entries (also 𝟏 and a subscript
    # size), 𝟏 − σ(…) and 𝟏 − Y the ones of the other side's shape, A𝟏𝟏ᵀ row sums broadcast
    # ("\mathbf{1} is not understood" before)
    (SOFTMAX, "1/gradient", r"\frac{1}{\mathbf{1}^\top e^{\boldsymbol{x}}} e^{\boldsymbol{x}}"),
    (SOFTMAX, "1/gradient", r"\frac{\exp(x)}{𝟏^T\exp(x)}"),
    (SOFTMAX, "1/gradient", r"\frac{e^{x}}{\mathbf{1}_n^\top e^{x}}"),
    (SOFTMAX, "3/gradient", r"-\frac{1}{m}\boldsymbol{X}^{T}\left(\boldsymbol{y} \odot \left(\mathbf{1} - \sigma(\boldsymbol{y} \odot \boldsymbol{X}\boldsymbol{w})\right)\right)"),
    # ... and 𝟙[M > 0], 𝕀(M > 0) of a matrix: the key's mask entry by entry (refused before:
    # "Heaviside() of … a matrix")
    (SOFTMAX, "6/gradient", r"\frac{1}{N}X^\top\left((\mathbf{1}-Y)\odot\mathbb{1}[M>0] - Y\odot\left(((\mathbf{1}-Y)\odot\mathbb{1}[M>0])\mathbf{1}\mathbf{1}^\top\right)\right) + 2\lambda W"),
    (SOFTMAX, "6/gradient", r"2\lambda W + \frac{1}{N}X^{T}\left(\mathbb{I}(M > 0) \odot (1 - Y) - Y \odot \left((\mathbb{I}(M > 0) \odot (1 - Y))\mathbf{1}\mathbf{1}^{T}\right)\right)"),
    # \boldsymbol{1} before a condition is the indicator, alone the vector of ones
    (SOFTMAX, "6/gradient", r"\frac{1}{N}X^\top\left((\boldsymbol{1}-Y)\odot\boldsymbol{1}\{M>0\} - Y\odot\left(((\boldsymbol{1}-Y)\odot\boldsymbol{1}\{M>0\})\boldsymbol{1}\boldsymbol{1}^\top\right)\right) + 2\lambda W"),
    # an implicit product binds tighter than ⊙: -y ⊙ Xw is -y ⊙ (Xw) (a shape mismatch before)
    (SOFTMAX, "3/gradient", r"-\frac{1}{m}X^\top(y \odot \sigma(-y \odot Xw))"),
    (SOFTMAX, "3/gradient", r"\frac{1}{m}X^T\left(y \odot (\sigma(y \odot Xw) - 1)\right)"),
    # a transpose after an accented name; ŷ of 2(a)'s statement in 2(b) ("for the same loss")
    (SOFTMAX, "2b/gradient", r"v_c \hat y^T - v_c y^T"),
    (SOFTMAX, "2b/gradient", r"v_c(\hat y - y)^T"),
    (SOFTMAX, "2b/gradient", r"$$\frac{\partial J}{\partial \boldsymbol{U}}=\boldsymbol{v}_c(\hat{\boldsymbol{y}}-\boldsymbol{y})^{\top}$$"),
]


# rows on the softmax keys cost a second or more each (softmax is compared at concrete sizes):
# the fast loop keeps the others, the full suite runs all
_COSTLY = {"matrix_softmax_logistic", "cs224n_word2vec"}


def _marked(rows):
    return [pytest.param(*row, marks=pytest.mark.slow) if row[0] in _COSTLY else row for row in rows]


@pytest.mark.parametrize("stem, label, text", _marked(RIGHT))
def test_right_answers_are_read(stem, label, text):
    outcome = judge(stem, label, text)
    assert outcome.verdict == "correct", feedback_text(outcome.feedback)


WRONG = [
    # the written-out sum with a wrong sign in its terms
    (CS224N, "2a/gradient",
     r"(\sigma(u_o^\top v_c) - 1)u_o - \sum_{k=1}^{2}\sigma(u_k^\top v_c)u_k",
     "differs from the key's answer entry by entry at a concrete size"),
    # wrong on one branch only: the Huber derivative with δ where x < y − δ (was accepted: no
    # sample point fell on that branch)
    (DSC, "1/huber.derivative",
     r"\begin{cases} x - y & |x - y| \le \delta \\ \delta & |x - y| > \delta \end{cases}",
     "right where δ + x - y > 0, but not where δ + x - y < 0: there the key's answer is -δ, "
     "not δ"),
    # the limit of the function itself, not of its derivative
    (CS231N, "1/silu.limit(+oo)", r"\infty",
     "this is the limit of SiLU itself at +∞, not of its derivative: the key's answer is 1"),
    (CS231N, "2/elu.limit(-oo)", r"-\alpha",
     "this is the limit of ELU itself at −∞, not of its derivative: the key's answer is 0"),
    (CS231N, "1/softsign.limit(+oo)", "1",
     "this is the limit of softsign itself at +∞, not of its derivative: the key's answer is 0"),
    (DSC, "2/logistic.limit(-oo)", r"\infty",
     "this is the limit of Logistic loss itself at −∞, not of its derivative: the key's "
     "answer is -1"),
    # a sign error in one term of a long sum names that term
    (CS231N, "1/silu.derivative", r"\sigma(x) - x\sigma(x)(1-\sigma(x))",
     "sign error in one term: the key's answer has xσ(x)(1 - σ(x)) where this has "
     "-xσ(x)(1 - σ(x))"),
    # the other limit, swapped; a case wrong on one side
    (CS231N, "3/swish.limit(-oo)", "1",
     "this is the limit at +∞, not at −∞: the two limits are swapped?"),
    (CS231N, "2/elu.derivative", r"\begin{cases} 1 & x > 0 \\ e^{x} & x \le 0 \end{cases}",
     "right where x > 0, but not where x < 0: there the key's answer is α·exp(x), not exp(x)"),
    # matrix expressions: a term missing, a term off by a factor or a sign, a transpose missing
    (CS229, "2/gradient", r"X^T(X\theta - y)",
     "a term is missing: the key's answer also has λθ"),
    (CS229, "1a/gradient", "Ax", "a term is missing: the key's answer also has Aᵀx"),
    (CS229, "2/gradient", r"X^T(X\theta - y) + \frac{\lambda}{2}\theta",
     "one term is off by a factor of 1/2: the key's answer has λθ where this has "
     "(λ/2)θ"),
    (CS229, "1b/gradient", r"2A^T A x + 2A^T b",
     "sign error in one term: the key's answer has -2Aᵀb where this has 2Aᵀb"),
    (CS229, "5/gradient", r"S^{-1}",
     "a transpose is missing: the key's answer has Sᵀ where this has S"),
    (CS229, "2/gradient", r"X^T(y - X\theta) + \lambda\theta", "sign error in one term"),
    (CS229, "4/gradient", r"\frac{2}{n}X^T(XW - Y)",
     "off by a constant factor: the key's answer is 1/2 times this"),
    (CS229, "1a/shape", "1 \\times n", "this is the transposed shape; the key's is n × 1"),
    (CS229, "4/shape", r"\mathbb{R}^{d}", "the key's shape is d × k"),
    (CS224N, "1/softmax.jacobian", r"\hat y \hat y^T - \operatorname{diag}(\hat y)",
     "sign error: every entry has the wrong sign"),
    (DSC, "3/conclusion", "q = 2\\mu", "not equivalent to the key's q = μ"),
    # the softmax key read with 𝟏, 𝟙[M > 0], ⊙ and ŷ as above, and still wrong
    (SOFTMAX, "6/gradient", r"\frac{1}{N}X^\top\left((\mathbf{1}-Y)\odot\mathbb{1}[M>0] - Y\odot\left(((\mathbf{1}-Y)\odot\mathbb{1}[M>0])\mathbf{1}\mathbf{1}^\top\right)\right) + \lambda W",
     "differs from the key's answer entry by entry at a concrete size"),
    (SOFTMAX, "6/gradient", r"\frac{1}{N}X^\top\left((\mathbf{1}-Y)\odot\mathbb{1}[M>0] + Y\odot\left(((\mathbf{1}-Y)\odot\mathbb{1}[M>0])\mathbf{1}\mathbf{1}^\top\right)\right) + 2\lambda W",
     "differs from the key's answer entry by entry at a concrete size"),
    (SOFTMAX, "3/gradient", r"\frac{1}{m}X^\top(y \odot \sigma(-y \odot Xw))",
     "sign error: this is the negative of the key's answer"),
    (SOFTMAX, "3/gradient", r"-\frac{1}{m}X^\top(y \odot \sigma(y \odot Xw))",
     "differs from the key's answer entry by entry at a concrete size"),
    # an explicit product groups with ⊙ from the left: (-y ⊙ X)·w
    (SOFTMAX, "3/gradient", r"-\frac{1}{m}X^\top(y \odot \sigma(-y \odot X \cdot w))",
     "shape mismatch in the entrywise product of -y and X: m×1 and m×n"),
    (SOFTMAX, "2b/gradient", r"v_c(y - \hat y)^T", "sign error: this is the negative of the key's answer"),
    (SOFTMAX, "2b/gradient", r"(\hat y - y)v_c^T", "this is the transpose of the key's answer"),
    (SOFTMAX, "2b/gradient", r"v_c \hat y^T",
     "differs from the key's answer entry by entry at a concrete size"),
    (SOFTMAX, "1/gradient", r"\log\operatorname{softmax}(\boldsymbol{x})",
     "differs from the key's answer entry by entry at a concrete size"),
]


@pytest.mark.parametrize("stem, label, text, feedback", _marked(WRONG))
def test_wrong_answers_get_a_teachers_feedback(stem, label, text, feedback):
    outcome = judge(stem, label, text)
    said = feedback_text(outcome.feedback)
    assert outcome.verdict == "incorrect"
    assert said.startswith(feedback), said


UNREADABLE = [
    # 𝟏 whose length nothing decides (𝟏𝟏ᵀeˣ: the first 𝟏's), or a subscript that is no size
    (SOFTMAX, "1/gradient", r"\mathbf{1}\mathbf{1}^\top e^{x}",
     "the length of the vector of ones 𝟏 cannot be decided from the product it is in: give it "
     "as a subscript (𝟏_n for n ones)"),
    (SOFTMAX, "1/gradient", r"\frac{e^x}{\mathbf{1}^\top\mathbf{1}}",
     "the length of the vector of ones 𝟏 cannot be decided from the product it is in: give it "
     "as a subscript (𝟏_n for n ones)"),
    (SOFTMAX, "1/gradient", r"\frac{e^x}{\mathbf{1}_m^\top e^x}",
     r"\mathbf{1}_m: m is not one of the key's sizes"),
    # in a scalar problem 𝟏 is no vector
    (DSC, "1/huber.derivative", r"\mathbf{1} - x", r"\mathbf{1} (a vector of ones) is not understood here"),
]


@pytest.mark.parametrize("stem, label, text, reason", _marked(UNREADABLE))
def test_undecided_ones_are_refused_with_the_reason(stem, label, text, reason):
    outcome = judge(stem, label, text)
    assert outcome.verdict == "unparseable"
    assert feedback_text(outcome.feedback) == reason


@pytest.mark.slow
def test_ones_and_entrywise_products_are_shown_in_the_readers_syntax():
    # SymPy's str wrote 𝟏ᵀeˣ as 1*exp(x) and ⊙ as HadamardProduct(…)
    from symderiv.check.report import plain

    got = judge(SOFTMAX, "1/gradient", r"\frac{e^{x}}{\mathbf{1}^\top e^{x}}").got
    assert plain(got) == "1/(ones(n).T*exp(x))*exp(x)"
    got = judge(SOFTMAX, "3/gradient", r"-\frac{1}{m}X^\top(y \odot (\mathbf{1} - \sigma(y \odot Xw)))").got
    assert plain(got) == "(-1/m)*X.T*(hadamard(-sigmoid(hadamard(X*w, y)) + ones(m), y))"
